"""The base of case management's application: the tenant's settings, people, cases.

``CaseManagementApplication`` (``application.py``) is assembled from this base, the person
register's commands (``registry.py``), the positions and caseload commands (``caseload.py``)
and the transfer and retention commands (``transfer.py``), one module per concern.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Recording

from contexts.case_management.domain import OPEN_CASES_OF_PERSON, ApprovalStep, Case
from contexts.case_management.people import Person
from contexts.case_management.settings import (
    CaseManagementSettings,
    OverLimit,
    Policy,
    check_policy,
    settings_id,
)
from contexts.shared.application import LOADED_ENTRIES, TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.vault import PersonalDataVault, is_sealed

ARRIVAL = "arrival_on"
TEXT = "text"
"""The key of a sealed free text (``{"text": ...}`` under the person's key)."""


class CaseManagementBase(TenantApplication):
    context = "case_management"

    def __init__(
        self,
        tenant: str,
        recorder_factory: Callable[[str, str], ApplicationRecorder],
        vault: PersonalDataVault,
    ) -> None:
        super().__init__(tenant, recorder_factory)
        self.vault = vault

    def policy(self) -> Policy:
        sid = settings_id(self.tenant)
        if sid not in self.repository:
            return Policy()
        return self.load(CaseManagementSettings, sid, "settings").policy

    def settings_version(self) -> int | None:
        sid = settings_id(self.tenant)
        return self.repository.get(sid).version if sid in self.repository else None

    def configure(
        self,
        *,
        target_group_years: int,
        caseload_limit_per_fte: int,
        over_limit: OverLimit,
        approvals: list[ApprovalStep],
        retention_years: dict[str, int | None],
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        check_policy(target_group_years, caseload_limit_per_fte, retention_years)
        values: dict[str, Any] = {
            "target_group_years": target_group_years,
            "caseload_limit_per_fte": caseload_limit_per_fte,
            "over_limit": OverLimit(over_limit).value,
            "approvals": sorted({ApprovalStep(a).value for a in approvals}),
            "retention_years": {str(k): v for k, v in sorted(retention_years.items())},
        }
        sid = settings_id(self.tenant)
        if sid in self.repository:
            settings = self.load_expecting(
                CaseManagementSettings, sid, "settings", expected_version
            )
            settings.change(**values)
        else:
            settings = CaseManagementSettings(id=sid, **values)
        return self.save(settings)

    def get_person(self, person_id: UUID) -> Person:
        return self.load(Person, person_id, "person")

    def personal_data(self, person_id: UUID) -> dict[str, Any] | None:
        """The person's data, or None after erasure (only for those allowed to see it)."""
        person = self.get_person(person_id)
        return self.vault.open(self.tenant, person_id, person.sealed) if person.sealed else None

    def seal_text(self, person: Person, text: str) -> str:
        """Free text about the person, sealed under their key; refused once they are erased
        (a new key would open what is written after the erasure)."""
        if person.erased_on is not None:
            raise DomainError("person-erased", "the person was erased; no new free text")
        return self.vault.seal(self.tenant, person.id, {TEXT: text})

    def open_text(self, person_id: UUID, value: str | None) -> str | None:
        """A sealed free text in clear, None after the person's erasure (and for None).
        Free text recorded before it was sealed (older events) comes as it was stored."""
        if value is None or not is_sealed(value):
            return value
        opened = self.vault.open(self.tenant, person_id, value)
        return None if opened is None else str(opened[TEXT])

    def arrival_of(self, person_id: UUID) -> date | None:
        data = self.personal_data(person_id) or {}
        return date.fromisoformat(data[ARRIVAL]) if data.get(ARRIVAL) else None

    def get_case(self, case_id: UUID) -> Case:
        return self.load(Case, case_id, "case")

    def _case(self, case_id: UUID, expected_version: int | None) -> Case:
        return self.load_expecting(Case, case_id, "case", expected_version)

    def save(  # type: ignore[override]
        self, *objs: Aggregate | None, **kwargs: Any
    ) -> list[Recording[UUID]]:
        """Save, and tell the person of each case that closed in this command, in the same
        transaction (retention counts from the person's last closure)."""
        people = {o.id: o for o in objs if isinstance(o, Person)}
        extra: list[Person] = []
        for case in (o for o in objs if isinstance(o, Case)):
            was_open = (OPEN_CASES_OF_PERSON, str(case.person_id)) in getattr(
                case, LOADED_ENTRIES, frozenset()
            )
            if was_open and case.is_closed and case.closure is not None:
                person = people.get(case.person_id)
                if person is None:
                    person = people[case.person_id] = self.get_person(case.person_id)
                    extra.append(person)
                person.note_case_closed(case.id, case.closure[1])
        return super().save(*objs, *extra, **kwargs)

    def _change(
        self, case_id: UUID, expected_version: int | None, change: Callable[[Case], None]
    ) -> list[Recording[UUID]]:
        """Load the case (checking the expected version), apply one change, save it."""
        case = self._case(case_id, expected_version)
        change(case)
        return self.save(case)
