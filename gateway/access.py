"""Who may read what through the gateway (the read side's access rules).

- Figures (counts, caseloads, funding, gaps; no personal data): the tenant's own staff, and
  every tenant above it (a district sees its member towns' aggregates, the state programme
  all), for the roles in ``FIGURE_ROLES``.
- Case rows (pseudonymous facts of single cases): a case manager sees the cases of their
  position; a coordination post the cases of the positions it supervises; an auditor of the
  tenant or above sees all cases read-only with the person id replaced by an audit
  pseudonym. Nobody else sees case rows; no read model holds personal data at all.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from graphql import GraphQLError

from contexts.tenancy.contracts import TenantDirectory
from runtime.http.auth import Principal, Role

FIGURE_ROLES = {
    Role.DISTRICT_COORDINATOR,
    Role.COORDINATOR,
    Role.CASE_MANAGER,
    Role.STEERING_MEMBER,
    Role.AUDITOR,
}
COORDINATORS = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR}


class Forbidden(GraphQLError):
    """A deliberate refusal: shown to the client, not masked."""

    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


class BadInput(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT"})


class NotCaughtUp(GraphQLError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "NOT_CAUGHT_UP"})


def figure_tenants(
    principal: Principal, directory: TenantDirectory, tenant: str, include_members: bool
) -> list[str]:
    """The tenants whose figures this principal may read: ``tenant`` (and those below)."""
    if not principal.roles & FIGURE_ROLES:
        raise Forbidden(f"figures need one of the roles: {', '.join(sorted(FIGURE_ROLES))}")
    if directory.get(tenant) is None:
        raise Forbidden(f"unknown tenant {tenant!r}")
    if (
        principal.tenant != tenant
        and not directory.is_ancestor(principal.tenant, tenant)
        and not audits(principal, directory, tenant)
    ):
        raise Forbidden(f"a token of {principal.tenant} may not read figures of {tenant}")
    return [tenant, *directory.descendants(tenant)] if include_members else [tenant]


def audits(principal: Principal, directory: TenantDirectory, tenant: str) -> bool:
    """An auditor whose mandate names ``tenant``; without a mandate, an auditor of ``tenant``
    or of a tenant above it (the auditor role alone is not enough)."""
    if Role.AUDITOR not in principal.roles:
        return False
    if principal.mandate is not None:
        return tenant in principal.mandate
    return principal.tenant == tenant or directory.is_ancestor(principal.tenant, tenant)


def may_list_cases(principal: Principal, directory: TenantDirectory, tenant: str) -> None:
    """Refuse case rows to everyone but case managers, coordination posts and auditors."""
    if audits(principal, directory, tenant):
        return
    if Role.CASE_MANAGER in principal.roles and principal.tenant == tenant:
        if principal.position is None:
            raise Forbidden("a case manager's token needs the position claim to list cases")
        return
    if principal.roles & COORDINATORS:
        return  # filtered to the positions the post supervises
    raise Forbidden("case rows are for case managers, supervising posts and auditors")


def audit_pseudonym(secret: str, tenant: str, person_id: str) -> str:
    """A stable pseudonym for auditors that cannot be joined with the operative person id."""
    key = hashlib.sha256(f"kim-audit-pseudonyms:{secret}".encode()).digest()
    digest = hmac.new(key, f"{tenant}:{person_id}".encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:16]}"


def supervised_positions(
    principal: Principal, positions: Iterable[tuple[str, list[list[str | None]]]], day: str
) -> set[str]:
    """Ids of the positions ``principal``'s tenant supervises on ``day`` (ISO date)."""
    found = set()
    for position_id, lines in positions:
        for post, start, end in lines:
            if post == principal.tenant and str(start) <= day and (end is None or day <= end):
                found.add(position_id)
    return found
