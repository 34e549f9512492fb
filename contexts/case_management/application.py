"""Commands and queries of case management, one tenant at a time.

Every command loads what it needs, lets the aggregates check their rules and saves all
changed aggregates in one transaction. Personal data is sealed under the person's key
before it reaches an event; only ``personal_data`` and ``notes`` open it again, and the
service layer calls them only for those ``may_see_person``/``may_see_personal_data`` allow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.persistence import ApplicationRecorder, Recording
from eventsourcing.utils import get_topic

from contexts.case_management.domain import (
    AppointmentOutcome,
    ApprovalStep,
    Case,
    ClosureReason,
    ContactChannel,
    KnownPosition,
    ReferralSource,
    Service,
)
from contexts.case_management.people import ConsentPurpose, Person, Programme
from contexts.case_management.settings import (
    CaseManagementSettings,
    OverLimit,
    Policy,
    check_policy,
    settings_id,
)
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.vault import PersonalDataVault

PERSONAL_FIELDS = {
    "name", "date_of_birth", "contact", "languages", "nationality", "residence_status",
    "arrival_on",
}  # fmt: skip
ARRIVAL = "arrival_on"


def _years_between(earlier: date, later: date) -> int:
    return later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))


class CaseManagementApplication(TenantApplication):
    context = "case_management"

    def __init__(
        self,
        tenant: str,
        recorder_factory: Callable[[str, str], ApplicationRecorder],
        vault: PersonalDataVault,
    ) -> None:
        super().__init__(tenant, recorder_factory)
        self.vault = vault

    # -- the tenant's settings --------------------------------------------------------------
    def policy(self) -> Policy:
        sid = settings_id(self.tenant)
        if sid not in self.repository:
            return Policy()
        return self.load(CaseManagementSettings, sid, "settings").policy

    def settings_version(self) -> int | None:
        sid = settings_id(self.tenant)
        return self.repository.get(sid).version if sid in self.repository else None

    def configure(
        self,
        *,
        target_group_years: int,
        caseload_limit_per_fte: int,
        over_limit: OverLimit,
        approvals: list[ApprovalStep],
        retention_years: dict[str, int | None],
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        check_policy(target_group_years, caseload_limit_per_fte, retention_years)
        values: dict[str, Any] = {
            "target_group_years": target_group_years,
            "caseload_limit_per_fte": caseload_limit_per_fte,
            "over_limit": OverLimit(over_limit).value,
            "approvals": sorted({ApprovalStep(a).value for a in approvals}),
            "retention_years": {str(k): v for k, v in sorted(retention_years.items())},
        }
        sid = settings_id(self.tenant)
        if sid in self.repository:
            settings = self.load_expecting(
                CaseManagementSettings, sid, "settings", expected_version
            )
            settings.change(**values)
        else:
            settings = CaseManagementSettings(id=sid, **values)
        return self.save(settings)

    # -- people ---------------------------------------------------------------------------
    def register_person(
        self,
        personal_data: dict[str, Any],
        arrival_on: date | None,
        *,
        registered_by: UUID | None = None,
    ) -> list[Recording[UUID]]:
        unknown = sorted(set(personal_data) - PERSONAL_FIELDS)
        if unknown:
            raise DomainError(
                "not-minimal-data",
                f"fields beyond the minimum are not stored: {', '.join(unknown)}",
                field="personal_data",
            )
        data = dict(personal_data)
        if arrival_on is not None:
            data[ARRIVAL] = arrival_on.isoformat()
        # The id comes first, so the data is sealed under the person's own key.
        person_id = uuid4()
        person = Person(
            id=person_id,
            sealed=self.vault.seal(self.tenant, person_id, data),
            registered_by=registered_by,
        )
        return self.save(person)

    def get_person(self, person_id: UUID) -> Person:
        return self.load(Person, person_id, "person")

    def personal_data(self, person_id: UUID) -> dict[str, Any] | None:
        """The person's data, or None after erasure (only for those allowed to see it)."""
        person = self.get_person(person_id)
        return self.vault.open(self.tenant, person_id, person.sealed) if person.sealed else None

    def correct_personal_data(
        self, person_id: UUID, personal_data: dict[str, Any]
    ) -> list[Recording[UUID]]:
        unknown = sorted(set(personal_data) - PERSONAL_FIELDS)
        if unknown:
            raise DomainError(
                "not-minimal-data",
                f"fields beyond the minimum are not stored: {', '.join(unknown)}",
                field="personal_data",
            )
        person = self.get_person(person_id)
        person.correct(self.vault.seal(self.tenant, person_id, personal_data))
        return self.save(person)

    def arrival_of(self, person_id: UUID) -> date | None:
        data = self.personal_data(person_id) or {}
        return date.fromisoformat(data[ARRIVAL]) if data.get(ARRIVAL) else None

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

    def record_participation(
        self, person_id: UUID, *, programme: Programme, start: date, end: date | None = None
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.record_participation(programme, start, end)
        return self.save(person)

    def erase_person(self, person_id: UUID, on: date) -> list[Recording[UUID]]:
        """Crypto-shredding: record the erasure, then destroy the person's key.

        Notes of the person's cases are sealed under the same key, so they go with it.
        """
        person = self.get_person(person_id)
        person.erase(on)
        recordings = self.save(person)
        self.vault.erase(self.tenant, person_id)
        return recordings

    # -- cases ----------------------------------------------------------------------------
    def get_case(self, case_id: UUID) -> Case:
        return self.load(Case, case_id, "case")

    def _case(self, case_id: UUID, expected_version: int | None) -> Case:
        return self.load_expecting(Case, case_id, "case", expected_version)

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
            catch_up_reason=None if within else catch_up_reason,
        )
        if others:
            case.note_other_programmes([str(p) for p in others], str(double_funding_reason))
        person.link_case(case.id)
        if position_id is not None:
            self._check_caseload(position_id, policy)
            case.assign(position_id, opened_on)
        return self.save(case, person)  # the case's recordings first

    def assess(
        self, case_id: UUID, *, needs: dict[str, str], on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.assess(needs, on)
        return self.save(case)

    def agree_goals(
        self, case_id: UUID, *, goals: dict[str, str], on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        needs_approval = self.policy().needs_approval(ApprovalStep.GOAL_AGREEMENT)
        case.agree_goals(goals, on, needs_approval=needs_approval)
        return self.save(case)

    def start_linking(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.start_linking(on)
        return self.save(case)

    def start_monitoring(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.start_monitoring(on)
        return self.save(case)

    def start_reassessment(
        self, case_id: UUID, *, on: date, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.start_reassessment(on)
        return self.save(case)

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

    def supervising_post(self, case: Case, on: date) -> str | None:
        if case.position_id is None or case.position_id not in self.repository:
            return None
        return self.load(KnownPosition, case.position_id, "position").supervisor_on(on)

    def decide_approval(
        self,
        case_id: UUID,
        *,
        step: ApprovalStep,
        approved: bool,
        by_tenant: str,
        on: date,
        reason: str = "",
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """The supervising post approves or refuses a goal agreement or closure."""
        case = self._case(case_id, expected_version)
        post = self.supervising_post(case, on)
        if post != by_tenant:
            raise DomainError(
                "not-the-supervising-post",
                f"only the post supervising the case's position on {on} decides"
                f" ({post or 'no supervision line'}), not {by_tenant}",
                field="on",
            )
        if approved:
            case.approve(step, by_tenant, on)
        else:
            case.refuse_approval(step, by_tenant, reason, on)
        return self.save(case)

    # -- referrals (Leistungssteuerung) -------------------------------------------------------
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
        case = self._case(case_id, expected_version)
        case.answer_referral(index, accepted, on)
        return self.save(case)

    def complete_referral(
        self,
        case_id: UUID,
        *,
        index: int,
        outcome: str,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.complete_referral(index, outcome, on)
        return self.save(case)

    # -- monitoring ---------------------------------------------------------------------------
    def schedule_appointment(
        self, case_id: UUID, *, on: date, kind: str, expected_version: int | None = None
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.schedule_appointment(on, kind)
        return self.save(case)

    def record_appointment(
        self,
        case_id: UUID,
        *,
        index: int,
        outcome: AppointmentOutcome,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.record_appointment(index, outcome)
        return self.save(case)

    def record_contact(
        self,
        case_id: UUID,
        *,
        on: date,
        channel: ContactChannel,
        life_dimensions: list[str],
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        case = self._case(case_id, expected_version)
        case.record_contact(on, channel, life_dimensions)
        return self.save(case)

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

    # -- gaps -------------------------------------------------------------------------------
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

        The description must not identify the person: it is refused when it contains a
        part of the person's name.
        """
        case = self._case(case_id, expected_version)
        data = self.personal_data(case.person_id) or {}
        lowered = description.lower()
        parts = [p.strip(".,;") for p in str(data.get("name", "")).split()]
        if any(len(p) >= 3 and p.lower() in lowered for p in parts):
            raise DomainError(
                "personal-data-in-gap",
                "a gap report goes to coordination and must not name the person",
                field="description",
            )
        case.report_gap(life_dimension, description, on)
        return self.save(case)

    # -- positions, assignment and caseload --------------------------------------------------
    @property
    def caseload_target_per_fte(self) -> int:
        return self.policy().caseload_target_per_fte

    @property
    def caseload_limit_per_fte(self) -> int:
        return self.policy().caseload_limit_per_fte

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
        if "coordinator" in roles or "district_coordinator" in roles:
            return self.supervising_post(case, on) == tenant
        return False

    def may_see_person(
        self, *, tenant: str, roles: set[str], position: UUID | None, person_id: UUID, on: date
    ) -> bool:
        """Whoever may see one of the person's cases; before any case, who registered them."""
        person = self.get_person(person_id)
        if (
            "case_manager" in roles
            and tenant == self.tenant
            and position is not None
            and person.registered_by == position
        ):
            return True
        return any(
            self.may_see_personal_data(
                tenant=tenant, roles=roles, position=position, case_id=c, on=on
            )
            for c in person.cases
        )

    def cases(self) -> list[Case]:
        """All cases of the tenant, oldest first (no personal data in them)."""
        return [
            self.get_case(UUID(str(n.originator_id)))
            for n in self.recorder.select_notifications(
                start=None, limit=1_000_000, topics=[get_topic(Case.Opened)]
            )
        ]

    def caseload(self, position_id: UUID) -> tuple[int, Decimal]:
        """Open cases assigned to the position, and open cases per full-time equivalent."""
        position = self.load(KnownPosition, position_id, "position")
        open_cases = sum(
            1 for c in self.cases() if c.position_id == position_id and not c.is_closed
        )
        per_fte = (Decimal(open_cases) / position.fte).quantize(Decimal("0.1"))
        return open_cases, per_fte

    def _check_caseload(self, position_id: UUID, policy: Policy) -> str | None:
        position = self.load(KnownPosition, position_id, "position")
        if position.work_tenant != self.tenant:
            raise DomainError(
                "position-works-elsewhere",
                f"the position works in {position.work_tenant}, not in {self.tenant}",
                field="position_id",
            )
        open_cases, _ = self.caseload(position_id)
        after = Decimal(open_cases + 1) / position.fte
        if after > policy.caseload_limit_per_fte:
            if policy.over_limit == OverLimit.REFUSE:
                raise DomainError(
                    "caseload-limit",
                    f"the position would carry {after:.1f} cases per FTE, above the limit of"
                    f" {policy.caseload_limit_per_fte}",
                    field="position_id",
                    cases_per_fte=f"{after:.1f}",
                    limit=policy.caseload_limit_per_fte,
                )
            return (
                f"caseload {after:.1f} per FTE is above the limit of"
                f" {policy.caseload_limit_per_fte}"
            )
        if after > policy.caseload_target_per_fte:
            return (
                f"caseload {after:.1f} per FTE is above the target of"
                f" {policy.caseload_target_per_fte}"
            )
        return None

    def caseload_warning(self, position_id: UUID) -> str | None:
        """The warning an assignment to the position would carry now (None: none)."""
        return self._check_caseload(position_id, self.policy())

    def assign_case(
        self,
        case_id: UUID,
        *,
        position_id: UUID,
        on: date,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """Assign a case to a position; refused beyond the limit when the tenant says so."""
        case = self._case(case_id, expected_version)
        if case.position_id == position_id:
            raise DomainError(
                "already-assigned", "the case is already assigned to this position",
                field="position_id",
            )  # fmt: skip
        self._check_caseload(position_id, self.policy())
        case.assign(position_id, on)
        return self.save(case)

    # -- retention ------------------------------------------------------------------------
    def due_for_erasure(self, today: date) -> list[UUID]:
        """People whose cases are all closed and whose retention period has passed."""
        rule = self.policy().retention
        due = []
        for n in self.recorder.select_notifications(
            start=None, limit=1_000_000, topics=[get_topic(Person.Registered)]
        ):
            person = self.get_person(UUID(str(n.originator_id)))
            if person.erased_on is not None or not person.cases:
                continue
            closures = [self.get_case(c).closure for c in person.cases]
            if all(c is not None for c in closures):
                latest = max(c[1] for c in closures if c is not None)
                if rule.personal_data_due(latest, today):
                    due.append(person.id)
        return sorted(due)

    # -- transfer between tenants ---------------------------------------------------------
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
        destination destroys once it has taken the case over.
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
        case.hand_over(to_tenant, transfer_id, sealed, on)
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
        if summary.get("needs"):
            case.assess(summary["needs"], on)
            if summary.get("goals"):
                case.agree_goals(summary["goals"], on)
        person.link_case(case.id)
        recordings = self.save(person, case)
        self.vault.erase(self.tenant, transfer_id)
        return recordings
