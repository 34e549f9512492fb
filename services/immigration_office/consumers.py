"""What the immigration office consumes from case management: the answers to its referrals
and the achievements shared under the person's consent (``contexts.case_management.contracts``).
Idempotent: a redelivered answer or achievement finds itself recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from uuid import UUID

from contexts.case_management import contracts as case_management
from contexts.immigration_office import contracts
from contexts.immigration_office.application import ImmigrationOfficeApplication
from contexts.immigration_office.domain import Procedure
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], ImmigrationOfficeApplication]
ANSWERS = {case_management.INTAKE_ACCEPTED: True, case_management.INTAKE_DECLINED: False}


class CaseManagementAnswers(Intake):
    name = "immigration-office-referral-answers"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.case_management.>")
        self.app_for = app_for

    def handle(self, record: LogRecord) -> None:
        if record.event_type in ANSWERS:
            data = json.loads(record.state)
            self.app_for(str(data["office"])).referral_answered(
                str(data["referral_id"]),
                accepted=ANSWERS[record.event_type],
                reason=data.get("reason"),
                on=date.fromisoformat(data["on"]),
            )
        elif record.event_type == case_management.INTAKE_ACHIEVEMENT_SHARED:
            data = json.loads(record.state)
            self.app_for(str(data["office"])).achievement_shared(
                str(data["referral_id"]),
                kind=str(data["kind"]),
                level=data.get("level"),
                achieved_on=date.fromisoformat(data["achieved_on"]),
            )


class ProcedureHandOverIntake(Intake):
    """The destination's office takes over a procedure handed over to it when a person moved
    (``ProcedureHandedOver``): the origin's log holds its part (closed as handed over), the
    destination's its own (person and procedure with ids derived from the origin's)."""

    name = "immigration-office-hand-over-intake"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.immigration_office.>")
        self.app_for = app_for

    def handle(self, record: LogRecord) -> None:
        if record.event_type != contracts.HANDED_OVER:
            return
        event = self.app_for(record.tenant).mapper.to_domain_event(record.to_stored_event())
        assert isinstance(event, Procedure.HandedOver)
        self.app_for(event.to_tenant).take_over(
            from_tenant=record.tenant,
            from_procedure=UUID(str(record.originator_id)),
            transfer_id=event.transfer_id,
            residence=event.residence,
            facts=event.facts,
            sealed=event.sealed_for_destination,
            on=date.fromisoformat(event.on),
        )
