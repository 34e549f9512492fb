"""Audit and grant accountability: Verwendungsnachweis, auditor access, audit export."""
