"""The rules of the case's cycle (Regelkreis): which step may follow which, closure,
approval by the supervising post, hand-over to another tenant and assignment.

``CycleRules`` is a mixin of ``Case`` (``domain.py``): its commands check and then call the
case's event-recording methods, which stay with the events in ``domain.py`` (their topics
name that module).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from contexts.case_management.vocabulary import (
    ALLOWED,
    GOALS_AGREED_STATES,
    ApprovalStep,
    CaseState,
    ClosureReason,
    NeedLevel,
    ReferralSource,
    check_code,
    check_dimensions,
)
from contexts.shared.errors import DomainError


class CycleRules:
    """The commands of the case's steps; ``Case`` records their events."""

    if TYPE_CHECKING:  # what ``Case`` provides: its state, its event-recording methods
        state: CaseState
        history: list[tuple[CaseState, date]]
        needs: dict[str, str]
        referral_source: ReferralSource
        pending_approval: ApprovalStep | None
        requested_closure: tuple[ClosureReason, date] | None
        goals_refused: bool

        def _assessed(self, needs: dict[str, str], on: str) -> None: ...
        def _goals_agreed(self, goals: dict[str, str], on: str) -> None: ...
        def _approval_requested(self, step: str, on: str) -> None: ...
        def _approved(self, step: str, by_tenant: str, on: str) -> None: ...
        def _approval_refused(self, step: str, by_tenant: str, reason: str, on: str) -> None: ...
        def _linking(self, on: str) -> None: ...
        def _monitoring(self, on: str) -> None: ...
        def _reassessment(self, on: str) -> None: ...
        def _closure_requested(self, reason: str, on: str) -> None: ...
        def _closed(self, reason: str, on: str) -> None: ...
        def _handed_over(
            self,
            to_tenant: str,
            transfer_id: UUID,
            referral_source: str,
            summary: dict[str, dict[str, str]],
            sealed_for_destination: str | None,
            on: str,
        ) -> None: ...
        def _assigned(self, position_id: UUID, on: str) -> None: ...

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

    def assess(self, needs: dict[str, str], on: date) -> None:
        self._move(CaseState.ASSESSMENT, on)
        check_dimensions(needs, "needs")
        for level in needs.values():
            check_code(level, NeedLevel, "needs")
        self._assessed(needs, on.isoformat())

    def agree_goals(self, goals: dict[str, str], on: date, *, needs_approval: bool = False) -> None:
        """Goals per life dimension, agreed and dated; the tenant may require approval. The
        goals' texts come sealed under the person's key (the application seals them)."""
        self._move(CaseState.GOAL_AGREEMENT, on)
        check_dimensions(goals, "goals")
        self._goals_agreed(goals, on.isoformat())
        if needs_approval:
            self._approval_requested(ApprovalStep.GOAL_AGREEMENT.value, on.isoformat())

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

    def start_linking(self, on: date) -> None:
        self._move(CaseState.LINKING, on)
        self._linking(on.isoformat())

    def start_monitoring(self, on: date) -> None:
        self._move(CaseState.MONITORING, on)
        self._monitoring(on.isoformat())

    def start_reassessment(self, on: date) -> None:
        self._move(CaseState.REASSESSMENT, on)
        self._reassessment(on.isoformat())

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

    # -- assignment to a case-management position ------------------------------------------
    def assign(self, position_id: UUID, on: date) -> None:
        if self.state == CaseState.CLOSED:
            raise DomainError("case-closed", "a closed case is not assigned any more")
        self._assigned(position_id, on.isoformat())
