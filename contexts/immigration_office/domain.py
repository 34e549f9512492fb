"""The immigration office's aggregates: the person known to the office and the procedure.

A procedure (naturalisation or residence consolidation) moves through the state machine of
its kind (``states.TRANSITIONS``); every step is an event in the past tense, and a step the
table does not allow from the current state is refused naming both. The person's data is
never in an event in clear: ``OfficePerson.sealed`` holds it under the person's key, and a
procedure holds the pseudonymous person id only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from contexts.immigration_office.people import add_months
from contexts.immigration_office.procedure_rules import CheckResult, ProcedureRules
from contexts.immigration_office.rules import RuleVersion, rule_for
from contexts.immigration_office.states import (
    CHECKS_ALLOWED_IN,
    CONVERSIONS,
    KIND_OF,
    Check,
    LegalBasis,
    Level,
    State,
    Step,
    allowed,
)
from contexts.shared.errors import Conflict, DomainError


class Procedure(ProcedureRules, Aggregate):
    """One procedure of the office with one person, on one legal basis."""

    class Opened(Aggregate.Created):
        person_id: UUID
        legal_basis: str
        residence: str  # the municipality (tenant key or AGS) the person lives in
        opened_on: str
        position_id: UUID | None
        converted_from: UUID | None

    class ApplicationReceived(Aggregate.Event):
        on: str

    class DocumentsRequested(Aggregate.Event):
        on: str
        due_on: str | None

    class DocumentsCompleted(Aggregate.Event):
        on: str

    class ChecksStarted(Aggregate.Event):
        on: str

    class RequirementsCheckCompleted(Aggregate.Event):
        on: str

    class CheckRecorded(Aggregate.Event):
        check: str
        passed: bool
        on: str
        level: str | None
        note: str | None  # sealed

    class Granted(Aggregate.Event):
        on: str
        rule: dict[str, Any]  # the rule version applied and its figures
        residence_years: int
        permit_ends_on: str | None
        aims_at: str | None

    class Refused(Aggregate.Event):
        on: str
        rule: dict[str, Any]
        unmet: list[str]
        reason: str | None  # sealed

    class Withdrawn(Aggregate.Event):
        on: str

    class CertificateHandedOver(Aggregate.Event):
        on: str

    class CeremonyInvited(Aggregate.Event):
        on: str
        ceremony_on: str

    class Converted(Aggregate.Event):
        on: str
        to_basis: str
        follow_up_id: UUID

    class Expired(Aggregate.Event):
        on: str

    class ReferredToCaseManagement(Aggregate.Event):
        """Contract: ``contracts.REFERRED`` (the open requirements as codes, no person data)."""

        referral_id: str
        to_tenant: str
        requirements: list[str]
        on: str
        deadlines: list[dict[str, str]]  # version 2: what is due by when ("due_on", "what")

        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            """Referrals before deadlines went along: none named."""
            state["deadlines"] = []

    class ReferralAnswered(Aggregate.Event):
        referral_id: str
        accepted: bool
        reason: str | None  # a code of case management's (declined), never free text
        on: str

    class HandedOver(Aggregate.Event):
        """Contract ``contracts.HANDED_OVER``: the facts; personal data sealed for the
        destination under its one-time key ``transfer_id``."""

        to_tenant: str
        residence: str
        transfer_id: UUID
        facts: dict[str, Any]
        sealed_for_destination: str | None
        on: str

    class TakenOver(Aggregate.Event):
        from_tenant: str
        from_procedure: UUID
        facts: dict[str, Any]
        on: str

    @event(Opened)
    def __init__(
        self, person_id: UUID, legal_basis: str, residence: str, opened_on: str,
        position_id: UUID | None, converted_from: UUID | None,
    ) -> None:  # fmt: skip
        self.person_id = person_id
        self.legal_basis = LegalBasis(legal_basis)
        self.kind = KIND_OF[self.legal_basis]
        self.residence = residence
        self.opened_on = date.fromisoformat(opened_on)
        self.position_id = position_id
        self.converted_from = converted_from
        self.state = State.COUNSELLING
        self.applied_on: date | None = None
        self.decided_on: date | None = None
        self.outcome: str | None = None
        self.documents_due: date | None = None
        self.checks: list[CheckResult] = []
        self.rule: dict[str, Any] | None = None
        self.permit_ends_on: date | None = None
        self.aims_at: LegalBasis | None = None
        self.follow_up_id: UUID | None = None
        self.closed_on: date | None = None
        self.referrals: list[dict[str, Any]] = []
        self.handed_over_to: str | None = None
        self.taken_over: dict[str, Any] | None = None  # from tenant, procedure, on, decided_on

    # -- the state machine ------------------------------------------------------------------
    def require_step(self, step: Step) -> State:
        table = allowed(self.legal_basis, self.state)
        if step not in table:
            raise Conflict(
                "transition-not-allowed",
                f"a {self.kind} procedure ({self.legal_basis}) in state {self.state} cannot"
                f" take the step {step}; allowed: {', '.join(sorted(table)) or 'none'}",
                state=self.state.value,
                step=step.value,
                allowed=sorted(s.value for s in table),
            )
        return table[step]

    def receive_application(self, on: date) -> None:
        self.require_step(Step.RECEIVE_APPLICATION)
        self._not_before(on, "the application", self.opened_on)
        rule_for(self.legal_basis, on)  # judged by the version valid that day: none, refused
        self._application_received(on.isoformat())

    @event(ApplicationReceived)
    def _application_received(self, on: str) -> None:
        self.applied_on = date.fromisoformat(on)
        self.state = State.APPLICATION_RECEIVED

    def request_documents(self, on: date, due_on: date | None) -> None:
        self.require_step(Step.REQUEST_DOCUMENTS)
        self._not_before(on, "the request", self.applied_on)
        if due_on is not None and due_on < on:
            raise DomainError("due-before-request", "documents cannot be due before the request",
                              field="due_on")  # fmt: skip
        self._documents_requested(on.isoformat(), due_on.isoformat() if due_on else None)

    @event(DocumentsRequested)
    def _documents_requested(self, on: str, due_on: str | None) -> None:
        self.documents_due = date.fromisoformat(due_on) if due_on else None
        self.state = State.DOCUMENTS_REQUESTED

    def complete_documents(self, on: date) -> None:
        self.require_step(Step.COMPLETE_DOCUMENTS)
        self._not_before(on, "the documents", self.applied_on)
        self._documents_completed(on.isoformat())

    @event(DocumentsCompleted)
    def _documents_completed(self, on: str) -> None:
        self.documents_due = None
        self.state = State.DOCUMENTS_COMPLETE

    def start_checks(self, on: date) -> None:
        self.require_step(Step.START_CHECKS)
        self._not_before(on, "the checks", self.applied_on)
        self._checks_started(on.isoformat())

    @event(ChecksStarted)
    def _checks_started(self, on: str) -> None:
        self.state = State.CHECKS

    def complete_requirements_check(self, on: date) -> None:
        self.require_step(Step.COMPLETE_REQUIREMENTS_CHECK)
        self._not_before(on, "the requirements check", self.applied_on)
        self._requirements_checked(on.isoformat())

    @event(RequirementsCheckCompleted)
    def _requirements_checked(self, on: str) -> None:
        self.state = State.REQUIREMENTS_CHECKED

    def record_check(
        self, check: Check, passed: bool, on: date, level: Level | None, note: str | None
    ) -> None:
        if self.state not in CHECKS_ALLOWED_IN or (
            self.state == State.GRANTED and self.legal_basis != LegalBasis.AUFENTHG_104C
        ):
            raise Conflict(
                "transition-not-allowed",
                f"a {self.kind} procedure in state {self.state} cannot take the step record_check",
                state=self.state.value,
                step="record_check",
            )
        if (check == Check.LANGUAGE) != (level is not None):
            raise DomainError(
                "language-level", "a language check, and only it, names the level reached",
                field="level",
            )  # fmt: skip
        self._not_before(on, "the check", self.applied_on)
        level_value = Level(level).value if level is not None else None
        self._check_recorded(Check(check).value, passed, on.isoformat(), level_value, note)

    @event(CheckRecorded)
    def _check_recorded(
        self, check: str, passed: bool, on: str, level: str | None, note: str | None
    ) -> None:
        found = CheckResult(
            Check(check), passed, date.fromisoformat(on), Level(level) if level else None, note
        )
        self.checks = [c for c in self.checks if c.check != found.check] + [found]

    def grant(
        self, on: date, rule: RuleVersion, residence_years: int, aims_at: LegalBasis | None
    ) -> None:
        self.require_step(Step.GRANT)
        self._not_before(on, "the decision", self._last_date())
        unmet = self.unmet(rule, residence_years)
        if unmet:
            raise DomainError(
                "rule-not-met",
                f"{rule.version} (valid on the application date {self.applied_on}) is not met:"
                f" {', '.join(unmet)}",
                unmet=unmet,
                rule_version=rule.version,
            )
        ends = None
        if rule.permit_months is not None:
            ends = add_months(on, rule.permit_months) - timedelta(days=1)
            aims_at = LegalBasis(aims_at or LegalBasis.AUFENTHG_25B)
            if aims_at not in CONVERSIONS:
                raise DomainError("conversion-basis", f"{aims_at} is no conversion of § 104c",
                                  field="aims_at")  # fmt: skip
        else:
            aims_at = None
        self._granted(
            on.isoformat(), rule.figures(), residence_years,
            ends.isoformat() if ends else None, aims_at.value if aims_at else None,
        )  # fmt: skip

    @event(Granted)
    def _granted(
        self,
        on: str,
        rule: dict[str, Any],
        residence_years: int,
        permit_ends_on: str | None,
        aims_at: str | None,
    ) -> None:
        self.state = State.GRANTED
        self.decided_on = date.fromisoformat(on)
        self.outcome = State.GRANTED.value
        self.rule = rule
        self.permit_ends_on = date.fromisoformat(permit_ends_on) if permit_ends_on else None
        self.aims_at = LegalBasis(aims_at) if aims_at else None

    def refuse(self, on: date, rule: RuleVersion, unmet: list[str], reason: str | None) -> None:
        self.require_step(Step.REFUSE)
        self._not_before(on, "the decision", self._last_date())
        self._refused(on.isoformat(), rule.figures(), sorted(unmet), reason)

    @event(Refused)
    def _refused(self, on: str, rule: dict[str, Any], unmet: list[str], reason: str | None) -> None:
        self.state = State.REFUSED
        self.decided_on = self.closed_on = date.fromisoformat(on)
        self.outcome = State.REFUSED.value
        self.rule = rule

    def withdraw(self, on: date) -> None:
        self.require_step(Step.WITHDRAW)
        self._not_before(on, "the withdrawal", self.applied_on or self.opened_on)
        self._withdrawn(on.isoformat())

    @event(Withdrawn)
    def _withdrawn(self, on: str) -> None:
        self.state = State.WITHDRAWN
        self.closed_on = date.fromisoformat(on)
        if self.applied_on is not None:
            self.decided_on = self.closed_on
            self.outcome = State.WITHDRAWN.value
        self.documents_due = None

    def hand_over_certificate(self, on: date) -> None:
        self.require_step(Step.HAND_OVER_CERTIFICATE)
        self._not_before(on, "the certificate", self.decided_on)
        self._certificate(on.isoformat())

    @event(CertificateHandedOver)
    def _certificate(self, on: str) -> None:
        self.state = State.CERTIFICATE_HANDED_OVER

    def invite_to_ceremony(self, on: date, ceremony_on: date) -> None:
        self.require_step(Step.INVITE_TO_CEREMONY)
        if ceremony_on < on:
            raise DomainError("ceremony-before-invitation", "the ceremony lies before the"
                              " invitation", field="ceremony_on")  # fmt: skip
        self._invited(on.isoformat(), ceremony_on.isoformat())

    @event(CeremonyInvited)
    def _invited(self, on: str, ceremony_on: str) -> None:
        self.state = State.CEREMONY_INVITED
        self.closed_on = date.fromisoformat(on)

    @event(Converted)
    def _converted(self, on: str, to_basis: str, follow_up_id: UUID) -> None:
        self.state = State.CONVERTED
        self.follow_up_id = follow_up_id
        self.closed_on = date.fromisoformat(on)

    @event(Expired)
    def _expired(self, on: str) -> None:
        self.state = State.EXPIRED
        self.closed_on = date.fromisoformat(on)

    @event(ReferredToCaseManagement)
    def _referred(
        self, referral_id: str, to_tenant: str, requirements: list[str], on: str,
        deadlines: list[dict[str, str]],
    ) -> None:  # fmt: skip
        self.referrals.append(
            {"referral_id": referral_id, "to_tenant": to_tenant, "requirements": requirements,
             "on": on, "status": "requested", "reason": None, "answered_on": None,
             "deadlines": deadlines}
        )  # fmt: skip

    @event(HandedOver)
    def _handed_over(
        self, to_tenant: str, residence: str, transfer_id: UUID, facts: dict[str, Any],
        sealed_for_destination: str | None, on: str,
    ) -> None:  # fmt: skip
        self.state = State.HANDED_OVER
        self.closed_on = date.fromisoformat(on)
        self.documents_due = None
        self.handed_over_to = to_tenant

    @event(TakenOver)
    def _taken_over(
        self, from_tenant: str, from_procedure: UUID, facts: dict[str, Any], on: str
    ) -> None:
        self._restore(facts)
        self.taken_over = {"tenant": from_tenant, "procedure": str(from_procedure), "on": on,
                           "decided_on": facts.get("decided_on")}  # fmt: skip

    @event(ReferralAnswered)
    def _referral_answered(
        self, referral_id: str, accepted: bool, reason: str | None, on: str
    ) -> None:
        for r in self.referrals:
            if r["referral_id"] == referral_id:
                r.update(status="accepted" if accepted else "declined", reason=reason,
                         answered_on=on)  # fmt: skip
