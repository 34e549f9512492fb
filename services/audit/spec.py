"""Audit's spec: statements for auditors, verification, the tenant's audit log (auditors'
queries, reads of personal data)."""

from __future__ import annotations

from fastapi import APIRouter

from contexts.audit.application import AuditApplication
from runtime.platform import Platform
from services.audit.cli import add_audit_parser
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.audit.router import router

    return [router]


def application(platform: Platform, tenant: str) -> AuditApplication:
    """The tenant's audit log (``kim reindex`` rebuilds its index of reads by person)."""
    return platform.app(AuditApplication, tenant)


SPEC = ContextSpec("audit", _routers, application=application, cli=add_audit_parser)
