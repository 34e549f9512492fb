"""Commands on positions, supervision lines and regional areas (part of the coordination app)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.coordination.cycle import CycleCommands
from contexts.coordination.domain import Organisation, OrganisationKind
from contexts.coordination.funding import (
    BAUSTEIN_OF,
    ForwardingContract,
    FundingNotice,
    PositionType,
    fte,
)
from contexts.coordination.positions import COORDINATION_POSITIONS_IN, Position, RegionalArea
from contexts.coordination.supervision import SupervisionFacts
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError, NotFound

TenantCheck = Callable[[str], None]
"""Raises unless the tenant key names a tenant this tenant may place positions in."""


class SupervisionScope(Protocol):
    """What a supervision line's rules ask beyond the position's own log. The service layer
    answers from the tenant directory and the coordination logs of a tenant and the tenants
    above it (a coordination position working in Rheine may live in Kreis Steinfurt's log),
    so every answer costs at most the depth of the hierarchy, never a scan of a log."""

    def is_above(self, tenant: str, below: str) -> bool:
        """``tenant`` is an ancestor of ``below``."""
        ...

    def coordinated(self, tenant: str) -> bool:
        """Coordination positions work in ``tenant`` (it has a coordination of its own)."""
        ...

    def coordination_position(self, position_id: UUID, post_tenant: str) -> Position | None:
        """The position in the coordination log of ``post_tenant`` or a tenant above it."""
        ...


class OwnLogScope:
    """The answers this log alone gives (no directory: no tenant counts as above another)."""

    def __init__(self, app: TenantApplication) -> None:
        self.app = app

    def is_above(self, tenant: str, below: str) -> bool:
        return False

    def coordinated(self, tenant: str) -> bool:
        return self.app.indexes.index_count(COORDINATION_POSITIONS_IN, tenant) > 0

    def coordination_position(self, position_id: UUID, post_tenant: str) -> Position | None:
        return position_in(self.app, position_id)


def position_in(app: TenantApplication, position_id: UUID) -> Position | None:
    """The position with this id in the app's log, or None (also for another aggregate)."""
    if position_id not in app.repository:
        return None
    try:
        return app.load(Position, position_id, "position")
    except NotFound:
        return None


class StaffingCommands(CycleCommands):
    def create_position(
        self,
        *,
        title: str,
        position_type: PositionType,
        fte_share: Decimal,
        employer_kind: str,
        employer: str,
        funding_kind: str,
        funding_id: UUID,
        work_tenant: str,
        regional_area_id: UUID | None = None,
        work_tenant_check: TenantCheck | None = None,
    ) -> list[Recording[UUID]]:
        share = fte(fte_share)
        if share <= 0:
            raise DomainError(
                "fte-not-positive", "the position's FTE must be positive", field="fte"
            )
        if funding_kind == "notice":
            notice = self.load(FundingNotice, funding_id, "funding notice")
            baustein = notice.baustein
        elif funding_kind == "contract":
            contract = self.load(ForwardingContract, funding_id, "forwarding contract")
            baustein = BAUSTEIN_OF[contract.position_type]
            if contract.position_type != PositionType(position_type):
                raise DomainError(
                    "position-type-differs-from-contract",
                    f"the contract forwards {contract.position_type} positions",
                    field="position_type",
                )
        else:
            raise DomainError(
                "unknown-funding-kind",
                "funding_kind is 'notice' or 'contract'",
                field="funding_kind",
            )
        if BAUSTEIN_OF[PositionType(position_type)] != baustein:
            raise DomainError(
                "position-type-not-in-baustein",
                f"{position_type} positions are not funded by Baustein {baustein}",
                field="position_type",
            )
        if employer_kind == "provider":
            try:
                employer_id = UUID(employer)
            except ValueError:
                raise DomainError(
                    "not-an-organisation-id",
                    f"{employer!r} is not an organisation id",
                    field="employer",
                ) from None
            org = self.load(Organisation, employer_id, "organisation")
            if org.kind != OrganisationKind.WELFARE_PROVIDER:
                raise DomainError(
                    "employer-not-a-provider",
                    f"{org.name} is not a welfare provider",
                    field="employer",
                )
        elif employer_kind != "tenant":
            raise DomainError(
                "unknown-employer-kind",
                "employer_kind is 'tenant' or 'provider'",
                field="employer_kind",
            )
        if work_tenant_check is not None:
            work_tenant_check(work_tenant)
        if regional_area_id is not None:
            self.load(RegionalArea, regional_area_id, "regional area")
        position = Position(
            title=title,
            position_type=PositionType(position_type).value,
            fte=str(share),
            employer_kind=employer_kind,
            employer=employer,
            funding_kind=funding_kind,
            funding_id=funding_id,
            work_tenant=work_tenant,
            regional_area_id=regional_area_id,
        )
        return self.save(position)

    def get_position(self, position_id: UUID) -> Position:
        return self.load(Position, position_id, "position")

    def start_staffing(
        self, position_id: UUID, *, staff_id: str, fte_share: Decimal, start: date
    ) -> list[Recording[UUID]]:
        position = self.get_position(position_id)
        position.start_staffing(staff_id, fte(fte_share), start)
        return self.save(position)

    def end_staffing(self, position_id: UUID, *, staff_id: str, end: date) -> list[Recording[UUID]]:
        position = self.get_position(position_id)
        position.end_staffing(staff_id, end)
        return self.save(position)

    def record_staff_cost(
        self, position_id: UUID, *, month: str, amount: Decimal
    ) -> list[Recording[UUID]]:
        position = self.get_position(position_id)
        position.record_cost(month, amount)
        return self.save(position)

    def record_year_cost(
        self, position_id: UUID, *, year: int, amount: Decimal
    ) -> list[Recording[UUID]]:
        """The employer reports the staff cost of a whole year (spread over the months by
        ``positions.spread_year_cost``)."""
        position = self.get_position(position_id)
        position.record_year_cost(year, amount)
        return self.save(position)

    def record_contribution(
        self,
        position_id: UUID,
        *,
        year: int,
        kind: str,
        contributor: str,
        source: str,
        amount: Decimal,
    ) -> list[Recording[UUID]]:
        """Own funds or third-party funds towards the position's cost in a year."""
        position = self.get_position(position_id)
        position.record_contribution(year, kind, contributor, source, amount)
        return self.save(position)

    def assign_supervision(
        self,
        position_id: UUID,
        *,
        post_tenant: str,
        valid_from: date,
        supervisor_position_id: UUID | None = None,
        scope: SupervisionScope | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """A supervision line from the post of ``post_tenant`` (and, if named, its
        coordination position); ``scope`` answers from beyond this log (default: this log)."""
        position = self.load_expecting(Position, position_id, "position", expected_version)
        where = scope or OwnLogScope(self)
        above = post_tenant != position.work_tenant and where.is_above(
            post_tenant, position.work_tenant
        )
        facts = SupervisionFacts(
            supervisor=(
                where.coordination_position(supervisor_position_id, post_tenant)
                if supervisor_position_id is not None
                else None
            ),
            post_above_work_tenant=above,
            work_tenant_coordinated=where.coordinated(position.work_tenant) if above else True,
        )
        position.assign_supervision(post_tenant, valid_from, supervisor_position_id, facts)
        return self.save(position)

    def end_supervision(
        self, position_id: UUID, *, valid_to: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        position = self.load_expecting(Position, position_id, "position", expected_version)
        position.end_supervision(valid_to)
        return self.save(position)

    # -- regional areas ---------------------------------------------------------------------
    def define_regional_area(
        self, *, name: str, towns: list[str], case_management_fte: Decimal
    ) -> list[Recording[UUID]]:
        if not towns:
            raise DomainError("no-towns", "a regional area covers at least one town", field="towns")
        if case_management_fte < 0:
            raise DomainError(
                "negative-share", "the FTE share cannot be negative", field="case_management_fte"
            )
        return self.save(
            RegionalArea(name=name, towns=towns, case_management_fte=str(fte(case_management_fte)))
        )

    def change_regional_share(
        self,
        area_id: UUID,
        *,
        case_management_fte: Decimal,
        reason: str,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        area = self.load_expecting(RegionalArea, area_id, "regional area", expected_version)
        area.change_share(str(fte(case_management_fte)), reason)
        return self.save(area)

    def get_regional_area(self, area_id: UUID) -> RegionalArea:
        return self.load(RegionalArea, area_id, "regional area")
