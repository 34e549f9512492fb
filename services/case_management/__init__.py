"""Composition root of the case-management context."""
