"""What the steering context consumes: the topics coordination posts submit to the steering
group (``GapTopicSubmittedToSteering``, ``contexts.coordination.contracts``).

Each becomes a ``Submission`` in the submitting tenant's steering log (id derived from the
event, so a redelivery finds it recorded); a group of that tenant, or one the tenant is a
member of, puts it on a meeting's agenda.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from contexts.coordination import contracts as coordination
from contexts.steering.application import SteeringApplication
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], SteeringApplication]


class SubmissionIntake(Intake):
    name = "steering-submission-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.coordination.>")
        self.app_for = app_for

    def handle(self, record: LogRecord) -> None:
        if record.event_type != coordination.TOPIC_SUBMITTED_TO_STEERING:
            return
        data = json.loads(record.state)
        self.app_for(record.tenant).receive_submission(
            topic_id=str(record.originator_id),
            summary=str(data["summary"]),
            on=date.fromisoformat(str(data["on"])),
            event_id=record.event_id,
        )
