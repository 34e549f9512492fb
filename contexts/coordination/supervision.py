"""Supervision lines (Fachaufsicht) of positions: the line, and the rules that need facts
from beyond the position's own log (which the service layer gathers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from contexts.coordination.funding import PositionType
from contexts.shared.errors import DomainError

if TYPE_CHECKING:
    from contexts.coordination.positions import Position


@dataclass(frozen=True)
class Supervision:
    post_tenant: str
    valid_from: date
    valid_to: date | None
    supervisor_position_id: UUID | None = None  # None (older lines): any coordinator of the post

    def active_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


COORDINATION_POSITIONS_IN = "coordination_positions_in"
"""Index: the coordination positions working in a tenant (key: the work tenant's key)."""


@dataclass(frozen=True)
class SupervisionFacts:
    """What a supervision line's rules need from beyond the position's own log, as the
    service layer found it (tenant directory, coordination logs of the tenants above).
    Without them only the work tenant's own post may supervise."""

    supervisor: Position | None = None  # the named supervising position, if it was found
    post_above_work_tenant: bool = False  # the post's tenant lies above the work tenant
    work_tenant_coordinated: bool = True  # coordination positions work in the work tenant


def check_supervisor(position_id: UUID, post_tenant: str, found: Position | None) -> None:
    """The supervising position exists, is a coordination position and works in the post's
    tenant (Rheine's "Koordinierungsstelle KIM Stadt Rheine" for Rheine's post)."""
    if found is None or found.id != position_id:
        raise DomainError(
            "supervisor-position-unknown",
            f"no position {position_id} is known in the coordination of {post_tenant}"
            " or the tenants above it",
            field="supervisor_position_id",
        )
    if found.position_type != PositionType.COORDINATION:
        raise DomainError(
            "supervisor-not-coordination",
            f"{found.title} is a {found.position_type} position; a coordination position"
            " supervises",
            field="supervisor_position_id",
        )
    if found.work_tenant != post_tenant:
        raise DomainError(
            "supervisor-works-elsewhere",
            f"{found.title} works in {found.work_tenant}, not in {post_tenant}",
            field="supervisor_position_id",
        )
