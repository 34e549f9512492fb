"""Commands and queries of case management, one tenant at a time.

Every command loads what it needs, lets the aggregates check their rules and saves all
changed aggregates in one transaction. Personal data is sealed under the person's key
before it reaches an event, and so is every free text about the person (goals, reasons,
outcomes, notes, gap descriptions: ``seal_text``); only ``personal_data``, ``notes`` and
``open_text`` open it again, and the service layer calls them only for those
``may_see_person``/``may_see_personal_data`` allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from uuid import UUID

from eventsourcing.persistence import Recording

from contexts.case_management import access
from contexts.case_management.achievements import AchievementCommands
from contexts.case_management.domain import (
    AppointmentKind,
    AppointmentOutcome,
    ApprovalStep,
    Case,
    ClosureReason,
    ContactChannel,
    ReferralSource,
    Service,
)
from contexts.case_management.people import ConsentPurpose
from contexts.case_management.registry import PersonCommands
from contexts.case_management.transfer import TransferCommands
from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_no_personal_data


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


class CaseManagementApplication(PersonCommands, TransferCommands, AchievementCommands):
    """Commands and queries of case management, one tenant at a time."""

    def open_case(
        self,
        person_id: UUID,
        *,
        referral_source: ReferralSource,
        opened_on: date,
        catch_up_reason: str | None = None,
        double_funding_reason: str | None = None,
        position_id: UUID | None = None,
    ) -> list[Recording[UUID]]:
        """Open a case (Erstberatung); with a position, assign it in the same transaction."""
        person = self.get_person(person_id)
        if person.erased_on is not None:
            raise DomainError("person-erased", "an erased person cannot get a new case")
        person.require_consent(ConsentPurpose.CASE_MANAGEMENT, self.tenant, opened_on)
        policy = self.policy()
        arrival = self.arrival_of(person_id)
        within = arrival is not None and _years_between(arrival, opened_on) < (
            policy.target_group_years
        )
        if not within and not (catch_up_reason and catch_up_reason.strip()):
            raise DomainError(
                "outside-target-group",
                f"arrival more than {policy.target_group_years} years ago (or unknown):"
                " give the reason for catch-up integration",
                field="catch_up_reason",
            )
        others = person.programmes_on(opened_on)
        if others and not (double_funding_reason and double_funding_reason.strip()):
            raise DomainError(
                "double-funding",
                f"the person takes part in {', '.join(others)} on {opened_on}; KIM case"
                " management alongside needs a documented reason (no double counselling or"
                " double funding)",
                field="double_funding_reason",
                programmes=[str(p) for p in others],
            )
        open_elsewhere = [c for c in person.cases if not self.get_case(c).is_closed]
        if open_elsewhere:
            raise DomainError(
                "case-already-open",
                f"the person already has an open case ({open_elsewhere[0]})",
                field="person_id",
                case_id=str(open_elsewhere[0]),
            )
        case = Case(
            person_id=person_id,
            referral_source=ReferralSource(referral_source).value,
            opened_on=opened_on.isoformat(),
            catch_up_reason=None if within else self.seal_text(person, str(catch_up_reason)),
        )
        if others:
            case.note_other_programmes(
                [str(p) for p in others], self.seal_text(person, str(double_funding_reason))
            )
        person.link_case(case.id)
        bounds = []
        if position_id is not None:
            self._check_caseload(position_id, policy)
            case.assign(position_id, opened_on)
            bounds = self.caseload_bound(position_id, policy)
        return self.save(case, person, bounds=bounds)  # the case's recordings first

    def assess(
        self, case_id: UUID, *, needs: dict[str, str], on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        return self._change(case_id, expected_version, lambda case: case.assess(needs, on))

    def agree_goals(
        self, case_id: UUID, *, goals: dict[str, str], on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        needs_approval = self.policy().needs_approval(ApprovalStep.GOAL_AGREEMENT)
        person = self.get_person(case.person_id)
        empty = sorted(d for d, goal in goals.items() if not goal.strip())
        if empty:
            raise DomainError(
                "goal-empty", f"the goals for {', '.join(empty)} need a text", field="goals"
            )
        # The goals' texts are about the person: sealed under their key, the dimensions clear.
        sealed = {d: self.seal_text(person, g) for d, g in goals.items()}
        case.agree_goals(sealed, on, needs_approval=needs_approval)
        return self.save(case)

    def start_linking(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        return self._change(case_id, expected_version, lambda case: case.start_linking(on))

    def start_monitoring(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        return self._change(case_id, expected_version, lambda case: case.start_monitoring(on))

    def start_reassessment(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        return self._change(case_id, expected_version, lambda case: case.start_reassessment(on))

    def close_case(
        self,
        case_id: UUID,
        *,
        reason: ClosureReason,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        needs_approval = self.policy().needs_approval(ApprovalStep.CLOSURE)
        case.close(reason, on, needs_approval=needs_approval)
        return self.save(case)

    def decide_approval(
        self,
        case_id: UUID,
        *,
        step: ApprovalStep,
        approved: bool,
        by_tenant: str,
        on: date,
        reason: str = "",
        by_position: UUID | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """The supervising post approves or refuses a goal agreement or closure: where the
        supervision line names a coordination position, that position's coordinator
        (``by_position``, their token's position claim)."""
        case = self._case(case_id, expected_version)
        supervisor = self.supervising_post(case, on)
        if not access.is_supervisor(supervisor, by_tenant, by_position):
            by = access.Supervisor(by_tenant, by_position)
            raise DomainError(
                "not-the-supervising-post",
                f"only the post supervising the case's position on {on} decides"
                f" ({supervisor or 'no supervision line'}), not {by}",
                field="on",
            )
        if approved:
            case.approve(step, by_tenant, on)
        else:
            person = self.get_person(case.person_id)
            sealed = self.seal_text(person, reason) if reason.strip() else ""
            case.refuse_approval(step, by_tenant, sealed, on)
        return self.save(case)

    def propose_referral(
        self,
        case_id: UUID,
        *,
        service: Service,
        recipient: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """A referral hands data to a recipient: refused without a valid consent."""
        case = self._case(case_id, expected_version)
        self.get_person(case.person_id).require_consent(ConsentPurpose.REFERRAL, recipient, on)
        case.propose_referral(service, recipient, on)
        return self.save(case)

    def answer_referral(
        self,
        case_id: UUID,
        *,
        index: int,
        accepted: bool,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        return self._change(
            case_id, expected_version, lambda case: case.answer_referral(index, accepted, on)
        )

    def complete_referral(
        self,
        case_id: UUID,
        *,
        index: int,
        outcome: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """The outcome is free text about the person: sealed under their key."""
        case = self._case(case_id, expected_version)
        case.complete_referral(index, self.seal_text(self.get_person(case.person_id), outcome), on)
        return self.save(case)

    def schedule_appointment(
        self,
        case_id: UUID,
        *,
        on: date,
        kind: AppointmentKind,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        return self._change(
            case_id, expected_version, lambda case: case.schedule_appointment(on, kind)
        )

    def record_appointment(
        self,
        case_id: UUID,
        *,
        index: int,
        outcome: AppointmentOutcome,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        return self._change(
            case_id, expected_version, lambda case: case.record_appointment(index, outcome)
        )

    def record_contact(
        self,
        case_id: UUID,
        *,
        on: date,
        channel: ContactChannel,
        life_dimensions: list[str],
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        return self._change(
            case_id,
            expected_version,
            lambda case: case.record_contact(on, channel, life_dimensions),
        )

    def add_note(
        self, case_id: UUID, *, on: date, text: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        """A note may hold personal details: it is sealed under the person's key."""
        case = self._case(case_id, expected_version)
        if self.get_person(case.person_id).erased_on is not None:
            raise DomainError("person-erased", "the person was erased; no new notes")
        if not text.strip():
            raise DomainError("note-empty", "a note needs a text", field="text")
        case.add_note(on, self.vault.seal(self.tenant, case.person_id, {"text": text}))
        return self.save(case)

    def notes(self, case_id: UUID) -> list[tuple[date, str | None]]:
        """The case's notes in clear text; None for each after the person's erasure."""
        case = self.get_case(case_id)
        out: list[tuple[date, str | None]] = []
        for on, sealed in case.notes:
            opened = self.vault.open(self.tenant, case.person_id, sealed)
            out.append((on, None if opened is None else str(opened["text"])))
        return out

    def report_gap(
        self,
        case_id: UUID,
        *,
        life_dimension: str,
        description: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """A gap seen in a case, for coordination (contract ``CaseGapReported``).

        The description must not identify anyone: it is refused when it contains a part of
        the person's name (``personal-data-in-gap``) or obvious personal data
        (``personal-data-in-text``). It is sealed under the person's key all the same:
        coordination gets the life dimension and the date, and a description only once the
        supervising post has reviewed and released one (``release_gap``).
        """
        case = self._case(case_id, expected_version)
        person = self.get_person(case.person_id)
        self._check_gap_text(case, description)
        sealed = self.seal_text(person, description.strip()) if description.strip() else ""
        case.report_gap(life_dimension, sealed, on)
        return self.save(case)

    def release_gap(
        self,
        case_id: UUID,
        *,
        index: int,
        description: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """The supervising post releases a reviewed description of a gap to coordination
        (contract ``CaseGapReleased``), checked like the report's; it goes in clear."""
        case = self._case(case_id, expected_version)
        text = " ".join(description.split())
        self._check_gap_text(case, text)
        case.release_gap(index, text, on)
        return self.save(case)

    def _check_gap_text(self, case: Case, description: str) -> None:
        """A gap's text goes to coordination: no part of the person's name (while it is
        known), no obvious personal data of anyone."""
        data = self.personal_data(case.person_id) or {}
        lowered = description.lower()
        parts = [p.strip(".,;") for p in str(data.get("name", "")).split()]
        if any(len(p) >= 3 and p.lower() in lowered for p in parts):
            raise DomainError(
                "personal-data-in-gap",
                "a gap report goes to coordination and must not name the person",
                field="description",
            )
        check_no_personal_data(description, "description")

    def case_texts(self, case: Case) -> Callable[[str | None], str | None]:
        """Opens the case's sealed free texts (only for those who may see personal data)."""
        return lambda value: self.open_text(case.person_id, value)
