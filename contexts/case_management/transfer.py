"""Transfer between tenants when a person moves, and retention (who is due for erasure)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import Recording

from contexts.case_management.base import TEXT
from contexts.case_management.case_indexes import APPOINTMENTS_OF_POSITION, APPOINTMENTS_ON
from contexts.case_management.caseload import PositionCommands
from contexts.case_management.domain import Case, NeedLevel
from contexts.case_management.people import (
    CASES_CLOSED_SINCE,
    CONSENT_EXPIRY,
    REGISTERED_WITHOUT_CASE,
    Consent,
    ConsentPurpose,
    Person,
)
from contexts.shared.errors import DomainError
from contexts.shared.vault import is_sealed

RETENTION_AT_MOST = 100_000
"""People a retention query reads at most per index (those whose cases are all closed, and
those without a case; not erased)."""
EXPIRING_AT_MOST = 10_000
"""Consents a query of expiring consents reads at most (a year's worth for a large city)."""


class TransferCommands(PositionCommands):
    def expiring_consents(self, today: date, within_days: int) -> list[tuple[Person, Consent]]:
        """Valid consents ending within ``within_days``: from the index of their end dates,
        so the cost is that of the consents found, not of the tenant's register."""
        until = today + timedelta(days=within_days)
        found = self.indexes.index_range(
            CONSENT_EXPIRY, today.isoformat(), until.isoformat(), EXPIRING_AT_MOST
        )
        out = []
        for person_id in dict.fromkeys(member for _, member in found):
            person = self.get_person(UUID(person_id))
            out += [
                (person, c)
                for c in person.consents
                if person.erased_on is None
                and c.expires_on is not None
                and c.revoked_on is None
                and today <= c.expires_on <= until
            ]
        return sorted(out, key=lambda pc: (pc[1].expires_on or today, str(pc[0].id)))

    def due_appointments(
        self, today: date, within_days: int, positions: Sequence[str | None] | None = None
    ) -> list[tuple[Case, int]]:
        """Appointments still scheduled from ``today`` to ``within_days`` ahead, as (case,
        index of the appointment), soonest first, of the cases of ``positions`` (None: all
        cases; None in it: unassigned cases have none): from the index of their days, so the
        cost is that of the cases found, not of the tenant's register."""
        low, until = today.isoformat(), (today + timedelta(days=within_days)).isoformat()
        if positions is None:
            found = self.indexes.index_range(APPOINTMENTS_ON, low, until, EXPIRING_AT_MOST)
        else:
            found = [
                entry
                for p in positions
                if p is not None
                for entry in self.indexes.index_range(
                    APPOINTMENTS_OF_POSITION, f"{p}/{low}", f"{p}/{until}", EXPIRING_AT_MOST
                )
            ]
        out = []
        for case_id in dict.fromkeys(member for _, member in found):
            case = self.get_case(UUID(case_id))
            out += [
                (case, i)
                for i, a in enumerate(case.appointments)
                if a["outcome"] == "scheduled" and today.isoformat() <= a["on"] <= until
            ]
        return sorted(out, key=lambda ci: (ci[0].appointments[ci[1]]["on"], str(ci[0].id)))

    def due_for_erasure(self, today: date) -> list[UUID]:
        """People whose retention period has passed: counted from the closure of their last
        case, or, for people who never had a case, from their registration.

        From the indexes of people by their last closure and of people without a case by
        their registration (up to today): the cost is that of the people in their retention
        period, not of the register (erased people leave both, a case leaves the second).
        """
        rule = self.policy().retention
        found = [
            entry
            for index in (CASES_CLOSED_SINCE, REGISTERED_WITHOUT_CASE)
            for entry in self.indexes.index_range(index, "", today.isoformat(), RETENTION_AT_MOST)
        ]
        return sorted(
            {
                UUID(member)
                for since, member in found
                if rule.personal_data_due(date.fromisoformat(since), today)
            }
        )

    def hand_over(
        self,
        case_id: UUID,
        *,
        to_tenant: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """The origin's part: close as transferred (contract ``CaseHandedOver``).

        Needs the person's consent to the transfer. Personal data goes along only with its
        own hand-over consent, sealed under a transit key of the destination that the
        destination destroys once it has taken the case over. The goals' texts go with the
        case (the transfer consent), sealed under the same transit key, never in clear.
        """
        if to_tenant == self.tenant:
            raise DomainError(
                "transfer-to-self", "a case moves to another tenant", field="to_tenant"
            )
        case = self._case(case_id, expected_version)
        person = self.get_person(case.person_id)
        person.require_consent(ConsentPurpose.TRANSFER, to_tenant, on)
        transfer_id = uuid4()
        sealed = None
        if person.consents_to(ConsentPurpose.DATA_HANDOVER, to_tenant, on):
            data = self.personal_data(case.person_id)
            if data:
                sealed = self.vault.seal(to_tenant, transfer_id, data)
        goals = {}
        for dimension, value in case.goals.items():
            text = self.open_text(case.person_id, value)
            if text is not None:  # None: the person was erased
                goals[dimension] = self.vault.seal(to_tenant, transfer_id, {TEXT: text})
        case.hand_over(to_tenant, transfer_id, sealed, on, goals_for_destination=goals)
        return self.save(case)

    def take_over(
        self,
        *,
        from_tenant: str,
        from_case: UUID,
        transfer_id: UUID,
        referral_source: str,
        summary: dict[str, dict[str, str]],
        sealed: str | None,
        on: date,
    ) -> list[Recording[UUID]]:
        """The destination's part: a person record (only what was consented) and a case.

        Idempotent: the ids derive from the origin's case, so a redelivered hand-over finds
        the case taken over already. The transit key is destroyed afterwards either way.
        """
        case_id = uuid5(NAMESPACE_URL, f"urn:kim:transfer:{from_tenant}:{from_case}:case")
        person_id = uuid5(NAMESPACE_URL, f"urn:kim:transfer:{from_tenant}:{from_case}:person")
        if case_id in self.repository:
            self.vault.erase(self.tenant, transfer_id)
            return []
        data: dict[str, Any] = {}
        if sealed:
            data = self.vault.open(self.tenant, transfer_id, sealed) or {}
        person = Person(
            id=person_id,
            sealed=self.vault.seal(self.tenant, person_id, data),
            registered_by=None,
        )
        # The person agreed to the move; case management here starts on that basis.
        person.give_consent(ConsentPurpose.CASE_MANAGEMENT, self.tenant, on, None)
        case = Case._create(
            Case.Opened,
            id=case_id,
            person_id=person_id,
            referral_source=referral_source,
            opened_on=on.isoformat(),
            catch_up_reason=None,
        )
        case.take_over(from_tenant, from_case, on.isoformat())
        # Needs are codes (older hand-overs may hold other levels: those are left out); the
        # goals come sealed under the transit key (older hand-overs: in clear) and are
        # sealed again under the person's own key here.
        levels = {level.value for level in NeedLevel}
        needs = {d: v for d, v in (summary.get("needs") or {}).items() if v in levels}
        goals = {}
        for dimension, value in (summary.get("goals") or {}).items():
            opened = self.vault.open(self.tenant, transfer_id, value) if is_sealed(value) else None
            text = str(opened[TEXT]) if opened else (None if is_sealed(value) else value)
            if text:
                goals[dimension] = self.seal_text(person, text)
        if needs:
            case.assess(needs, on)
            if goals:
                case.agree_goals(goals, on)
        person.link_case(case.id)
        recordings = self.save(person, case)
        self.vault.erase(self.tenant, transfer_id)
        return recordings
