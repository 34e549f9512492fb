"""Composition root of the coordination context."""
