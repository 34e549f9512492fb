"""What the case-management service consumes from other contexts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from uuid import UUID

from contexts.case_management import contracts
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case
from contexts.coordination import contracts as coordination
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], CaseManagementApplication]


class PositionIntake(Intake):
    """Notes case-management positions where they work, and their supervision lines (with
    the supervising coordination position where a line names one).

    The position of "Lernen fördern" lives in Kreis Steinfurt's coordination log but works in
    Rheine, so Rheine's case management learns of it. Noting is idempotent (the position's
    id); positions are kept in memory and caught up from the log after a restart.
    """

    name = "case-management-position-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.coordination.>")
        self.app_for = app_for
        self.work_tenants: dict[UUID, str] = {}

    def handle(self, record: LogRecord) -> None:
        position_id = UUID(str(record.originator_id))
        if record.event_type == coordination.POSITION_CREATED:
            data = json.loads(record.state)
            if data.get("position_type") == "case_management":
                work_tenant = str(data["work_tenant"])
                self.work_tenants[position_id] = work_tenant
                self.app_for(work_tenant).note_position(
                    position_id, Decimal(str(data["fte"])), work_tenant
                )
        elif position_id in self.work_tenants and record.event_type in (
            coordination.SUPERVISION_ASSIGNED,
            coordination.SUPERVISION_ENDED,
        ):
            data = json.loads(record.state)
            app = self.app_for(self.work_tenants[position_id])
            assigned = record.event_type == coordination.SUPERVISION_ASSIGNED
            app.note_supervision(
                position_id,
                post_tenant=str(data.get("post_tenant", "")),
                valid_from=date.fromisoformat(data["valid_from"]) if assigned else None,
                valid_to=None if assigned else date.fromisoformat(data["valid_to"]),
                supervisor_position_id=coordination.published_uuid(
                    data.get("supervisor_position_id")
                ),
            )


class TransferIntake(Intake):
    """Takes over cases handed over to a tenant when a person moves (``CaseHandedOver``).

    The origin's log holds its part (the case closed as transferred), the destination's log
    its own (a new person record and case). Idempotent: the destination's ids derive from
    the origin's case.
    """

    name = "case-management-transfer-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.case_management.>")
        self.app_for = app_for
        self.taken_over = 0

    def handle(self, record: LogRecord) -> None:
        if record.event_type == contracts.HANDED_OVER:
            origin = self.app_for(record.tenant)
            event = origin.mapper.to_domain_event(record.to_stored_event())
            assert isinstance(event, Case.HandedOver)
            destination = self.app_for(event.to_tenant)
            if destination.take_over(
                from_tenant=record.tenant,
                from_case=UUID(str(record.originator_id)),
                transfer_id=event.transfer_id,
                referral_source=event.referral_source,
                summary=event.summary,
                sealed=event.sealed_for_destination,
                on=date.fromisoformat(event.on),
            ):
                self.taken_over += 1
