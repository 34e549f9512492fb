"""Intake requests from the immigration office: referrals into case management.

The office refers a person, with their consent, to the case management responsible for where
they live (contract ``ProcedureReferredToCaseManagement``). Here that becomes an intake
request with referral source ``immigration_office``, naming the office's open requirements
(codes). Case management accepts it (linking the person it registered, who consented to case
management in this tenant) or declines it with a reason (a code). Once accepted, integration
achievements (a language certificate with its level, a course or test passed, employment,
a qualification) go back to the office only under the person's consent for that purpose
(``achievements``) and that recipient (the office's tenant): without it, or after its
revocation, the command is refused and nothing crosses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Recording

from contexts.case_management import access
from contexts.case_management.base import CaseManagementBase
from contexts.case_management.case_indexes import OPEN_CASES_OF_PERSON
from contexts.case_management.contracts import ACHIEVEMENT_KINDS
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import Conflict, DomainError

OPEN_INTAKE = "open_intake_requests"
"""Index of the intake requests not yet answered (one key), kept with the events."""
LEVELS = ("A1", "A2", "B1", "B2", "C1", "C2")
INTAKE_DUE = "intake_due"
"""Index of accepted intake requests by the office's deadlines (keys: ISO dates)."""
DUE_AT_MOST = 10_000


@dataclass(frozen=True)
class IntakeDue:
    """One deadline of a person referred by the office, on the case the referral became."""

    case_id: UUID
    intake_request_id: UUID
    office: str
    due_on: date
    what: str  # "permit_end" (a § 104c permit ends) or "documents"
    open_requirements: list[str]
    position_id: UUID | None


class DeclineReason(StrEnum):
    NOT_TARGET_GROUP = "not_target_group"  # nicht Zielgruppe
    NO_CAPACITY = "no_capacity"  # keine Kapazität
    OTHER_PROGRAMME = "other_programme"  # bereits in einem anderen Programm
    NOT_RESPONSIBLE = "not_responsible"  # nicht zuständig (Wohnort)
    PERSON_DECLINED = "person_declined"  # die Person möchte nicht


def intake_id(office: str, referral_id: str) -> UUID:
    """The request's id, derived from the office's referral (a redelivery finds it)."""
    return uuid5(NAMESPACE_URL, f"kim:intake:{office}:{referral_id}")


class IntakeRequest(Aggregate):
    """One referral from an immigration office; no personal data (codes and pseudonyms)."""

    class Requested(Aggregate.Created):
        office: str
        referral_id: str
        requirements: list[str]
        received_on: str
        deadlines: list[dict[str, str]]  # version 2: the office's ("due_on", "what")

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Requests before the office's deadlines went along: none."""
            state["deadlines"] = []

    class Accepted(Aggregate.Event):
        office: str
        referral_id: str
        person_id: UUID
        on: str

    class Declined(Aggregate.Event):
        office: str
        referral_id: str
        reason: str
        on: str

    class AchievementShared(Aggregate.Event):
        office: str
        referral_id: str
        kind: str
        level: str | None
        achieved_on: str
        on: str

    @event(Requested)
    def __init__(
        self, id: UUID, office: str, referral_id: str, requirements: list[str], received_on: str,
        deadlines: list[dict[str, str]],
    ) -> None:  # fmt: skip
        self.office = office
        self.deadlines = deadlines
        self.referral_id = referral_id
        self.requirements = requirements
        self.received_on = received_on
        self.referral_source = "immigration_office"
        self.status = "open"
        self.person_id: UUID | None = None
        self.reason: str | None = None
        self.achievements: list[dict[str, str | None]] = []

    def _open(self) -> None:
        if self.status != "open":
            raise Conflict("intake-answered", f"the intake request was {self.status} already")

    def accept(self, person_id: UUID, on: date) -> None:
        self._open()
        self._accepted(self.office, self.referral_id, person_id, on.isoformat())

    @event(Accepted)
    def _accepted(self, office: str, referral_id: str, person_id: UUID, on: str) -> None:
        self.status = "accepted"
        self.person_id = person_id

    def decline(self, reason: DeclineReason, on: date) -> None:
        self._open()
        self._declined(self.office, self.referral_id, DeclineReason(reason).value, on.isoformat())

    @event(Declined)
    def _declined(self, office: str, referral_id: str, reason: str, on: str) -> None:
        self.status = "declined"
        self.reason = reason

    def share(self, kind: str, level: str | None, achieved_on: date, on: date) -> None:
        if self.status != "accepted":
            raise Conflict("intake-not-accepted", "achievements follow an accepted request")
        if kind not in ACHIEVEMENT_KINDS:
            raise DomainError("unknown-achievement", f"no achievement {kind}", field="kind")
        if (kind == "language_certificate") != (level in LEVELS):
            raise DomainError("language-level", "a language certificate, and only it, names"
                              " its level", field="level")  # fmt: skip
        self._shared(self.office, self.referral_id, kind, level, achieved_on.isoformat(),
                     on.isoformat())  # fmt: skip

    @event(AchievementShared)
    def _shared(
        self, office: str, referral_id: str, kind: str, level: str | None, achieved_on: str,
        on: str,
    ) -> None:  # fmt: skip
        self.achievements.append({"kind": kind, "level": level, "achieved_on": achieved_on})

    def index_entries(self) -> frozenset[tuple[str, str]]:
        if self.status == "open":
            return frozenset({(OPEN_INTAKE, "open")})
        if self.status == "accepted":  # the person is known here: their case's due list
            return frozenset((INTAKE_DUE, str(d["due_on"])) for d in self.deadlines)
        return frozenset()


class IntakeCommands(CaseManagementBase):
    """Commands on intake requests from the immigration office."""

    def receive_office_referral(
        self, *, office: str, referral_id: str, requirements: list[str], on: date,
        deadlines: list[dict[str, str]] | None = None,
    ) -> bool:  # fmt: skip
        """From the consumer of the office's contract; False if it is here already."""
        rid = intake_id(office, referral_id)
        if rid in self.repository:
            return False
        request = IntakeRequest(
            id=rid,
            office=office,
            referral_id=referral_id,
            requirements=sorted(requirements),
            received_on=on.isoformat(),
            deadlines=sorted(deadlines or [], key=lambda d: (d["due_on"], d["what"])),
        )
        self.save(request)
        return True

    def due_for(self, caller: access.Caller, today: date, within_days: int) -> list[IntakeDue]:
        """The office's deadlines of people referred here, on the open cases the caller works
        on (``access.works_on``): from the index of accepted requests by deadline and the
        index of a person's open cases, not by loading the tenant's cases. Overdue first."""
        until = (today + timedelta(days=within_days)).isoformat()
        found = self.indexes.index_range(INTAKE_DUE, "", until, DUE_AT_MOST)
        items = []
        for member in dict.fromkeys(m for _, m in found):
            request = self.get_intake(UUID(member))
            if request.person_id is None:
                continue
            for case_id in self.indexes.index_members(OPEN_CASES_OF_PERSON, str(request.person_id)):
                case = self.get_case(UUID(case_id))
                if not access.works_on(caller, self.tenant, case.position_id):
                    continue
                items += [
                    IntakeDue(case.id, request.id, request.office, date.fromisoformat(d["due_on"]),
                              d["what"], request.requirements, case.position_id)
                    for d in request.deadlines
                    if d["due_on"] <= until
                ]  # fmt: skip
        return sorted(items, key=lambda i: (i.due_on, str(i.case_id)))

    def get_intake(self, request_id: UUID) -> IntakeRequest:
        return self.load(IntakeRequest, request_id, "intake request")

    def open_intakes(self) -> list[IntakeRequest]:
        members = self.indexes.index_members(OPEN_INTAKE, "open")
        return sorted((self.get_intake(UUID(m)) for m in members), key=lambda r: r.received_on)

    def accept_intake(
        self, request_id: UUID, *, person_id: UUID, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        """The person registered here and consented to case management in this tenant."""
        request = self.load_expecting(IntakeRequest, request_id, "intake request", expected_version)
        person = self.get_person(person_id)
        person.require_consent(ConsentPurpose.CASE_MANAGEMENT, self.tenant, on)
        request.accept(person_id, on)
        return self.save(request)

    def decline_intake(
        self, request_id: UUID, *, reason: DeclineReason, on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:  # fmt: skip
        request = self.load_expecting(IntakeRequest, request_id, "intake request", expected_version)
        request.decline(reason, on)
        return self.save(request)

    def share_achievement(
        self, request_id: UUID, *, kind: str, level: str | None, achieved_on: date, on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:  # fmt: skip
        """Only under the person's valid consent for achievements to the office's tenant."""
        request = self.load_expecting(IntakeRequest, request_id, "intake request", expected_version)
        if request.person_id is None:
            raise Conflict("intake-not-accepted", "achievements follow an accepted request")
        person = self.get_person(request.person_id)
        person.require_consent(ConsentPurpose.ACHIEVEMENTS, request.office, on)
        request.share(kind, level, achieved_on, on)
        return self.save(request)
