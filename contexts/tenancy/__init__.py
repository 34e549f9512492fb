"""Tenancy: the platform's registry of tenants and their hierarchy (a platform stream)."""
