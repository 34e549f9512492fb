"""The case and its cycle (Regelkreis), as explicit states and allowed transitions.

A case refers to its person by pseudonymous id only; personal data lives sealed in the
person record (see ``contexts.shared.vault``), never in case events. Free text about the
person (goals, reasons, outcomes, notes, gap descriptions) reaches a case event only sealed
under the person's key: the application seals it, the case keeps the sealed text
(``kimv1:...``) and never the clear text. Events recorded before that rule hold their free
text in clear; they stay as they are. Everything else is a code of the vocabulary.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from contexts.case_management.known_position import KnownPosition
from contexts.case_management.vocabulary import (
    ALLOWED,
    GOALS_AGREED_STATES,
    LIFE_DIMENSIONS,
    REFERRAL_ONLY,
    REFERRAL_STATES,
    AppointmentKind,
    AppointmentOutcome,
    ApprovalStep,
    CaseState,
    ClosureReason,
    ContactChannel,
    NeedLevel,
    ReferralSource,
    ReferralStatus,
    Service,
    check_code,
    check_dimensions,
)
from contexts.shared.errors import DomainError

OPEN_CASES_OF_POSITION = "open_cases_of_position"
"""Index of the open cases assigned to a position (its caseload), kept with the events."""
OPEN_CASES_OF_PERSON = "open_cases_of_person"
"""Index of a person's open cases (a closing case tells its person, see ``base.save``)."""


class Case(Aggregate):
    """One person's case in one tenant; a person can have several cases over time."""

    class Opened(Aggregate.Created):
        person_id: UUID
        referral_source: str
        opened_on: str
        catch_up_reason: str | None  # sealed (person's key)

    class Assessed(Aggregate.Event):
        needs: dict[str, str]  # life dimension -> need level (``NeedLevel``)
        on: str

    class GoalsAgreed(Aggregate.Event):
        goals: dict[str, str]  # life dimension -> the goal, sealed (person's key)
        on: str

    class LinkingStarted(Aggregate.Event):
        on: str

    class MonitoringStarted(Aggregate.Event):
        on: str

    class ReassessmentStarted(Aggregate.Event):
        on: str

    class Closed(Aggregate.Event):
        reason: str
        on: str

    class Assigned(Aggregate.Event):
        position_id: UUID
        on: str

    class HandedOver(Aggregate.Event):
        to_tenant: str
        transfer_id: UUID
        referral_source: str
        summary: dict[str, dict[str, str]]  # needs (codes), goals (sealed for the destination)
        sealed_for_destination: str | None  # personal data, only with a hand-over consent
        on: str

    class TakenOver(Aggregate.Event):
        from_tenant: str
        from_case: UUID
        on: str

    class OtherProgrammesNoted(Aggregate.Event):
        programmes: list[str]
        reason: str  # sealed (person's key)

    class ReferralProposed(Aggregate.Event):
        service: str
        recipient: str
        referral_only: bool
        on: str

    class ReferralAnswered(Aggregate.Event):
        index: int
        accepted: bool
        on: str

    class ReferralCompleted(Aggregate.Event):
        index: int
        outcome: str  # sealed (person's key)
        on: str

    class ApprovalRequested(Aggregate.Event):
        step: str
        on: str

    class ClosureRequested(Aggregate.Event):
        reason: str
        on: str

    class Approved(Aggregate.Event):
        step: str
        by_tenant: str
        on: str

    class ApprovalRefused(Aggregate.Event):
        step: str
        by_tenant: str
        reason: str  # sealed (person's key)
        on: str

    class AppointmentScheduled(Aggregate.Event):
        on: str
        kind: str  # ``AppointmentKind``

    class AppointmentRecorded(Aggregate.Event):
        index: int
        outcome: str

    class ContactRecorded(Aggregate.Event):
        on: str
        channel: str
        life_dimensions: list[str]

    class NoteAdded(Aggregate.Event):
        on: str
        sealed: str  # the note's text, sealed under the person's key (erased with it)

    class GapReported(Aggregate.Event):
        """Contract event ``CaseGapReported``: no personal data, see ``contracts``. The
        description is sealed under the person's key; coordination gets it only as released
        by the supervising post (``GapReleased``)."""

        gap_id: UUID | None
        life_dimension: str
        description: str
        reported_on: str

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Reports before gap ids: their description went to coordination in clear."""
            state["gap_id"] = None

    class GapReleased(Aggregate.Event):
        """Contract event ``CaseGapReleased``: the gap's description as the supervising post
        reviewed it (checked for personal data), for coordination's system gap."""

        gap_id: UUID
        index: int
        description: str
        released_on: str

    @event(Opened)
    def __init__(
        self, person_id: UUID, referral_source: str, opened_on: str, catch_up_reason: str | None
    ) -> None:
        self.person_id = person_id
        self.referral_source = ReferralSource(referral_source)
        self.opened_on = date.fromisoformat(opened_on)
        self.catch_up_reason = catch_up_reason
        self.state = CaseState.INTAKE
        self.needs: dict[str, str] = {}
        self.goals: dict[str, str] = {}
        self.closure: tuple[ClosureReason, date] | None = None
        self.referrals: list[dict[str, str | bool]] = []
        self.other_programmes: tuple[list[str], str] | None = None
        self.transferred_to: str | None = None
        self.position_id: UUID | None = None
        self.transferred_from: tuple[str, UUID] | None = None
        self.history: list[tuple[CaseState, date]] = [(CaseState.INTAKE, self.opened_on)]
        self.pending_approval: ApprovalStep | None = None
        self.requested_closure: tuple[ClosureReason, date] | None = None
        self.goals_refused = False
        self.approval_before_closure: ApprovalStep | None = None  # resumed if refused
        self.approvals: list[dict[str, str | bool]] = []
        self.appointments: list[dict[str, str]] = []
        self.contacts: list[dict[str, str | list[str]]] = []
        self.notes: list[tuple[date, str]] = []
        self.gaps: list[dict[str, str | None]] = []

    @property
    def is_closed(self) -> bool:
        return self.state == CaseState.CLOSED

    def _move(self, to: CaseState, on: date) -> None:
        if self.pending_approval == ApprovalStep.CLOSURE:
            raise DomainError(
                "closure-awaits-approval",
                "the closure of this case awaits the supervising post's approval",
                field="state",
            )
        if self.pending_approval == ApprovalStep.GOAL_AGREEMENT and to != CaseState.CLOSED:
            raise DomainError(
                "goals-await-approval",
                "the goal agreement awaits the supervising post's approval",
                field="state",
            )
        revising = to == CaseState.GOAL_AGREEMENT == self.state and self.goals_refused
        if to not in ALLOWED[self.state] and not revising:
            allowed = ", ".join(sorted(ALLOWED[self.state])) or "none (the case is closed)"
            raise DomainError(
                "transition-not-allowed",
                f"a case in {self.state} cannot go to {to}; allowed: {allowed}",
                field="state",
                current=str(self.state),
                requested=str(to),
            )
        if self.goals_refused and to != CaseState.CLOSED and not revising:
            raise DomainError(
                "goals-refused",
                "the supervising post refused the goals: agree revised goals first",
                field="state",
            )
        if on < self.history[-1][1]:
            raise DomainError(
                "date-before-last-step",
                f"{on} lies before the last step on {self.history[-1][1]}",
                field="on",
            )

    def _record(self, to: CaseState, on: str) -> None:
        self.state = to
        self.history.append((to, date.fromisoformat(on)))

    def assess(self, needs: dict[str, str], on: date) -> None:
        self._move(CaseState.ASSESSMENT, on)
        check_dimensions(needs, "needs")
        for level in needs.values():
            check_code(level, NeedLevel, "needs")
        self._assessed(needs, on.isoformat())

    @event(Assessed)
    def _assessed(self, needs: dict[str, str], on: str) -> None:
        self.needs = dict(needs)
        self._record(CaseState.ASSESSMENT, on)

    def agree_goals(self, goals: dict[str, str], on: date, *, needs_approval: bool = False) -> None:
        """Goals per life dimension, agreed and dated; the tenant may require approval. The
        goals' texts come sealed under the person's key (the application seals them)."""
        self._move(CaseState.GOAL_AGREEMENT, on)
        check_dimensions(goals, "goals")
        self._goals_agreed(goals, on.isoformat())
        if needs_approval:
            self._approval_requested(ApprovalStep.GOAL_AGREEMENT.value, on.isoformat())

    @event(GoalsAgreed)
    def _goals_agreed(self, goals: dict[str, str], on: str) -> None:
        self.goals = dict(goals)
        self.goals_refused = False
        if self.state == CaseState.GOAL_AGREEMENT:  # revised after a refusal
            self.history[-1] = (CaseState.GOAL_AGREEMENT, date.fromisoformat(on))
        else:
            self._record(CaseState.GOAL_AGREEMENT, on)

    @event(ApprovalRequested)
    def _approval_requested(self, step: str, on: str) -> None:
        self.pending_approval = ApprovalStep(step)

    # -- approval by the supervising post (Fachaufsicht) ------------------------------------
    def approve(self, step: ApprovalStep, by_tenant: str, on: date) -> None:
        self._check_pending(step, on)
        self._approved(ApprovalStep(step).value, by_tenant, on.isoformat())
        if step == ApprovalStep.CLOSURE:
            assert self.requested_closure is not None
            reason, requested_on = self.requested_closure
            self._closed(reason.value, requested_on.isoformat())

    def refuse_approval(self, step: ApprovalStep, by_tenant: str, reason: str, on: date) -> None:
        """``reason``: sealed under the person's key; empty when none was given."""
        self._check_pending(step, on)
        if not reason.strip():
            raise DomainError("reason-missing", "a refusal needs a reason", field="reason")
        self._approval_refused(ApprovalStep(step).value, by_tenant, reason, on.isoformat())

    def _check_pending(self, step: ApprovalStep, on: date) -> None:
        if self.pending_approval != step:
            waiting = self.pending_approval or "nothing"
            raise DomainError(
                "nothing-to-approve",
                f"the case awaits approval of {waiting}, not of {step}",
                field="step",
            )
        if on < self.history[-1][1]:
            raise DomainError(
                "date-before-last-step",
                f"{on} lies before the last step on {self.history[-1][1]}",
                field="on",
            )

    @event(Approved)
    def _approved(self, step: str, by_tenant: str, on: str) -> None:
        self.pending_approval = None
        self.approvals.append({"step": step, "by_tenant": by_tenant, "approved": True, "on": on})

    @event(ApprovalRefused)
    def _approval_refused(self, step: str, by_tenant: str, reason: str, on: str) -> None:
        self.pending_approval = None
        if step == ApprovalStep.CLOSURE:
            self.requested_closure = None
            # a goal agreement that awaited approval when closure was asked for still does
            self.pending_approval, self.approval_before_closure = self.approval_before_closure, None
        else:
            self.goals_refused = True
        self.approvals.append(
            {"step": step, "by_tenant": by_tenant, "approved": False, "reason": reason, "on": on}
        )

    def start_linking(self, on: date) -> None:
        self._move(CaseState.LINKING, on)
        self._linking(on.isoformat())

    @event(LinkingStarted)
    def _linking(self, on: str) -> None:
        self._record(CaseState.LINKING, on)

    def start_monitoring(self, on: date) -> None:
        self._move(CaseState.MONITORING, on)
        self._monitoring(on.isoformat())

    @event(MonitoringStarted)
    def _monitoring(self, on: str) -> None:
        self._record(CaseState.MONITORING, on)

    def start_reassessment(self, on: date) -> None:
        self._move(CaseState.REASSESSMENT, on)
        self._reassessment(on.isoformat())

    @event(ReassessmentStarted)
    def _reassessment(self, on: str) -> None:
        self._record(CaseState.REASSESSMENT, on)

    def close(self, reason: ClosureReason, on: date, *, needs_approval: bool = False) -> None:
        self._move(CaseState.CLOSED, on)
        if ClosureReason(reason) == ClosureReason.TRANSFERRED:
            raise DomainError(
                "transfer-closes-itself",
                "a case is closed as transferred by handing it over to another tenant",
                field="reason",
            )
        if ClosureReason(reason) == ClosureReason.GOALS_REACHED and (
            self.state not in GOALS_AGREED_STATES
        ):
            raise DomainError(
                "no-goals-to-reach",
                f"a case in {self.state} has no agreed goals that could have been reached",
                field="reason",
            )
        if needs_approval:
            self._closure_requested(ClosureReason(reason).value, on.isoformat())
        else:
            self._closed(ClosureReason(reason).value, on.isoformat())

    @event(ClosureRequested)
    def _closure_requested(self, reason: str, on: str) -> None:
        self.approval_before_closure = self.pending_approval
        self.pending_approval = ApprovalStep.CLOSURE
        self.requested_closure = (ClosureReason(reason), date.fromisoformat(on))

    @event(Closed)
    def _closed(self, reason: str, on: str) -> None:
        self.closure = (ClosureReason(reason), date.fromisoformat(on))
        self.requested_closure = None
        self.pending_approval = None
        self._record(CaseState.CLOSED, on)

    # -- monitoring: appointments, contacts, notes -----------------------------------------
    def _check_open(self, what: str) -> None:
        if self.is_closed:
            raise DomainError("case-closed", f"a closed case takes no {what}", field="state")

    def _check_not_before_opening(self, on: date) -> None:
        if on < self.opened_on:
            raise DomainError(
                "date-before-opening", f"{on} lies before the case opened on {self.opened_on}",
                field="on",
            )  # fmt: skip

    def schedule_appointment(self, on: date, kind: AppointmentKind) -> None:
        self._check_open("appointments")
        self._check_not_before_opening(on)
        self._appointment_scheduled(on.isoformat(), check_code(kind, AppointmentKind, "kind"))

    @event(AppointmentScheduled)
    def _appointment_scheduled(self, on: str, kind: str) -> None:
        self.appointments.append({"on": on, "kind": kind, "outcome": "scheduled"})

    def record_appointment(self, index: int, outcome: AppointmentOutcome) -> None:
        if not 0 <= index < len(self.appointments):
            raise DomainError(
                "no-such-appointment", f"the case has no appointment {index}", field="index"
            )
        if self.appointments[index]["outcome"] != "scheduled":
            raise DomainError(
                "appointment-recorded",
                f"appointment {index} is already recorded as {self.appointments[index]['outcome']}",
                field="index",
            )
        self._appointment_recorded(index, AppointmentOutcome(outcome).value)

    @event(AppointmentRecorded)
    def _appointment_recorded(self, index: int, outcome: str) -> None:
        self.appointments[index] = {**self.appointments[index], "outcome": outcome}

    def record_contact(self, on: date, channel: ContactChannel, life_dimensions: list[str]) -> None:
        self._check_open("contacts")
        self._check_not_before_opening(on)
        if life_dimensions:
            check_dimensions(dict.fromkeys(life_dimensions, ""), "life_dimensions")
        self._contact_recorded(on.isoformat(), ContactChannel(channel).value, list(life_dimensions))

    @event(ContactRecorded)
    def _contact_recorded(self, on: str, channel: str, life_dimensions: list[str]) -> None:
        self.contacts.append({"on": on, "channel": channel, "life_dimensions": life_dimensions})

    def add_note(self, on: date, sealed: str) -> None:
        """``sealed``: the note's text, sealed under the person's key."""
        self._check_open("notes")
        self._check_not_before_opening(on)
        self._note_added(on.isoformat(), sealed)

    @event(NoteAdded)
    def _note_added(self, on: str, sealed: str) -> None:
        self.notes.append((date.fromisoformat(on), sealed))

    # -- gaps in the system of services, seen in this case ----------------------------------
    def report_gap(self, life_dimension: str, description: str, on: date) -> None:
        """``description``: sealed under the person's key (empty: none given)."""
        check_dimensions({life_dimension: ""}, "life_dimension")
        if not description.strip():
            raise DomainError(
                "description-missing", "describe the gap (without personal data)",
                field="description",
            )  # fmt: skip
        self._gap_reported(uuid4(), life_dimension, description.strip(), on.isoformat())

    @event(GapReported)
    def _gap_reported(
        self, gap_id: UUID | None, life_dimension: str, description: str, reported_on: str
    ) -> None:
        self.gaps.append(
            {"gap_id": str(gap_id) if gap_id else None, "life_dimension": life_dimension,
             "description": description, "on": reported_on,
             # a report before gap ids went to coordination with its description in clear
             "released": None if gap_id else description, "released_on": None}
        )  # fmt: skip

    def release_gap(self, index: int, description: str, on: date) -> None:
        """The supervising post releases the gap's description for coordination, as it
        reviewed it (the application checked it for personal data)."""
        if not 0 <= index < len(self.gaps):
            raise DomainError("no-such-gap", f"the case has no gap {index}", field="index")
        gap = self.gaps[index]
        if gap["released"] is not None or gap["gap_id"] is None:
            raise DomainError(
                "gap-already-released",
                f"the description of gap {index} has already gone to coordination",
                field="index",
            )
        if on < date.fromisoformat(str(gap["on"])):
            raise DomainError(
                "date-before-report", f"{on} lies before the gap was reported on {gap['on']}",
                field="on",
            )  # fmt: skip
        if not description.strip():
            raise DomainError(
                "description-missing", "give the reviewed description", field="description"
            )
        self._gap_released(UUID(str(gap["gap_id"])), index, description, on.isoformat())

    @event(GapReleased)
    def _gap_released(self, gap_id: UUID, index: int, description: str, released_on: str) -> None:
        self.gaps[index] = {**self.gaps[index], "released": description, "released_on": released_on}

    # -- other programmes (no double counselling, no double funding) -------------------------
    @event(OtherProgrammesNoted)
    def note_other_programmes(self, programmes: list[str], reason: str) -> None:
        """``reason``: the documented reason, sealed under the person's key."""
        self.other_programmes = (list(programmes), reason)

    # -- referrals (Leistungssteuerung) -----------------------------------------------------
    def propose_referral(self, service: Service, recipient: str, on: date) -> None:
        if self.state not in REFERRAL_STATES:
            raise DomainError(
                "referral-not-in-this-state",
                f"referrals belong to linking and monitoring, the case is in {self.state}",
                field="service",
            )
        self._referral_proposed(
            Service(service).value, recipient, Service(service) in REFERRAL_ONLY, on.isoformat()
        )

    @event(ReferralProposed)
    def _referral_proposed(
        self, service: str, recipient: str, referral_only: bool, on: str
    ) -> None:
        self.referrals.append(
            {"service": service, "recipient": recipient, "referral_only": referral_only,
             "status": ReferralStatus.PROPOSED.value, "proposed_on": on}
        )  # fmt: skip

    def _referral(self, index: int, expected: ReferralStatus) -> dict[str, str | bool]:
        if not 0 <= index < len(self.referrals):
            raise DomainError(
                "no-such-referral", f"the case has no referral {index}", field="index"
            )
        referral = self.referrals[index]
        if referral["status"] != expected:
            raise DomainError(
                "referral-status",
                f"referral {index} is {referral['status']}, not {expected}",
                field="index",
            )
        return referral

    def answer_referral(self, index: int, accepted: bool, on: date) -> None:
        self._referral(index, ReferralStatus.PROPOSED)
        self._referral_answered(index, accepted, on.isoformat())

    @event(ReferralAnswered)
    def _referral_answered(self, index: int, accepted: bool, on: str) -> None:
        status = ReferralStatus.ACCEPTED if accepted else ReferralStatus.REJECTED
        self.referrals[index] = {**self.referrals[index], "status": status.value, "answered_on": on}

    def complete_referral(self, index: int, outcome: str, on: date) -> None:
        """``outcome``: sealed under the person's key."""
        self._referral(index, ReferralStatus.ACCEPTED)
        self._referral_completed(index, outcome, on.isoformat())

    @event(ReferralCompleted)
    def _referral_completed(self, index: int, outcome: str, on: str) -> None:
        self.referrals[index] = {
            **self.referrals[index], "status": ReferralStatus.COMPLETED.value,
            "outcome": outcome, "completed_on": on,
        }  # fmt: skip

    # -- transfer to another tenant (the person moves) ---------------------------------------
    def hand_over(
        self,
        to_tenant: str,
        transfer_id: UUID,
        sealed_for_destination: str | None,
        on: date,
        goals_for_destination: dict[str, str] | None = None,
    ) -> None:
        """Close as transferred. The event is the contract ``CaseHandedOver``: the summary
        holds the needs (codes) and the goals sealed under a transit key of the destination
        (``goals_for_destination``, the application seals them); personal data travels only
        sealed under that key (``sealed_for_destination``), and only with the person's
        consent."""
        self._move(CaseState.CLOSED, on)
        self._handed_over(
            to_tenant, transfer_id, self.referral_source.value,
            {"needs": dict(self.needs), "goals": dict(goals_for_destination or {})},
            sealed_for_destination, on.isoformat(),
        )  # fmt: skip

    @event(HandedOver)
    def _handed_over(
        self,
        to_tenant: str,
        transfer_id: UUID,
        referral_source: str,
        summary: dict[str, dict[str, str]],
        sealed_for_destination: str | None,
        on: str,
    ) -> None:
        self.closure = (ClosureReason.TRANSFERRED, date.fromisoformat(on))
        self.transferred_to = to_tenant
        self._record(CaseState.CLOSED, on)

    @event(TakenOver)
    def take_over(self, from_tenant: str, from_case: UUID, on: str) -> None:
        self.transferred_from = (from_tenant, from_case)

    # -- assignment to a case-management position ------------------------------------------
    def assign(self, position_id: UUID, on: date) -> None:
        if self.state == CaseState.CLOSED:
            raise DomainError("case-closed", "a closed case is not assigned any more")
        self._assigned(position_id, on.isoformat())

    @event(Assigned)
    def _assigned(self, position_id: UUID, on: str) -> None:
        self.position_id = position_id

    # -- index entries (contexts/shared/indexes.py) -----------------------------------------
    def index_entries(self) -> frozenset[tuple[str, str]]:
        """An open case counts among its person's open cases and, once assigned, in its
        position's caseload."""
        if self.state == CaseState.CLOSED:
            return frozenset()
        entries = {(OPEN_CASES_OF_PERSON, str(self.person_id))}
        if self.position_id is not None:
            entries.add((OPEN_CASES_OF_POSITION, str(self.position_id)))
        return frozenset(entries)


__all__ = [
    "ALLOWED",
    "GOALS_AGREED_STATES",
    "LIFE_DIMENSIONS",
    "OPEN_CASES_OF_PERSON",
    "OPEN_CASES_OF_POSITION",
    "REFERRAL_ONLY",
    "REFERRAL_STATES",
    "AppointmentKind",
    "AppointmentOutcome",
    "ApprovalStep",
    "Case",
    "CaseState",
    "ClosureReason",
    "ContactChannel",
    "KnownPosition",
    "NeedLevel",
    "ReferralSource",
    "ReferralStatus",
    "Service",
    "check_dimensions",
]
