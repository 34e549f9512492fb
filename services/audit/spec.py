"""Audit's spec: statements for auditors, verification, the log of auditors' queries."""

from __future__ import annotations

from fastapi import APIRouter

from services.audit.cli import add_audit_parser
from services.spec import ContextSpec


def _routers() -> list[APIRouter]:
    from services.audit.router import router

    return [router]


SPEC = ContextSpec("audit", _routers, cli=add_audit_parser)
