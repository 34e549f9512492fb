"""Audit: who looked at what (auditor access), per audited tenant."""
