"""What the coordination service consumes from other contexts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from eventsourcing.persistence import IntegrityError

from contexts.case_management import contracts as case_management
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import LifeDimension
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], CoordinationApplication]


class GapIntake(Intake):
    """Records gaps reported from cases as system gaps of the same tenant.

    Idempotent: the gap's id derives from the report's event id, so a redelivered report
    collides with the gap it already created. Positions are kept in memory; after a
    restart the consumer catches up from the case-management log and skips what exists.
    """

    name = "coordination-gap-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.case_management.>")
        self.app_for = app_for
        self.recorded = 0

    def handle(self, record: LogRecord) -> None:
        if record.event_type == case_management.GAP_REPORTED:
            data = json.loads(record.state)
            try:
                self.app_for(record.tenant).record_gap(
                    life_dimension=LifeDimension(data["life_dimension"]),
                    description=str(data["description"]),
                    reported_on=date.fromisoformat(str(data["reported_on"])),
                    source="case_management",
                    source_event_id=record.event_id,
                )
                self.recorded += 1
            except IntegrityError:
                pass  # recorded before this redelivery
