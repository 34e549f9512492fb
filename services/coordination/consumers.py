"""What the coordination service consumes from other contexts."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from contexts.case_management import contracts as case_management
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.contracts import published_uuid
from contexts.coordination.gaps import CycleStep, LifeDimension
from contexts.shared.errors import NotFound
from contexts.steering import contracts as steering
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], CoordinationApplication]


class GapIntake(Intake):
    """Records gaps reported from cases as system gaps of the same tenant, and the
    descriptions the supervising post released for them.

    A report (``CaseGapReported``) gives the life dimension and the date; its description
    is sealed under the person's key and never read here. A release (``CaseGapReleased``)
    gives the reviewed description. Reports from before gap ids (contract version 1) carried
    their description in clear and are recorded as they were.

    Idempotent: the gap's id derives from the report (its gap id; the event id of a version
    1 report), so a redelivered report collides with the gap it already created, and a
    released description is set once. Positions are kept in memory; after a restart the
    consumer catches up from the case-management log and skips what exists.
    """

    name = "coordination-gap-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.case_management.>")
        self.app_for = app_for
        self.recorded = 0

    def handle(self, record: LogRecord) -> None:
        if record.event_type == case_management.GAP_REPORTED:
            data = json.loads(record.state)
            gap_id = published_uuid(data.get("gap_id"))
            app = self.app_for(record.tenant)
            dimension = LifeDimension(data["life_dimension"])
            reported_on = date.fromisoformat(str(data["reported_on"]))
            try:
                if gap_id is None:  # version 1: the description came in clear
                    app.record_gap(
                        life_dimension=dimension,
                        description=str(data["description"]),
                        reported_on=reported_on,
                        source="case_management",
                        source_event_id=record.event_id,
                    )
                else:
                    app.record_reported_gap(
                        life_dimension=dimension, reported_on=reported_on, report=str(gap_id)
                    )
                self.recorded += 1
            except IntegrityError:
                pass  # recorded before this redelivery
        elif record.event_type == case_management.GAP_RELEASED:
            data = json.loads(record.state)
            self.app_for(record.tenant).release_gap_description(
                report=str(published_uuid(data["gap_id"])),
                description=str(data["description"]),
                on=date.fromisoformat(str(data["released_on"])),
            )


STEERING_STEPS = {
    steering.RESOLUTION_PASSED: CycleStep.PLANNING_AND_STEERING,
    steering.IMPLEMENTATION_STARTED: CycleStep.IMPLEMENTATION,
    steering.EVALUATED: CycleStep.EVALUATION,
}
STEERING_NOTES = {
    steering.RESOLUTION_PASSED: "Beschlussempfehlung der Lenkungsgruppe",
    steering.IMPLEMENTATION_STARTED: "Umsetzung des Beschlusses begonnen",
    steering.EVALUATED: "Beschluss evaluiert",
}


class SteeringDecisions(Intake):
    """Moves a topic's strategic-cycle step on the steering group's decisions about it
    (``contexts.steering.contracts``; the events name the topic's tenant and id): passed ->
    planning and steering, follow-up tasks -> links of its service chain, implementation
    started -> implementation, evaluated -> evaluation (and readjustment when the group
    asks for it). Idempotent: a topic at the step or beyond stays, a link is added once."""

    name = "coordination-steering-decisions"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.steering.>")
        self.app_for = app_for

    def handle(self, record: LogRecord) -> None:
        kind = record.event_type
        if kind not in STEERING_STEPS and kind not in (steering.TASK_ASSIGNED, steering.TASK_DONE):
            return
        data = json.loads(record.state)
        if not data.get("topic_tenant") or not data.get("topic_id"):
            return  # an item from a member or a working group: no topic to move
        app = self.app_for(str(data["topic_tenant"]))
        topic = UUID(str(data["topic_id"]))
        try:
            app.get_topic(topic)
        except NotFound:
            return
        on = date.fromisoformat(str(data.get("on") or data.get("due_on")))
        if kind in STEERING_STEPS:
            app.steering_moved(topic, to=STEERING_STEPS[kind], on=on, note=STEERING_NOTES[kind])
            if kind == steering.EVALUATED and data.get("readjust"):
                app.steering_moved(topic, to=CycleStep.READJUSTMENT, on=on, note="Nachsteuerung")
        elif kind == steering.TASK_ASSIGNED:
            app.steering_task(topic, actor=str(data["owner_institution"]),
                              action=str(data["title"]), due=on, done_on=None)  # fmt: skip
        else:
            app.steering_task(topic, actor=str(data["owner_institution"]),
                              action=str(data["title"]), due=None, done_on=on)  # fmt: skip
