"""Who may see and do what in the immigration office: pure functions of the caller.

- The office's staff (role ``immigration_officer`` with a token of the office's tenant) see
  and act on their office's people and procedures, personal data included.
- Districts and the state programme see figures only: the office's tenant and every tenant
  above it, for the officers and for the coordination and steering roles; auditors as
  their mandate says. No read model of this context holds personal data.
- Case managers see nothing of the office's procedures (not even its figures); what the
  office shares with case management goes through contract events, with consent.
"""

from __future__ import annotations

from dataclasses import dataclass

from contexts.tenancy.contracts import TenantDirectory

OFFICER = "immigration_officer"
FIGURE_ROLES = frozenset({OFFICER, "coordinator", "district_coordinator", "steering_member"})
"""Roles that read the office's figures (of their tenant and the tenants below it)."""


@dataclass(frozen=True)
class Caller:
    tenant: str
    roles: frozenset[str]


def works_in_office(caller: Caller, tenant: str) -> bool:
    """Sees and acts on ``tenant``'s procedures and people."""
    return caller.tenant == tenant and OFFICER in caller.roles


def office_refusal(caller: Caller, tenant: str) -> str | None:
    """Why the caller may not work on ``tenant``'s procedures (None: may)."""
    if OFFICER not in caller.roles:
        return f"the office's procedures need the role {OFFICER}"
    if caller.tenant != tenant:
        return f"a token of {caller.tenant} may not act on the office of {tenant}"
    return None


def reads_figures(
    caller: Caller, directory: TenantDirectory, tenant: str, *, audits: bool = False
) -> bool:
    """The office's figures of ``tenant``: staff of it or above it in the roles that read
    figures, or an auditor whose mandate covers it (``audits``, decided by the audit rules)."""
    if audits:
        return True
    if not caller.roles & FIGURE_ROLES:
        return False
    return caller.tenant == tenant or directory.is_ancestor(caller.tenant, tenant)


def figure_refusal(
    caller: Caller, directory: TenantDirectory, tenants: list[str], *, audits: set[str]
) -> str | None:
    """Why the caller may not read the figures of ``tenants`` (None: may)."""
    for t in tenants:
        if directory.get(t) is None or not reads_figures(caller, directory, t, audits=t in audits):
            return f"a token of {caller.tenant} may not read the office figures of {t}"
    return None
