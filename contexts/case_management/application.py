"""Commands of case management, one tenant at a time (first increment: people and cases)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder, Recording
from eventsourcing.utils import get_topic

from contexts.case_management.domain import (
    Case,
    CaseState,
    ClosureReason,
    KnownPosition,
    ReferralSource,
    Service,
)
from contexts.case_management.people import ConsentPurpose, Person, Programme
from contexts.case_management.retention import RetentionPolicy
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.vault import PersonalDataVault

PERSONAL_FIELDS = {
    "name", "date_of_birth", "contact", "languages", "nationality", "residence_status",
}  # fmt: skip


class CaseManagementApplication(TenantApplication):
    context = "case_management"
    target_group_years = 5  # arrival within the last 5 years, unless catch-up integration

    def __init__(
        self,
        tenant: str,
        recorder_factory: Callable[[str, str], ApplicationRecorder],
        vault: PersonalDataVault,
    ) -> None:
        super().__init__(tenant, recorder_factory)
        self.vault = vault

    # -- people ---------------------------------------------------------------------------
    def register_person(
        self, personal_data: dict[str, Any], arrival_on: date | None
    ) -> list[Recording[UUID]]:
        unknown = sorted(set(personal_data) - PERSONAL_FIELDS)
        if unknown:
            raise DomainError(
                "not-minimal-data",
                f"fields beyond the minimum are not stored: {', '.join(unknown)}",
                field="personal_data",
            )
        # The id comes first, so the data is sealed under the person's own key.
        person_id = uuid4()
        person = Person(
            id=person_id,
            sealed=self.vault.seal(self.tenant, person_id, personal_data),
            arrival_on=arrival_on.isoformat() if arrival_on else None,
        )
        return self.save(person)

    def get_person(self, person_id: UUID) -> Person:
        return self.load(Person, person_id, "person")

    def personal_data(self, person_id: UUID) -> dict[str, Any] | None:
        """The person's data, or None after erasure (only for those allowed to see it)."""
        person = self.get_person(person_id)
        return self.vault.open(self.tenant, person_id, person.sealed) if person.sealed else None

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

    def erase_person(self, person_id: UUID, on: date) -> list[Recording[UUID]]:
        """Crypto-shredding: record the erasure, then destroy the person's key."""
        person = self.get_person(person_id)
        person.erase(on)
        recordings = self.save(person)
        self.vault.erase(self.tenant, person_id)
        return recordings

    # -- cases ----------------------------------------------------------------------------
    def open_case(
        self,
        person_id: UUID,
        *,
        referral_source: ReferralSource,
        opened_on: date,
        catch_up_reason: str | None = None,
        double_funding_reason: str | None = None,
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        if person.erased_on is not None:
            raise DomainError("person-erased", "an erased person cannot get a new case")
        person.require_consent(ConsentPurpose.CASE_MANAGEMENT, self.tenant, opened_on)
        within = person.arrival_on is not None and (
            opened_on.year - person.arrival_on.year
            - ((opened_on.month, opened_on.day) < (person.arrival_on.month, person.arrival_on.day))
        ) < self.target_group_years  # fmt: skip
        if not within and not (catch_up_reason and catch_up_reason.strip()):
            raise DomainError(
                "outside-target-group",
                f"arrival more than {self.target_group_years} years ago (or unknown):"
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
        case = Case(
            person_id=person_id,
            referral_source=ReferralSource(referral_source).value,
            opened_on=opened_on.isoformat(),
            catch_up_reason=None if within else catch_up_reason,
        )
        if others:
            case.note_other_programmes([str(p) for p in others], str(double_funding_reason))
        return self.save(case)

    def record_participation(
        self, person_id: UUID, *, programme: Programme, start: date, end: date | None = None
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.record_participation(programme, start, end)
        return self.save(person)

    def propose_referral(
        self, case_id: UUID, *, service: Service, recipient: str, on: date
    ) -> list[Recording[UUID]]:
        """A referral hands data to a recipient: refused without a valid consent."""
        case = self.get_case(case_id)
        self.get_person(case.person_id).require_consent(ConsentPurpose.REFERRAL, recipient, on)
        case.propose_referral(service, recipient, on)
        return self.save(case)

    def answer_referral(
        self, case_id: UUID, *, index: int, accepted: bool, on: date
    ) -> list[Recording[UUID]]:
        case = self.get_case(case_id)
        case.answer_referral(index, accepted, on)
        return self.save(case)

    def complete_referral(
        self, case_id: UUID, *, index: int, outcome: str, on: date
    ) -> list[Recording[UUID]]:
        case = self.get_case(case_id)
        case.complete_referral(index, outcome, on)
        return self.save(case)

    def get_case(self, case_id: UUID) -> Case:
        return self.load(Case, case_id, "case")

    def close_case(
        self, case_id: UUID, *, reason: ClosureReason, on: date
    ) -> list[Recording[UUID]]:
        case = self.get_case(case_id)
        case.close(reason, on)
        return self.save(case)

    # -- positions, assignment and caseload --------------------------------------------------
    caseload_target_per_fte = 100  # 1:100 per full-time position
    caseload_limit_per_fte = 120  # beyond the target a warning, beyond the limit a refusal

    def note_position(
        self, position_id: UUID, fte: Decimal, work_tenant: str
    ) -> list[Recording[UUID]]:
        """Record a position coordination published, idempotently (its id is the position's)."""
        if position_id in self.repository:
            return []
        return self.save(KnownPosition(id=position_id, fte=str(fte), work_tenant=work_tenant))

    def note_supervision(
        self, position_id: UUID, *, post_tenant: str, valid_from: date | None, valid_to: date | None
    ) -> list[Recording[UUID]]:
        """Mirror coordination's supervision line (Fachaufsicht) of a known position.

        Idempotent: a line already noted, or an end with no open line, changes nothing.
        """
        position = self.load(KnownPosition, position_id, "position")
        lines = position.supervision
        if valid_from is not None and not any(
            post == post_tenant and start == valid_from for post, start, _ in lines
        ):
            position.note_supervision(post_tenant, valid_from.isoformat())
        if valid_to is not None and any(end is None for _, _, end in position.supervision):
            position.note_supervision_end(valid_to.isoformat())
        return self.save(position)

    def may_see_personal_data(
        self, *, tenant: str, roles: set[str], position: UUID | None, case_id: UUID, on: date
    ) -> bool:
        """Only the case manager of the assigned position and the post supervising it."""
        case = self.get_case(case_id)
        if case.position_id is None:
            return False
        if "case_manager" in roles and tenant == self.tenant and position == case.position_id:
            return True
        if "coordinator" in roles and case.position_id in self.repository:
            known = self.load(KnownPosition, case.position_id, "position")
            return known.supervisor_on(on) == tenant
        return False

    def caseload(self, position_id: UUID) -> tuple[int, Decimal]:
        """Open cases assigned to the position, and open cases per full-time equivalent."""
        position = self.load(KnownPosition, position_id, "position")
        open_cases = 0
        for n in self.recorder.select_notifications(
            start=None, limit=1_000_000, topics=[get_topic(Case.Opened)]
        ):
            case = self.get_case(UUID(str(n.originator_id)))
            if case.position_id == position_id and case.state != CaseState.CLOSED:
                open_cases += 1
        per_fte = (Decimal(open_cases) / position.fte).quantize(Decimal("0.1"))
        return open_cases, per_fte

    def assign_case(self, case_id: UUID, *, position_id: UUID, on: date) -> str | None:
        """Assign a case; returns a warning above the 1:100 target, refuses above the limit."""
        position = self.load(KnownPosition, position_id, "position")
        case = self.get_case(case_id)
        open_cases, _ = self.caseload(position_id)
        after = Decimal(open_cases + 1) / position.fte
        if after > self.caseload_limit_per_fte:
            raise DomainError(
                "caseload-limit",
                f"the position would carry {after:.1f} cases per FTE, above the limit of"
                f" {self.caseload_limit_per_fte}",
                field="position_id",
                cases_per_fte=f"{after:.1f}",
                limit=self.caseload_limit_per_fte,
            )
        case.assign(position_id, on)
        self.save(case)
        if after > self.caseload_target_per_fte:
            return (
                f"caseload {after:.1f} per FTE is above the target of"
                f" {self.caseload_target_per_fte}"
            )
        return None

    # -- retention ------------------------------------------------------------------------
    def due_for_erasure(self, today: date, policy: RetentionPolicy | None = None) -> list[UUID]:
        """People whose cases are all closed and whose retention period has passed."""
        rule = policy or RetentionPolicy()
        last_closure: dict[UUID, date | None] = {}
        people: set[UUID] = set()
        for n in self.recorder.select_notifications(start=None, limit=1_000_000):
            e = self.mapper.to_domain_event(n)
            if isinstance(e, Person.Registered):
                people.add(UUID(str(n.originator_id)))
            elif isinstance(e, Person.Erased):
                people.discard(UUID(str(n.originator_id)))
            elif isinstance(e, Case.Opened):
                last_closure[UUID(str(n.originator_id))] = None
        by_person: dict[UUID, list[date | None]] = {}
        for case_id in last_closure:
            case = self.get_case(case_id)
            closed = case.closure[1] if case.closure else None
            by_person.setdefault(case.person_id, []).append(closed)
        due = []
        for person_id in sorted(people):
            closures = by_person.get(person_id, [])
            if closures and all(c is not None for c in closures):
                latest = max(c for c in closures if c is not None)
                if rule.personal_data_due(latest, today):
                    due.append(person_id)
        return due

    # -- transfer between tenants ---------------------------------------------------------
    def hand_over(self, case_id: UUID, *, to_tenant: str, on: date) -> Handover:
        """The origin's part: needs consent to transfer; personal data only with its own consent.

        Returns what the destination needs; it holds personal data only sealed for transit.
        """
        if to_tenant == self.tenant:
            raise DomainError(
                "transfer-to-self", "a case moves to another tenant", field="to_tenant"
            )
        case = self.get_case(case_id)
        person = self.get_person(case.person_id)
        person.require_consent(ConsentPurpose.TRANSFER, to_tenant, on)
        with_data = person.consents_to(ConsentPurpose.DATA_HANDOVER, to_tenant, on)
        case.hand_over(to_tenant, with_data, on)
        self.save(case)
        data = self.personal_data(case.person_id) if with_data else None
        return Handover(
            from_tenant=self.tenant,
            from_case=case_id,
            to_tenant=to_tenant,
            referral_source=str(case.referral_source),
            summary={"needs": dict(case.needs), "goals": dict(case.goals)},
            personal_data=data,
            arrival_on=person.arrival_on,
            on=on,
        )

    def take_over(self, handover: Handover) -> list[Recording[UUID]]:
        """The destination's part: a new person record (only what was consented) and case."""
        if handover.to_tenant != self.tenant:
            raise DomainError("not-for-this-tenant", f"the hand-over is for {handover.to_tenant}")
        person_id = uuid4()
        person = Person(
            id=person_id,
            sealed=self.vault.seal(self.tenant, person_id, handover.personal_data or {}),
            arrival_on=handover.arrival_on.isoformat() if handover.arrival_on else None,
        )
        # The person agreed to the move; case management here starts on that basis.
        person.give_consent(ConsentPurpose.CASE_MANAGEMENT, self.tenant, handover.on, None)
        case = Case(
            person_id=person_id,
            referral_source=handover.referral_source,
            opened_on=handover.on.isoformat(),
            catch_up_reason=None,
        )
        case.take_over(handover.from_tenant, handover.from_case, handover.on.isoformat())
        if handover.summary.get("needs"):
            case.assess(handover.summary["needs"], handover.on)
        if handover.summary.get("goals"):
            case.agree_goals(handover.summary["goals"], handover.on)
        return self.save(person, case)


@dataclass(frozen=True)
class Handover:
    """What a destination tenant receives when a person moves (the published contract)."""

    from_tenant: str
    from_case: UUID
    to_tenant: str
    referral_source: str
    summary: dict[str, dict[str, str]]
    personal_data: dict[str, Any] | None
    arrival_on: date | None
    on: date
