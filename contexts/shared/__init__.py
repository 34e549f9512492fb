"""Shared kernel of the bounded contexts: error types and the tenant-bound application base."""
