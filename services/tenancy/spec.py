"""Tenancy's spec: the registry of tenants (its log is the platform's own)."""

from __future__ import annotations

from fastapi import APIRouter

from services.spec import ContextSpec
from services.tenancy.demo import load_tenancy_demo


def _routers() -> list[APIRouter]:
    from services.tenancy.router import router

    return [router]


SPEC = ContextSpec("tenancy", _routers, demo=load_tenancy_demo)
