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
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.case_management.case_achievements import AchievementRules
from contexts.case_management.case_cycle import CycleRules
from contexts.case_management.case_indexes import (
    OPEN_CASES_OF_PERSON,
    OPEN_CASES_OF_POSITION,
    CaseIndexes,
)
from contexts.case_management.case_records import RecordRules
from contexts.case_management.case_referrals import ReferralRules
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
    check_dimensions,
)


class Case(CycleRules, RecordRules, ReferralRules, AchievementRules, CaseIndexes, Aggregate):
    """One person's case in one tenant; a person can have several cases over time.

    The events and the methods that record them live here (their topics name this module);
    the commands that check the rules before recording come from the mixins: the cycle
    (``case_cycle``), the records (``case_records``), the referrals (``case_referrals``) and
    the achievements (``case_achievements``); the index entries from ``case_indexes``.
    """

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

    class AchievementRecorded(Aggregate.Event):
        """An integration achievement (``contracts.ACHIEVEMENT_KINDS``): codes and dates."""

        kind: str
        level: str | None  # a language certificate's level, else None
        achieved_on: str
        on: str

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
        self.achievements: list[dict[str, str | None]] = []

    @property
    def is_closed(self) -> bool:
        return self.state == CaseState.CLOSED

    def _record(self, to: CaseState, on: str) -> None:
        self.state = to
        self.history.append((to, date.fromisoformat(on)))

    # -- the cycle's steps (commands: ``CycleRules``) ----------------------------------------
    @event(Assessed)
    def _assessed(self, needs: dict[str, str], on: str) -> None:
        self.needs = dict(needs)
        self._record(CaseState.ASSESSMENT, on)

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

    @event(LinkingStarted)
    def _linking(self, on: str) -> None:
        self._record(CaseState.LINKING, on)

    @event(MonitoringStarted)
    def _monitoring(self, on: str) -> None:
        self._record(CaseState.MONITORING, on)

    @event(ReassessmentStarted)
    def _reassessment(self, on: str) -> None:
        self._record(CaseState.REASSESSMENT, on)

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
    @event(AppointmentScheduled)
    def _appointment_scheduled(self, on: str, kind: str) -> None:
        self.appointments.append({"on": on, "kind": kind, "outcome": "scheduled"})

    @event(AppointmentRecorded)
    def _appointment_recorded(self, index: int, outcome: str) -> None:
        self.appointments[index] = {**self.appointments[index], "outcome": outcome}

    @event(ContactRecorded)
    def _contact_recorded(self, on: str, channel: str, life_dimensions: list[str]) -> None:
        self.contacts.append({"on": on, "channel": channel, "life_dimensions": life_dimensions})

    @event(NoteAdded)
    def _note_added(self, on: str, sealed: str) -> None:
        self.notes.append((date.fromisoformat(on), sealed))

    # -- gaps in the system of services, seen in this case ----------------------------------
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

    @event(GapReleased)
    def _gap_released(self, gap_id: UUID, index: int, description: str, released_on: str) -> None:
        self.gaps[index] = {**self.gaps[index], "released": description, "released_on": released_on}

    # -- integration achievements (shared with an office only under consent: application) --
    @event(AchievementRecorded)
    def _achievement_recorded(
        self, kind: str, level: str | None, achieved_on: str, on: str
    ) -> None:
        self.achievements.append(
            {"kind": kind, "level": level, "achieved_on": achieved_on, "on": on}
        )

    # -- other programmes (no double counselling, no double funding) -------------------------
    @event(OtherProgrammesNoted)
    def note_other_programmes(self, programmes: list[str], reason: str) -> None:
        """``reason``: the documented reason, sealed under the person's key."""
        self.other_programmes = (list(programmes), reason)

    # -- referrals (Leistungssteuerung) -----------------------------------------------------
    @event(ReferralProposed)
    def _referral_proposed(
        self, service: str, recipient: str, referral_only: bool, on: str
    ) -> None:
        self.referrals.append(
            {"service": service, "recipient": recipient, "referral_only": referral_only,
             "status": ReferralStatus.PROPOSED.value, "proposed_on": on}
        )  # fmt: skip

    @event(ReferralAnswered)
    def _referral_answered(self, index: int, accepted: bool, on: str) -> None:
        status = ReferralStatus.ACCEPTED if accepted else ReferralStatus.REJECTED
        self.referrals[index] = {**self.referrals[index], "status": status.value, "answered_on": on}

    @event(ReferralCompleted)
    def _referral_completed(self, index: int, outcome: str, on: str) -> None:
        self.referrals[index] = {
            **self.referrals[index], "status": ReferralStatus.COMPLETED.value,
            "outcome": outcome, "completed_on": on,
        }  # fmt: skip

    # -- transfer to another tenant (the person moves) ---------------------------------------
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
    @event(Assigned)
    def _assigned(self, position_id: UUID, on: str) -> None:
        self.position_id = position_id


__all__ = [
    "ALLOWED", "GOALS_AGREED_STATES", "LIFE_DIMENSIONS", "OPEN_CASES_OF_PERSON",
    "OPEN_CASES_OF_POSITION", "REFERRAL_ONLY", "REFERRAL_STATES", "AppointmentKind",
    "AppointmentOutcome", "ApprovalStep", "Case", "CaseState", "ClosureReason", "ContactChannel",
    "KnownPosition", "NeedLevel", "ReferralSource", "ReferralStatus", "Service", "check_dimensions",
]  # fmt: skip
