"""Case management consumes the immigration office's referrals
(``contexts.immigration_office.contracts``): each becomes an intake request in the tenant
it names (idempotent: the request's id derives from the office's referral)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

from contexts.case_management.application import CaseManagementApplication
from contexts.immigration_office import contracts as office
from runtime.bus.consumer import Intake
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

AppFor = Callable[[str], CaseManagementApplication]


class OfficeReferralIntake(Intake):
    name = "case-management-office-referrals"

    def __init__(self, store: EventLogStore, app_for: AppFor, prefix: str = "kim") -> None:
        super().__init__(store, f"{prefix}.*.immigration_office.>")
        self.app_for = app_for

    def handle(self, record: LogRecord) -> None:
        if record.event_type != office.REFERRED:
            return
        data = json.loads(record.state)
        self.app_for(str(data["to_tenant"])).receive_office_referral(
            office=record.tenant,
            referral_id=str(data["referral_id"]),
            requirements=[str(r) for r in data["requirements"]],
            on=date.fromisoformat(data["on"]),
            deadlines=[  # contract version 2; older referrals name none
                {"due_on": str(d["due_on"]), "what": str(d["what"])}
                for d in data.get("deadlines") or []
            ],
        )
