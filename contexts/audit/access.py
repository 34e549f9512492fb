"""Who audits which tenant: the one rule REST (``services/audit/router.py``) and GraphQL
(``gateway/access.py``) both ask.

An auditor reaches exactly the tenants the token's ``mandate`` names, neither those below
them nor, through the hierarchy, anything else; without a mandate, the auditor's own tenant
and those below it. Both the audited tenant and the auditor's own tenant must be
registered: an auditor of a tenant the platform does not know audits nothing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol

AUDITOR = "auditor"


class Registry(Protocol):
    """What the rule needs of the tenant registry (tenancy's ``TenantDirectory``)."""

    def get(self, key: str, /) -> object | None: ...

    def is_ancestor(self, ancestor: str, key: str, /) -> bool: ...


@dataclass(frozen=True)
class Refusal:
    rule: str
    detail: str


def audit_refusal(
    *,
    auditor_tenant: str,
    roles: Collection[str],
    mandate: Collection[str] | None,
    tenant: str,
    directory: Registry,
) -> Refusal | None:
    """Why the token may not audit ``tenant`` (None: it may)."""
    if AUDITOR not in roles:
        return Refusal("role-not-allowed", "this needs the role: auditor")
    if directory.get(tenant) is None:
        return Refusal("unknown-tenant", f"tenant {tenant!r} is not registered")
    if directory.get(auditor_tenant) is None:
        return Refusal(
            "unknown-auditor-tenant",
            f"the token's tenant {auditor_tenant!r} is not registered; it audits nothing",
        )
    if mandate is not None:
        if tenant not in mandate:
            return Refusal("outside-mandate", f"the audit mandate does not name {tenant}")
        return None
    if auditor_tenant != tenant and not directory.is_ancestor(auditor_tenant, tenant):
        return Refusal(
            "outside-mandate",
            f"without a mandate an auditor of {auditor_tenant} reaches only it and the"
            " tenants below it",
        )
    return None
