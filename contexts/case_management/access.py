"""Who may see and do what in case management: pure functions of the caller and the facts.

The one place of these rules. The REST edge (``services/case_management/access.py``), the
GraphQL case rows (``gateway/case_management.py``) and the application's own checks call
them; each gathers the facts (the case's tenant, its assigned position, the post supervising
that position on the day, who registered the person) and asks here.

- Personal data: only the case manager of the assigned position (token claim ``position``)
  in the case's tenant, and the coordination post supervising that position on the day
  (Fachaufsicht).
- Case facts (pseudonymous): the tenant's case managers and coordinators, and the
  supervising post (which may be another tenant: Kreis Steinfurt supervises a provider's
  position working in Rheine).
- Case rows on the read side: an auditor of the tenant sees all of them, pseudonymised; a
  case manager those of the own position; a coordination post those of the positions it
  supervises.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

CASE_MANAGER = "case_manager"
COORDINATORS = frozenset({"coordinator", "district_coordinator"})
STAFF = frozenset({CASE_MANAGER, *COORDINATORS})


@dataclass(frozen=True)
class Caller:
    """Who asks, as the token says: tenant, roles, and a case manager's position."""

    tenant: str
    roles: frozenset[str]
    position: UUID | None = None

    @property
    def coordinates(self) -> bool:
        return bool(self.roles & COORDINATORS)


def is_staff_of(caller: Caller, tenant: str) -> bool:
    return caller.tenant == tenant and bool(caller.roles & STAFF)


def works_on(caller: Caller, case_tenant: str, assigned: UUID | None) -> bool:
    """The case manager of the position the case is assigned to, in the case's tenant."""
    return (
        CASE_MANAGER in caller.roles
        and caller.tenant == case_tenant
        and assigned is not None
        and caller.position == assigned
    )


def supervises(caller: Caller, supervising_post: str | None) -> bool:
    """A coordinator of the post supervising the case's position on the day."""
    return caller.coordinates and supervising_post is not None and supervising_post == caller.tenant


def reads_case(caller: Caller, case_tenant: str, supervising_post: str | None) -> bool:
    """Case facts (no personal data): the tenant's staff and the supervising post."""
    return is_staff_of(caller, case_tenant) or supervises(caller, supervising_post)


def sees_personal_data(
    caller: Caller, case_tenant: str, assigned: UUID | None, supervising_post: str | None
) -> bool:
    """A case's personal data: its assigned position's case manager and supervising post."""
    if assigned is None:
        return False
    return works_on(caller, case_tenant, assigned) or supervises(caller, supervising_post)


def sees_person(
    caller: Caller,
    tenant: str,
    registered_by: UUID | None,
    cases: Iterable[tuple[UUID | None, str | None]],
) -> bool:
    """A person's data: whoever sees one of their cases' (assigned position, supervising
    post); before any case, the case manager whose position registered them."""
    if (
        CASE_MANAGER in caller.roles
        and caller.tenant == tenant
        and caller.position is not None
        and registered_by == caller.position
    ):
        return True
    return any(sees_personal_data(caller, tenant, a, post) for a, post in cases)


def supervised_by(
    post_tenant: str, positions: Iterable[tuple[str, list[list[str | None]]]], day: str
) -> set[str]:
    """Ids of the positions whose supervision line names ``post_tenant`` on ``day`` (ISO);
    ``positions`` are (id, [[post, from, to], ...]) as the read model keeps them."""
    found = set()
    for position_id, lines in positions:
        for post, start, end in lines:
            if post == post_tenant and str(start) <= day and (end is None or day <= end):
                found.add(position_id)
    return found


def case_rows_refusal(caller: Caller, tenant: str, *, audits: bool) -> str | None:
    """Why the caller gets no case rows of ``tenant`` at all (None: they get some)."""
    if audits or caller.coordinates:
        return None  # coordinators: filtered to what they supervise
    if CASE_MANAGER in caller.roles and caller.tenant == tenant:
        if caller.position is None:
            return "a case manager's token needs the position claim to list cases"
        return None
    return "case rows are for case managers, supervising posts and auditors"


@dataclass(frozen=True)
class RowScope:
    """Which case rows of a tenant a caller sees on the read side."""

    positions: frozenset[str] | None  # ids of positions whose cases are seen; None: all cases
    unassigned: bool = False  # also the cases no position has yet (to be assigned)
    pseudonymised: bool = False  # person ids replaced by audit pseudonyms

    def position_filter(self) -> list[str | None] | None:
        """The position ids to match (``None`` in it: unassigned), or None for all rows."""
        if self.positions is None:
            return None
        return [*sorted(self.positions), *([None] if self.unassigned else [])]


def case_rows_scope(
    caller: Caller, tenant: str, *, audits: bool, supervised: Iterable[str]
) -> RowScope:
    """The case rows the caller sees in ``tenant``, whether on REST or GraphQL.

    ``audits``: the caller audits the tenant (all rows, pseudonymised); ``supervised``:
    ids of the positions the caller's tenant supervises today. A case manager sees the own
    position's cases; a coordination post the supervised positions' cases and, in its own
    tenant, the cases not assigned yet (it assigns them, e.g. after a transfer).
    """
    if audits:
        return RowScope(None, pseudonymised=True)
    if CASE_MANAGER in caller.roles and caller.tenant == tenant:
        return RowScope(frozenset({str(caller.position)}))
    if caller.coordinates:
        return RowScope(frozenset(supervised), unassigned=caller.tenant == tenant)
    return RowScope(frozenset())
