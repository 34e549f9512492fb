"""Intake requests from the immigration office: referrals into case management.

The office refers a person, with their consent, to the case management responsible for where
they live (contract ``ProcedureReferredToCaseManagement``). Here that becomes an intake
request with referral source ``immigration_office``, naming the office's open requirements
(codes). Case management accepts it (linking the person it registered, who consented to case
management in this tenant) or declines it with a reason (a code). Once accepted, integration
achievements (a language certificate with its level, a course or test passed, employment,
a qualification) go back to the office only under the person's consent for that purpose
(``achievements``) and that recipient (the office's tenant): without it, or after its
revocation, nothing crosses. Achievements are recorded on the person's case
(``achievements.py``), with or without consent; recording one shares it, in the same
transaction, on every accepted request of the person whose office the consent covers
(found through the index ``intake_of_person``). The explicit share on a request
(``share_achievement``) refuses without consent; it shares an achievement recorded earlier
on a case of the person (by its place on the case) once consent was given later.
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
from contexts.case_management.case_achievements import check_achievement
from contexts.case_management.case_indexes import OPEN_CASES_OF_PERSON
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import Conflict, DomainError

OPEN_INTAKE = "open_intake_requests"
"""Index of the intake requests not yet answered (one key), kept with the events."""
INTAKE_OF_PERSON = "intake_of_person"
"""Index of accepted intake requests by the person they were accepted for (key: person id):
where a recorded achievement may go, without loading every intake request."""
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
        check_achievement(kind, level)
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
            due = {(INTAKE_DUE, str(d["due_on"])) for d in self.deadlines}
            return frozenset({*due, (INTAKE_OF_PERSON, str(self.person_id))})
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
        self, request_id: UUID, *, kind: str | None = None, level: str | None = None,
        achieved_on: date | None = None, on: date, case_id: UUID | None = None,
        achievement: int | None = None, expected_version: int | None = None,
    ) -> list[Recording[UUID]]:  # fmt: skip
        """Only under the person's valid consent for achievements to the office's tenant.
        Either the achievement's fields, or ``case_id`` and ``achievement``: the one recorded
        at that place on a case of the request's person (recorded before consent was given;
        refused if this request holds it already)."""
        request = self.load_expecting(IntakeRequest, request_id, "intake request", expected_version)
        if request.person_id is None:
            raise Conflict("intake-not-accepted", "achievements follow an accepted request")
        person = self.get_person(request.person_id)
        person.require_consent(ConsentPurpose.ACHIEVEMENTS, request.office, on)
        if case_id is not None or achievement is not None:
            kind, level, achieved_on = self._recorded(request, case_id, achievement)
        if kind is None or achieved_on is None:
            raise DomainError("achievement-missing", "name the achievement (kind, achieved_on)"
                              " or the case and its achievement's place", field="kind")  # fmt: skip
        request.share(kind, level, achieved_on, on)
        return self.save(request)

    def _recorded(
        self, request: IntakeRequest, case_id: UUID | None, index: int | None
    ) -> tuple[str, str | None, date]:
        if case_id is None or index is None:
            raise DomainError("achievement-missing", "name both the case and the achievement's"
                              " place on it", field="achievement")  # fmt: skip
        case = self.get_case(case_id)
        if case.person_id != request.person_id:
            raise DomainError("other-person", "the case is not of the request's person",
                              field="case_id")  # fmt: skip
        found = case.achievement(index)
        if {k: found[k] for k in ("kind", "level", "achieved_on")} in request.achievements:
            raise Conflict("achievement-shared", "the office has this achievement already")
        return str(found["kind"]), found["level"], date.fromisoformat(str(found["achieved_on"]))
