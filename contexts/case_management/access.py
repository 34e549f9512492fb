"""Who may see and do what in case management: pure functions of the caller and the facts.

The one place of these rules. The REST edge (``services/case_management/access.py``), the
GraphQL case rows (``gateway/case_management.py``) and the application's own checks call
them; each gathers the facts (the case's tenant, its assigned position, the post supervising
that position on the day, who registered the person) and asks here.

- The supervisor of a position on a day (Fachaufsicht, coordination's supervision line): a
  coordination post and, where the line names one, its coordination position. A line that
  names a position is followed by that position's coordinator only (token claim
  ``position``, their own coordination position); a line without one (older data) by every
  coordinator of the post.
- Personal data: only the case manager of the assigned position (token claim ``position``)
  in the case's tenant, and the supervisor of that position on the day.
- Case facts (pseudonymous), on a need-to-know basis, one case or a list alike: the case
  manager of the assigned position; the supervisor of that position (which may be another
  tenant: Kreis Steinfurt supervises a position working in Emsdetten, a member town without
  a coordination of its own); and, while no position has the case (a case taken over from
  another tenant arrives so), the coordinators of its tenant, whose post assigns it.
- Case rows on the read side: an auditor of the tenant sees all of them, pseudonymised; a
  case manager those of the own position; a coordinator those of the positions they
  supervise and, in the own tenant, the unassigned ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

CASE_MANAGER = "case_manager"
COORDINATORS = frozenset({"coordinator", "district_coordinator"})
STAFF = frozenset({CASE_MANAGER, *COORDINATORS})


@dataclass(frozen=True)
class Caller:
    """Who asks, as the token says: tenant, roles, and the position they work on (a case
    manager's case-management position, a coordinator's coordination position)."""

    tenant: str
    roles: frozenset[str]
    position: UUID | None = None

    @property
    def coordinates(self) -> bool:
        return bool(self.roles & COORDINATORS)


def works_on(caller: Caller, case_tenant: str, assigned: UUID | None) -> bool:
    """The case manager of the position the case is assigned to, in the case's tenant."""
    return (
        CASE_MANAGER in caller.roles
        and caller.tenant == case_tenant
        and assigned is not None
        and caller.position == assigned
    )


@dataclass(frozen=True)
class Supervisor:
    """Who supervises a position on a day: the post's tenant and, where the supervision line
    names one, the supervising coordination position (None: any coordinator of the post)."""

    post: str
    position: UUID | None = None

    def __str__(self) -> str:
        return self.post if self.position is None else f"{self.post}, position {self.position}"


def is_supervisor(supervisor: Supervisor | None, tenant: str, position: UUID | None) -> bool:
    """``tenant``'s post supervises, and where the line names a coordination position,
    ``position`` is that one."""
    return (
        supervisor is not None
        and supervisor.post == tenant
        and (supervisor.position is None or supervisor.position == position)
    )


def supervises(caller: Caller, supervisor: Supervisor | None) -> bool:
    """A coordinator of the supervising post, with the supervising position where named."""
    return caller.coordinates and is_supervisor(supervisor, caller.tenant, caller.position)


def post_of_unassigned(caller: Caller, case_tenant: str, assigned: UUID | None) -> bool:
    """A coordinator of the case's tenant, while no position has the case: the post assigns it."""
    return assigned is None and caller.coordinates and caller.tenant == case_tenant


def reads_case(
    caller: Caller, case_tenant: str, assigned: UUID | None, supervisor: Supervisor | None
) -> bool:
    """One case's facts (no personal data), need to know: the case manager of the assigned
    position, the supervisor of that position, and, while the case is unassigned, the
    coordinators of its tenant. The same as ``case_rows_scope`` for lists."""
    return (
        works_on(caller, case_tenant, assigned)
        or (assigned is not None and supervises(caller, supervisor))
        or post_of_unassigned(caller, case_tenant, assigned)
    )


def assigns_case(
    caller: Caller, case_tenant: str, assigned: UUID | None, supervisor: Supervisor | None
) -> bool:
    """(Re)assigning a case: a coordinator of its tenant who reads it (the supervisor of its
    position; any of the post while it is unassigned), or the case manager of the assigned
    position handing it to a colleague. No case manager takes an unassigned case."""
    if caller.coordinates:
        return caller.tenant == case_tenant and reads_case(
            caller, case_tenant, assigned, supervisor
        )
    return works_on(caller, case_tenant, assigned)


def sees_personal_data(
    caller: Caller, case_tenant: str, assigned: UUID | None, supervisor: Supervisor | None
) -> bool:
    """A case's personal data: its assigned position's case manager and its supervisor."""
    if assigned is None:
        return False
    return works_on(caller, case_tenant, assigned) or supervises(caller, supervisor)


def sees_person(
    caller: Caller,
    tenant: str,
    registered_by: UUID | None,
    cases: Iterable[tuple[UUID | None, Supervisor | None]],
) -> bool:
    """A person's data: whoever sees one of their cases' (assigned position, supervisor);
    before any case, the case manager whose position registered them."""
    if (
        CASE_MANAGER in caller.roles
        and caller.tenant == tenant
        and caller.position is not None
        and registered_by == caller.position
    ):
        return True
    return any(sees_personal_data(caller, tenant, a, sup) for a, sup in cases)


def _line(row: Any) -> tuple[Supervisor, str, str | None]:
    """One supervision line as the read model keeps it: the known position's line as a
    document ({"post", "position", "valid_from", "valid_to"}); older rows [post, from, to]."""
    if isinstance(row, dict):
        position = row.get("position")
        supervisor = Supervisor(str(row["post"]), UUID(str(position)) if position else None)
        return supervisor, str(row["valid_from"]), row.get("valid_to")
    post, start, end = row
    return Supervisor(str(post)), str(start), end


def supervised_by(caller: Caller, positions: Iterable[tuple[str, list[Any]]], day: str) -> set[str]:
    """Ids of the positions the caller supervises on ``day`` (ISO); ``positions`` are (id,
    supervision lines) as the read model keeps the known positions."""
    found = set()
    for position_id, lines in positions:
        for row in lines:
            supervisor, start, end = _line(row)
            if start <= day and (end is None or day <= end) and supervises(caller, supervisor):
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
    ids of the positions the caller supervises today (``supervised_by``). A case manager
    sees the own position's cases; a coordinator the supervised positions' cases and, in
    the own tenant, the cases not assigned yet (the post assigns them, e.g. after a
    transfer).
    """
    if audits:
        return RowScope(None, pseudonymised=True)
    if CASE_MANAGER in caller.roles and caller.tenant == tenant:
        return RowScope(frozenset({str(caller.position)}))
    if caller.coordinates:
        return RowScope(frozenset(supervised), unassigned=caller.tenant == tenant)
    return RowScope(frozenset())
