"""The person register: registration, corrections, consents, participations and erasure.

Personal data is sealed under the person's own key before it reaches an event; erasure
destroys that key (crypto-shredding).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import Recording
from eventsourcing.utils import get_topic

from contexts.case_management.base import ARRIVAL, CaseManagementBase
from contexts.case_management.people import ConsentPurpose, Person, Programme
from contexts.shared.personal_data import check_minimal as minimal

PERSONAL_FIELDS = {
    "name", "date_of_birth", "contact", "languages", "nationality", "residence_status",
    "arrival_on",
}  # fmt: skip
"""The personal data a person record keeps at most (data minimisation)."""


class PersonCommands(CaseManagementBase):
    def register_person(
        self,
        personal_data: dict[str, Any],
        arrival_on: date | None,
        *,
        registered_by: UUID | None = None,
    ) -> list[Recording[UUID]]:
        check_minimal(personal_data)
        data = dict(personal_data)
        if arrival_on is not None:
            data[ARRIVAL] = arrival_on.isoformat()
        # The id comes first, so the data is sealed under the person's own key.
        person_id = uuid4()
        person = Person(
            id=person_id,
            sealed=self.vault.seal(self.tenant, person_id, data),
            registered_by=registered_by,
        )
        return self.save(person)

    def correct_personal_data(
        self, person_id: UUID, personal_data: dict[str, Any]
    ) -> list[Recording[UUID]]:
        check_minimal(personal_data)
        person = self.get_person(person_id)
        person.correct(self.vault.seal(self.tenant, person_id, personal_data))
        return self.save(person)

    def give_consent(
        self,
        person_id: UUID,
        *,
        purpose: ConsentPurpose,
        recipient: str,
        given_on: date,
        expires_on: date | None = None,
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.give_consent(purpose, recipient, given_on, expires_on)
        return self.save(person)

    def revoke_consent(
        self, person_id: UUID, *, purpose: ConsentPurpose, recipient: str, revoked_on: date
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.revoke_consent(purpose, recipient, revoked_on)
        return self.save(person)

    def record_participation(
        self, person_id: UUID, *, programme: Programme, start: date, end: date | None = None
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.record_participation(programme, start, end)
        return self.save(person)

    def erase_person(self, person_id: UUID, on: date) -> list[Recording[UUID]]:
        """Crypto-shredding, idempotent and complete, in three steps:

        1. record ``PersonErased`` (once; from then on nothing is sealed for the person),
        2. destroy the person's key (the notes of their cases are sealed under it too),
        3. forget the idempotency records of the commands about the person and their cases.

        The steps cannot share one transaction (the key is the vault's), so a step that fails
        leaves the earlier ones done; erasing again finds ``PersonErased`` recorded, does the
        rest (``complete_erasure``) and answers as the first attempt did: the recording of
        that ``PersonErased``, nothing appended. No retry is refused while the data opens.
        """
        person = self.get_person(person_id)
        if person.erased_on is None:
            person.erase(on)
            recordings = self.save(person)
        else:
            erased = get_topic(Person.Erased)
            stored = self.recorder.select_events(person_id)
            recordings = [self.recording_of(e) for e in stored if e.topic == erased]
        self.complete_erasure(person_id)
        return recordings

    def complete_erasure(self, person_id: UUID) -> bool:
        """Steps 2 and 3 of ``erase_person`` for a person whose erasure is recorded (both
        idempotent); False, doing nothing, for a person not erased."""
        person = self.get_person(person_id)
        if person.erased_on is None:
            return False
        self.vault.erase(self.tenant, person_id)
        self.forget_requests([person_id, *person.cases])
        return True


def check_minimal(personal_data: dict[str, Any]) -> None:
    """Data are minimal: a person record takes only the fields of ``PERSONAL_FIELDS``."""
    minimal(personal_data, PERSONAL_FIELDS)
