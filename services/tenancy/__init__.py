"""Composition root of the tenant registry (platform service)."""
