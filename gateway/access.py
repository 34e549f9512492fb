"""Who may read what through the gateway (the read side's access rules).

- Figures (counts, caseloads, funding, gaps; no personal data): the tenant's own staff, and
  every tenant above it (a district sees its member towns' aggregates, the state programme
  all), for the roles in ``FIGURE_ROLES``.
- A tenant's view of the positions working in it (``town_view_tenants``): the tenant's
  figures, read from its own log and from those of the tenants above it.
- Case rows (pseudonymous facts of single cases): the rules are case management's own
  (``contexts/case_management/access.py``, shared with REST); here only who audits a tenant
  and the pseudonyms auditors see. No read model holds personal data at all.
"""

from __future__ import annotations

import hashlib
import hmac

from graphql import GraphQLError

from contexts.audit.access import audit_refusal
from contexts.case_management.access import Caller, case_rows_refusal
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
    """The tenants whose figures this principal may read: ``tenant`` (and those below).

    Staff read their own tenant's figures and those of the tenants below it; an auditor
    exactly the tenants the audit mandate names (``audits``, as on REST), so with
    ``includeMembers`` every tenant below must be named as well.
    """
    if not principal.roles & FIGURE_ROLES:
        raise Forbidden(f"figures need one of the roles: {', '.join(sorted(FIGURE_ROLES))}")
    if directory.get(tenant) is None:
        # The same answer as for a tenant one may not read: no test of who is registered.
        raise Forbidden(f"a token of {principal.tenant} may not read figures of {tenant}")
    wanted = [tenant, *directory.descendants(tenant)] if include_members else [tenant]
    for t in wanted:
        if not reads_figures(principal, directory, t):
            raise Forbidden(f"a token of {principal.tenant} may not read figures of {t}")
    return wanted


def reads_figures(principal: Principal, directory: TenantDirectory, tenant: str) -> bool:
    """Staff of ``tenant`` or of a tenant above it, or an auditor of ``tenant``: the
    hierarchy grants nothing to the auditor role (the mandate decides)."""
    staff = principal.roles & (FIGURE_ROLES - {Role.AUDITOR})
    if staff and (principal.tenant == tenant or directory.is_ancestor(principal.tenant, tenant)):
        return True
    return audits(principal, directory, tenant)


def town_view_tenants(principal: Principal, directory: TenantDirectory, tenant: str) -> list[str]:
    """Whose coordination rows show the positions working in ``tenant``: its own and those of
    the tenants above it (a district's log holds the provider positions working in its member
    towns), nearest first, bounded by the depth of the hierarchy.

    They are ``tenant``'s figures: whoever may read those (``figure_tenants``) reads them, the
    town's own staff included, although another tenant's log holds them. Of the rows of the
    tenants above, only positions working in ``tenant`` (with the contract or notice funding
    them) may be shown, never any other record of theirs; no personal data is in them.
    """
    figure_tenants(principal, directory, tenant, include_members=False)
    return [tenant, *directory.ancestors(tenant)]


def audits(principal: Principal, directory: TenantDirectory, tenant: str) -> bool:
    """An auditor whose mandate names ``tenant``; without a mandate, an auditor of ``tenant``
    or of a tenant above it (the auditor role alone is not enough). The rule of REST
    (``contexts/audit/access.py``)."""
    if Role.AUDITOR not in principal.roles:
        return False
    refusal = audit_refusal(
        auditor_tenant=principal.tenant,
        roles={r.value for r in principal.roles},
        mandate=principal.mandate,
        tenant=tenant,
        directory=directory,
    )
    return refusal is None


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.tenant, frozenset(r.value for r in principal.roles), principal.position)


def may_list_cases(principal: Principal, directory: TenantDirectory, tenant: str) -> None:
    """Refuse case rows to everyone but case managers, coordination posts and auditors."""
    refusal = case_rows_refusal(
        caller_of(principal), tenant, audits=audits(principal, directory, tenant)
    )
    if refusal is not None:
        raise Forbidden(refusal)


def sees_no_rows_elsewhere(
    principal: Principal, directory: TenantDirectory, tenant: str, supervised: set[str]
) -> bool:
    """A coordinator asking another tenant's case rows without supervising any position
    there: nothing to see, so no wait for that tenant's log (whose position is not theirs)."""
    return (
        principal.tenant != tenant
        and not audits(principal, directory, tenant)
        and not supervised
        and Role.CASE_MANAGER not in principal.roles
    )


def audit_pseudonym(secret: str, tenant: str, person_id: str) -> str:
    """A stable pseudonym for auditors that cannot be joined with the operative person id.

    ``secret`` is the pseudonyms' own (``KIM_AUDIT_PSEUDONYM_SECRET``), never the JWT
    secret: whoever knows it can join pseudonyms with person ids. A production process does
    not start without it (``runtime.settings.check_production``).
    """
    key = hashlib.sha256(f"kim-audit-pseudonyms:{secret}".encode()).digest()
    digest = hmac.new(key, f"{tenant}:{person_id}".encode(), hashlib.sha256).hexdigest()
    return f"P-{digest[:16]}"
