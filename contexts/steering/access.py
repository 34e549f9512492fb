"""Who may see and do what in the steering context: pure functions of the caller and facts.

- The group's coordination post (``coordinator`` or ``district_coordinator`` with a token of
  the group's tenant) invites, prepares, moderates and writes the minutes: it runs every
  command of its tenant's groups and reads their papers.
- A member reads the papers of the group (meetings, agendas, minutes, resolutions, working
  groups) and casts its own vote, whatever its home tenant: a token of the member's
  ``member_tenant`` that names the member's representative, as token subject (``sub``) or as
  position (``position``), acts for the member. What it reads follows the group, not its
  home tenant. A member who left (``valid_until`` before today) reads no more.
- The coordination post of a tenant whose submissions a group takes (its own, or a tenant
  that is a member) chooses case timelines for the group's working groups.
- Figures (counts of meetings, resolutions by status) are for the coordination and steering
  roles of the tenant and above, and for auditors. No paper carries personal data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from contexts.steering.group import Member
from contexts.tenancy.contracts import TenantDirectory

POST = frozenset({"coordinator", "district_coordinator"})
FIGURE_ROLES = frozenset({*POST, "steering_member"})


@dataclass(frozen=True)
class Caller:
    tenant: str
    roles: frozenset[str]
    subject: str
    position: UUID | None = None


def runs_group(caller: Caller, group_tenant: str) -> bool:
    """The group's coordination post."""
    return caller.tenant == group_tenant and bool(caller.roles & POST)


def represents(caller: Caller, member: Member) -> bool:
    """The caller's token acts for ``member``: its tenant and its subject or position."""
    if caller.tenant != member.member_tenant:
        return False
    if member.subject is not None and member.subject == caller.subject:
        return True
    return member.position_id is not None and member.position_id == str(caller.position)


def members_represented(caller: Caller, members: Iterable[Member], today: date) -> list[Member]:
    """The members of a group the caller acts for today."""
    return [m for m in members if m.active_on(today) and represents(caller, m)]


def reads_group(caller: Caller, group_tenant: str, members: Iterable[Member], today: date) -> bool:
    """Reads the group's papers: its post, or a member (of any tenant)."""
    return runs_group(caller, group_tenant) or bool(members_represented(caller, members, today))


def group_refusal(
    caller: Caller, group_tenant: str, members: Iterable[Member], today: date
) -> str | None:
    if reads_group(caller, group_tenant, members, today):
        return None
    return "the group's papers are for its coordination post and its members"


def post_refusal(caller: Caller, group_tenant: str) -> str | None:
    """Why the caller may not run ``group_tenant``'s steering groups (None: may)."""
    if not caller.roles & POST:
        return "the steering group is run by the coordination post (coordinator roles)"
    if caller.tenant != group_tenant:
        return f"a token of {caller.tenant} may not run the steering groups of {group_tenant}"
    return None


def vote_refusal(caller: Caller, group_tenant: str, member: Member, today: date) -> str | None:
    """A vote is cast by the member (its representative's token) or recorded by the post."""
    if runs_group(caller, group_tenant) or (member.active_on(today) and represents(caller, member)):
        return None
    return "a vote is cast by the member itself or recorded by the group's coordination post"


def chooses_timelines(caller: Caller, case_tenant: str, group_tenant: str,
                      member_tenants: Iterable[str]) -> bool:  # fmt: skip
    """The post of the cases' tenant, for a group of its own or one its tenant sits in."""
    if caller.tenant != case_tenant or not caller.roles & POST:
        return False
    return case_tenant == group_tenant or case_tenant in set(member_tenants)


def reads_figures(
    caller: Caller, directory: TenantDirectory, tenant: str, *, audits: bool = False
) -> bool:
    if audits:
        return True
    if not caller.roles & FIGURE_ROLES:
        return False
    return caller.tenant == tenant or directory.is_ancestor(caller.tenant, tenant)


def lists_groups(caller: Caller, tenant: str) -> bool:
    """The list of a tenant's groups: its post, and steering members (any tenant; each
    row is shown only to who reads that group)."""
    return (
        runs_group(caller, tenant) or "steering_member" in caller.roles or bool(caller.roles & POST)
    )
