"""The rules of a procedure that read its state: what is unmet, what is due, the
dates it must not go back before, the index entries, its referrals to case management.

``ProcedureRules`` is a mixin of ``Procedure`` (``domain.py``): its commands check and then
call the procedure's event-recording methods, which stay with the events there (their topics
name that module).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from contexts.immigration_office.rules import RuleVersion, level_reached, rule_for
from contexts.immigration_office.states import Check, Kind, LegalBasis, Level, State, Step
from contexts.shared.errors import Conflict, DomainError

DUE = "procedure_due"
"""Index of procedures by the dates something is due (keys: ISO dates), kept with events."""
REFERRAL = "procedure_referral"
"""Index of procedures by the ids of their referrals to case management (answers find them)."""
RESIDENCE = "residence"
"""The requirement of years of residence (not a check the office records)."""
REFERRAL_STATES = {
    State.COUNSELLING, State.APPLICATION_RECEIVED, State.DOCUMENTS_REQUESTED,
    State.DOCUMENTS_COMPLETE, State.CHECKS, State.REQUIREMENTS_CHECKED, State.GRANTED,
}  # fmt: skip
"""While the person can still reach something: a referral to case management makes sense."""

ACHIEVEMENT_CHECKS = {
    "language_certificate": Check.LANGUAGE,
    "integration_course": Check.TEST,  # the course ends with the test "Leben in Deutschland"
    "naturalisation_test": Check.TEST,
    "employment": Check.LIVELIHOOD,
    "qualification": Check.SCHOOL_OR_TRAINING,
}
"""What an achievement of case management (``contexts.case_management.contracts``) proves."""


@dataclass(frozen=True)
class CheckResult:
    check: Check
    passed: bool
    on: date
    level: Level | None
    note: str | None  # sealed under the person's key


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _date(value: object) -> date | None:
    return date.fromisoformat(str(value)) if value else None


@dataclass(frozen=True)
class DueItem:
    procedure_id: UUID
    person_id: UUID
    legal_basis: LegalBasis
    state: State
    due_on: date
    what: str  # "documents" or "permit_end"
    open_requirements: list[str]
    position_id: UUID | None


class ProcedureRules:
    """Checks and reads of ``Procedure``; it records the events."""

    if TYPE_CHECKING:  # what ``Procedure`` provides
        person_id: UUID
        kind: Kind
        legal_basis: LegalBasis
        state: State
        opened_on: date
        applied_on: date | None
        decided_on: date | None
        outcome: str | None
        rule: dict[str, Any] | None
        aims_at: LegalBasis | None
        checks: list[CheckResult]
        documents_due: date | None
        permit_ends_on: date | None
        referrals: list[dict[str, Any]]

        def require_step(self, step: Step) -> State: ...
        def _converted(self, on: str, to_basis: str, follow_up_id: UUID) -> None: ...
        def _expired(self, on: str) -> None: ...
        def _referred(
            self, referral_id: str, to_tenant: str, requirements: list[str], on: str,
            deadlines: list[dict[str, str]],
        ) -> None: ...  # fmt: skip
        def _handed_over(
            self, to_tenant: str, residence: str, transfer_id: UUID, facts: dict[str, Any],
            sealed_for_destination: str | None, on: str,
        ) -> None: ...  # fmt: skip
        def _taken_over(
            self, from_tenant: str, from_procedure: UUID, facts: dict[str, Any], on: str
        ) -> None: ...
        def _referral_answered(
            self, referral_id: str, accepted: bool, reason: str | None, on: str
        ) -> None: ...
        def _check_recorded(
            self, check: str, passed: bool, on: str, level: str | None, note: str | None
        ) -> None: ...

    def _not_before(self, on: date, what: str, earlier: date | None) -> None:
        if earlier is not None and on < earlier:
            raise DomainError(
                "date-before-previous-step", f"{what} on {on} lies before {earlier}", field="on"
            )

    def _last_date(self) -> date:
        return max(
            [self.opened_on, self.applied_on or self.opened_on, *[c.on for c in self.checks]]
        )

    # -- the rule -----------------------------------------------------------------------------
    def unmet(self, rule: RuleVersion, residence_years: int | None) -> list[str]:
        """The rule's requirements not (yet) met: checks not passed, the language level,
        the years of residence (when known)."""
        passed = {c.check: c for c in self.checks if c.passed}
        missing = [c.value for c in sorted(rule.checks) if c not in passed]
        language = passed.get(Check.LANGUAGE)
        if not level_reached(language.level if language else None, rule.language):
            missing.append(f"{Check.LANGUAGE.value}:{rule.language}")
        if residence_years is not None and residence_years < rule.residence_years:
            missing.append(f"{RESIDENCE}:{rule.residence_years}")
        return sorted(missing)

    # -- index entries (contexts/shared/indexes.py) ---------------------------------------------
    def due_dates(self) -> list[tuple[date, str]]:
        """What is due by when: requested documents, a running § 104c permit's end."""
        found = []
        if self.state == State.DOCUMENTS_REQUESTED and self.documents_due is not None:
            found.append((self.documents_due, "documents"))
        if self.state == State.GRANTED and self.permit_ends_on is not None:
            found.append((self.permit_ends_on, "permit_end"))
        return found

    def index_entries(self) -> frozenset[tuple[str, str]]:
        due = {(DUE, d.isoformat()) for d, _ in self.due_dates()}
        return frozenset(due | {(REFERRAL, str(r["referral_id"])) for r in self.referrals})

    @property
    def is_naturalisation(self) -> bool:
        return self.kind == Kind.NATURALISATION

    # -- referrals to case management -------------------------------------------------------
    def refer(self, referral_id: UUID, to_tenant: str, requirements: list[str], on: date) -> None:
        if self.state not in REFERRAL_STATES:
            raise Conflict(
                "transition-not-allowed",
                f"a {self.kind} procedure in state {self.state} cannot take the step refer",
                state=self.state.value,
                step="refer",
            )
        self._not_before(on, "the referral", self.opened_on)
        deadlines = [{"due_on": d.isoformat(), "what": w} for d, w in self.due_dates()]
        self._referred(str(referral_id), to_tenant, sorted(requirements), on.isoformat(),
                       deadlines)  # fmt: skip

    def answer_referral(
        self, referral_id: UUID, accepted: bool, reason: str | None, on: date
    ) -> bool:
        """Case management's answer (idempotent: False if it was recorded already)."""
        found = [r for r in self.referrals if r["referral_id"] == str(referral_id)]
        if not found:
            raise DomainError("no-such-referral", f"no referral {referral_id} in the procedure")
        if found[0]["status"] != "requested":
            return False
        self._referral_answered(str(referral_id), accepted, reason, on.isoformat())
        return True

    def receive_achievement(self, check: Check, level: str | None, achieved_on: date) -> bool:
        """An integration achievement case management shared (with the person's consent)
        counts as a passed check, whatever the step (a certificate may predate the
        application); idempotent (False: the same result is recorded already)."""
        if self.state not in REFERRAL_STATES:
            return False
        same = [c for c in self.checks if c.check == check and c.passed and c.on == achieved_on]
        if any((c.level.value if c.level else None) == level for c in same):
            return False
        self._check_recorded(check.value, True, achieved_on.isoformat(), level, None)
        return True

    # -- after a § 104c grant (the events are recorded in ``domain.py``) -----------------------
    def convert(self, on: date, rule: RuleVersion, residence_years: int, follow_up: UUID) -> None:
        """The § 104c permit's holder met the requirements of § 25a / § 25b before its end."""
        self.require_step(Step.CONVERT)
        unmet = self.unmet(rule, residence_years)
        if unmet:
            raise DomainError(
                "rule-not-met",
                f"{rule.version} is not met: {', '.join(unmet)}",
                unmet=unmet,
                rule_version=rule.version,
            )
        self._converted(on.isoformat(), rule.basis.value, follow_up)

    def expire(self, on: date) -> None:
        self.require_step(Step.EXPIRE)
        if self.permit_ends_on is not None and on <= self.permit_ends_on:
            raise DomainError("permit-still-running", f"the permit runs until"
                              f" {self.permit_ends_on}", field="on")  # fmt: skip
        self._expired(on.isoformat())

    # -- a person moves: hand-over to another tenant's office --------------------------------
    def hand_over(
        self, to_tenant: str, residence: str, transfer_id: UUID, sealed: str | None, on: date,
        open_requirements: list[str],
    ) -> None:  # fmt: skip
        """Close as handed over (contract ``ProcedureHandedOver``): the facts go along as
        codes and dates, personal data only ``sealed`` for the destination."""
        self.require_step(Step.HAND_OVER)
        self._not_before(on, "the hand-over", max(self._last_date(), self.decided_on or on))
        facts = self.facts(open_requirements)
        self._handed_over(to_tenant, residence, transfer_id, facts, sealed, on.isoformat())

    def facts(self, open_requirements: list[str]) -> dict[str, Any]:
        """What the destination needs to go on: legal basis, state, dates, the rule version,
        requirements met and open, deadlines, the checks (without their sealed notes)."""
        try:
            version = (
                rule_for(self.legal_basis, self.applied_on).version if self.applied_on else None
            )
        except DomainError:
            version = None
        checks = [{"check": c.check.value, "passed": c.passed, "on": c.on.isoformat(),
                   "level": c.level.value if c.level else None} for c in self.checks]  # fmt: skip
        return {
            "person_id": str(self.person_id), "legal_basis": self.legal_basis.value,
            "state": self.state.value, "opened_on": self.opened_on.isoformat(),
            "applied_on": _day(self.applied_on), "decided_on": _day(self.decided_on),
            "outcome": self.outcome, "rule_version": version, "rule": self.rule,
            "permit_ends_on": _day(self.permit_ends_on), "documents_due": _day(self.documents_due),
            "aims_at": self.aims_at.value if self.aims_at else None, "checks": checks,
            "requirements_met": sorted(c.check.value for c in self.checks if c.passed),
            "requirements_open": sorted(open_requirements),
            "deadlines": [{"due_on": d.isoformat(), "what": w} for d, w in self.due_dates()],
        }  # fmt: skip

    def take_over(
        self, from_tenant: str, from_procedure: UUID, facts: dict[str, Any], on: date
    ) -> None:
        self._taken_over(from_tenant, from_procedure, facts, on.isoformat())

    def _restore(self, facts: dict[str, Any]) -> None:
        """The destination's procedure continues where the origin's stopped."""
        self.state = State(facts["state"])
        self.applied_on, self.decided_on = _date(facts["applied_on"]), _date(facts["decided_on"])
        self.outcome, self.rule = facts.get("outcome"), facts.get("rule")
        self.permit_ends_on = _date(facts.get("permit_ends_on"))
        self.documents_due = _date(facts.get("documents_due"))
        self.aims_at = LegalBasis(facts["aims_at"]) if facts.get("aims_at") else None
        self.checks = [
            CheckResult(Check(c["check"]), bool(c["passed"]), date.fromisoformat(c["on"]),
                        Level(c["level"]) if c.get("level") else None, None)
            for c in facts.get("checks") or []
        ]  # fmt: skip
