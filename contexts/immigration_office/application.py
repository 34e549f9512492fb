"""Commands and queries of the immigration office, one tenant at a time.

A procedure lives in the log of the tenant whose office is responsible for where the person
lives (``responsibility``); opening it anywhere else is refused naming that tenant. Personal
data (name, date of birth, nationality, since when the person lives here lawfully) and every
free text about the person are sealed under the person's key before they reach an event.
Each command loads what it changes and ends in one save.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording

from contexts.immigration_office import handover
from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.people import REFERRAL as REFERRAL_CONSENT
from contexts.immigration_office.people import OfficePerson, years_between
from contexts.immigration_office.procedure_rules import ACHIEVEMENT_CHECKS, DUE, REFERRAL, DueItem
from contexts.immigration_office.responsibility import (
    WrongTenant,
    check_responsible,
    municipality_tenant,
)
from contexts.immigration_office.rules import RuleVersion, rule_for
from contexts.immigration_office.states import Check, LegalBasis, Level, State, Step
from contexts.shared.application import TenantApplication
from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_minimal
from contexts.shared.vault import PersonalDataVault
from contexts.tenancy.contracts import TenantDirectory

PERSONAL_FIELDS = {"name", "date_of_birth", "nationality", "resident_since"}
"""The personal data the office keeps at most (data minimisation)."""
RESIDENT_SINCE = "resident_since"
TEXT = "text"
DUE_AT_MOST = 10_000


class ImmigrationOfficeApplication(TenantApplication):
    context = "immigration_office"

    def __init__(
        self,
        tenant: str,
        recorder_factory: Callable[[str, str], ApplicationRecorder],
        vault: PersonalDataVault,
        directory: Callable[[], TenantDirectory],
    ) -> None:
        super().__init__(tenant, recorder_factory)
        self.vault = vault
        self.directory = directory

    # -- people -----------------------------------------------------------------------------
    def register_person(
        self, personal_data: dict[str, Any], *, registered_by: UUID | None = None
    ) -> list[Recording[UUID]]:
        check_minimal(personal_data, PERSONAL_FIELDS)
        person_id = uuid4()  # first, so the data is sealed under the person's own key
        sealed = self.vault.seal(self.tenant, person_id, dict(personal_data))
        return self.save(OfficePerson(id=person_id, sealed=sealed, registered_by=registered_by))

    def get_person(self, person_id: UUID) -> OfficePerson:
        return self.load(OfficePerson, person_id, "person")

    def personal_data(self, person_id: UUID) -> dict[str, Any] | None:
        """The person's data, None after erasure (only for those allowed to see it)."""
        person = self.get_person(person_id)
        return self.vault.open(self.tenant, person_id, person.sealed)

    def erase_person(self, person_id: UUID, on: date) -> list[Recording[UUID]]:
        """Crypto-shredding: record the erasure, destroy the key, forget the requests."""
        person = self.get_person(person_id)
        person.erase(on)
        recordings = self.save(person)
        self.vault.erase(self.tenant, person_id)
        self.forget_requests([person_id, *person.procedures])
        return recordings

    def _seal_text(self, person_id: UUID, text: str | None) -> str | None:
        if text is None or not text.strip():
            return None
        if self.get_person(person_id).erased_on is not None:
            raise DomainError("person-erased", "the person was erased; no new free text")
        return self.vault.seal(self.tenant, person_id, {TEXT: text.strip()})

    def open_text(self, person_id: UUID, value: str | None) -> str | None:
        if value is None:
            return None
        opened = self.vault.open(self.tenant, person_id, value)
        return None if opened is None else str(opened[TEXT])

    # -- procedures --------------------------------------------------------------------------
    def open_procedure(
        self,
        person_id: UUID,
        *,
        legal_basis: LegalBasis,
        residence: str,
        opened_on: date,
        position_id: UUID | None = None,
    ) -> list[Recording[UUID]]:
        """Counselling begins (Beratung): only in the responsible office's tenant."""
        check_responsible(self.directory(), self.tenant, residence)
        person = self.get_person(person_id)
        if person.erased_on is not None:
            raise DomainError("person-erased", "an erased person gets no new procedure")
        procedure = Procedure(
            person_id=person_id,
            legal_basis=LegalBasis(legal_basis).value,
            residence=residence,
            opened_on=opened_on.isoformat(),
            position_id=position_id,
            converted_from=None,
        )
        person.link_procedure(procedure.id)
        return self.save(procedure, person)

    def get_procedure(self, procedure_id: UUID) -> Procedure:
        return self.load(Procedure, procedure_id, "procedure")

    def rule_of(self, procedure: Procedure, basis: LegalBasis | None = None) -> RuleVersion:
        """The rule version valid on the procedure's application date."""
        if procedure.applied_on is None:
            raise DomainError("no-application", "the procedure has no application yet")
        return rule_for(basis or procedure.legal_basis, procedure.applied_on)

    def residence_years(self, procedure: Procedure, on: date) -> int:
        data = self.personal_data(procedure.person_id) or {}
        since = data.get(RESIDENT_SINCE)
        if not since:
            raise DomainError(
                "residence-unknown",
                "the person's lawful residence since (resident_since) is not recorded",
                field="resident_since",
            )
        return years_between(date.fromisoformat(str(since)), on)

    def record_check(self, procedure_id: UUID, **kwargs: Any) -> list[Recording[UUID]]:
        """Record a check's result (a concurrent write by a consumer is retried once)."""
        return self._retried(kwargs.get("expected_version"),
                             lambda: self._record_check(procedure_id, **kwargs))  # fmt: skip

    def _record_check(
        self,
        procedure_id: UUID,
        *,
        check: Check,
        passed: bool,
        on: date,
        level: Level | None = None,
        note: str | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        procedure = self.load_expecting(Procedure, procedure_id, "procedure", expected_version)
        procedure.record_check(check, passed, on, level, self._seal_text(procedure.person_id, note))
        return self.save(procedure)

    def take_step(self, procedure_id: UUID, step: Step, **kwargs: Any) -> list[Recording[UUID]]:
        """One step of the state machine (``_take_step``); without an ``expected_version``
        a concurrent write (case management's answer or achievement, consumed meanwhile) is
        retried once on the procedure as it now is."""
        return self._retried(kwargs.get("expected_version"),
                             lambda: self._take_step(procedure_id, step, **kwargs))  # fmt: skip

    @staticmethod
    def _retried(
        expected_version: int | None, command: Callable[[], list[Recording[UUID]]]
    ) -> list[Recording[UUID]]:
        try:
            return command()
        except IntegrityError as e:
            if expected_version is not None or type(e) is not IntegrityError:
                raise  # the client named a version, or a bound or an idempotency key: theirs
            return command()

    def _take_step(
        self,
        procedure_id: UUID,
        step: Step,
        *,
        on: date,
        due_on: date | None = None,
        ceremony_on: date | None = None,
        aims_at: LegalBasis | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """One step of the procedure's state machine (refused where the table forbids it)."""
        p = self.load_expecting(Procedure, procedure_id, "procedure", expected_version)
        step = Step(step)
        p.require_step(step)  # a forbidden step is refused before anything else is looked at
        if step == Step.RECEIVE_APPLICATION:
            p.receive_application(on)
        elif step == Step.REQUEST_DOCUMENTS:
            p.request_documents(on, due_on)
        elif step == Step.COMPLETE_DOCUMENTS:
            p.complete_documents(on)
        elif step == Step.START_CHECKS:
            p.start_checks(on)
        elif step == Step.COMPLETE_REQUIREMENTS_CHECK:
            p.complete_requirements_check(on)
        elif step == Step.GRANT:
            p.grant(on, self.rule_of(p), self.residence_years(p, on), aims_at)
        elif step == Step.REFUSE:
            rule = self.rule_of(p)
            unmet = p.unmet(rule, self._years_or_none(p, on))
            p.refuse(on, rule, unmet, self._seal_text(p.person_id, reason))
        elif step == Step.WITHDRAW:
            p.withdraw(on)
        elif step == Step.HAND_OVER_CERTIFICATE:
            p.hand_over_certificate(on)
        elif step == Step.INVITE_TO_CEREMONY:
            if ceremony_on is None:
                raise DomainError("ceremony-date-missing", "name the ceremony's date",
                                  field="ceremony_on")  # fmt: skip
            p.invite_to_ceremony(on, ceremony_on)
        elif step == Step.CONVERT:
            return self._convert(p, on)
        elif step == Step.EXPIRE:
            p.expire(on)
        elif step == Step.HAND_OVER:
            raise DomainError("hand-over-needs-destination", "a hand-over names the"
                              " destination: POST .../hand-over", field="step")  # fmt: skip
        return self.save(p)

    def _years_or_none(self, p: Procedure, on: date) -> int | None:
        try:
            return self.residence_years(p, on)
        except DomainError:
            return None

    def _convert(self, p: Procedure, on: date) -> list[Recording[UUID]]:
        """§ 104c → § 25a / § 25b: the follow-up procedure opens with its application."""
        target = p.aims_at or LegalBasis.AUFENTHG_25B
        rule = rule_for(target, on)
        follow_up = Procedure(
            person_id=p.person_id,
            legal_basis=target.value,
            residence=p.residence,
            opened_on=on.isoformat(),
            position_id=p.position_id,
            converted_from=p.id,
        )
        p.convert(on, rule, self.residence_years(p, on), follow_up.id)
        follow_up.receive_application(on)
        person = self.get_person(p.person_id)
        person.link_procedure(follow_up.id)
        return self.save(p, follow_up, person)

    # -- consent and referrals to case management ------------------------------------------
    def give_consent(
        self, person_id: UUID, *, recipient: str, given_on: date, expires_on: date | None = None,
        purpose: str = REFERRAL_CONSENT,
    ) -> list[Recording[UUID]]:  # fmt: skip
        """The person's consent to a referral to ``recipient``'s case management, or to a
        hand-over to ``recipient``'s office (``purpose`` ``hand_over``)."""
        person = self.get_person(person_id)
        person.give_consent(recipient, given_on, expires_on, purpose)
        return self.save(person)

    def revoke_consent(
        self, person_id: UUID, *, recipient: str, revoked_on: date, purpose: str = REFERRAL_CONSENT
    ) -> list[Recording[UUID]]:
        person = self.get_person(person_id)
        person.revoke_consent(recipient, revoked_on, purpose)
        return self.save(person)

    # -- a person moves (``handover.py``) ------------------------------------------------------
    def hand_over(self, procedure_id: UUID, **kwargs: Any) -> list[Recording[UUID]]:
        """Close as handed over to the destination's office (``handover.hand_over``)."""
        return handover.hand_over(self, procedure_id, **kwargs)

    def take_over(self, **kwargs: Any) -> bool:
        """The destination's part (``handover.take_over``; idempotent)."""
        return handover.take_over(self, **kwargs)

    def refer_to_case_management(
        self,
        procedure_id: UUID,
        *,
        on: date,
        to_tenant: str | None = None,
        expected_version: int | None = None,
    ) -> list[Recording[UUID]]:
        """Refer the person to the case management responsible for where they live (the
        municipality's tenant per the registry), naming the open requirements; a tenant
        named that is not responsible is refused (``wrong-tenant``), and so is a referral
        without the person's consent to it (``consent-missing``)."""
        p = self.load_expecting(Procedure, procedure_id, "procedure", expected_version)
        responsible = municipality_tenant(self.directory(), p.residence)
        if to_tenant is not None and to_tenant != responsible:
            raise WrongTenant(to_tenant, responsible, p.residence)
        if not self.get_person(p.person_id).consents_to_referral(responsible, on):
            raise DomainError(
                "consent-missing",
                f"no valid consent to a referral to {responsible}'s case management on {on}",
                field="to_tenant",
                purpose="referral",
                recipient=responsible,
            )
        requirements = self.open_requirements(p)
        if not requirements and p.applied_on is None:
            requirements = p.unmet(rule_for(p.legal_basis, on), None)
        p.refer(uuid4(), responsible, requirements, on)
        return self.save(p)

    def _by_referral(self, referral_id: str) -> Procedure | None:
        members = self.indexes.index_members(REFERRAL, referral_id)
        return self.get_procedure(UUID(members[0])) if members else None

    def referral_answered(
        self, referral_id: str, *, accepted: bool, reason: str | None, on: date
    ) -> bool:
        """Case management's answer (from its contract); False: unknown or recorded."""

        def record() -> bool:
            p = self._by_referral(referral_id)
            if p is None or not p.answer_referral(UUID(referral_id), accepted, reason, on):
                return False
            self.save(p)
            return True

        return _once_more_on_conflict(record)

    def achievement_shared(
        self, referral_id: str, *, kind: str, level: str | None, achieved_on: date
    ) -> bool:
        """An achievement case management shared under the person's consent: a passed
        check of the procedure (``ACHIEVEMENT_CHECKS``); False: nothing to record."""
        check = ACHIEVEMENT_CHECKS.get(kind)

        def record() -> bool:
            p = self._by_referral(referral_id)
            if p is None or check is None or not p.receive_achievement(check, level, achieved_on):
                return False
            self.save(p)
            return True

        return _once_more_on_conflict(record)

    # -- deadlines -----------------------------------------------------------------------------
    def open_requirements(self, p: Procedure) -> list[str]:
        """What the person still has to reach: for a running § 104c permit, the requirements
        of the basis it aims at (without the years, which pass by themselves); for an open
        application, those of its own rule; documents while they are requested."""
        if p.state == State.DOCUMENTS_REQUESTED:
            return ["documents"]
        if p.state == State.GRANTED and p.aims_at is not None and p.decided_on is not None:
            return p.unmet(rule_for(p.aims_at, p.decided_on), None)
        if p.applied_on is not None and p.closed_on is None and p.decided_on is None:
            return p.unmet(rule_for(p.legal_basis, p.applied_on), None)
        return []

    def due(self, today: date, within_days: int) -> list[DueItem]:
        """Everything due up to ``within_days`` from today, overdue first: from the index of
        due dates (the cost is that of the procedures found, not of the office's history)."""
        until = (today + timedelta(days=within_days)).isoformat()
        found = self.indexes.index_range(DUE, "", until, DUE_AT_MOST)
        items = []
        for procedure_id in dict.fromkeys(member for _, member in found):
            p = self.get_procedure(UUID(procedure_id))
            for due_on, what in p.due_dates():
                if due_on.isoformat() <= until:
                    items.append(
                        DueItem(
                            p.id,
                            p.person_id,
                            p.legal_basis,
                            p.state,
                            due_on,
                            what,
                            self.open_requirements(p),
                            p.position_id,
                        )
                    )
        return sorted(items, key=lambda i: (i.due_on, str(i.procedure_id)))


def _once_more_on_conflict(record: Callable[[], bool]) -> bool:
    """A consumer's write that lost the race with an officer's step on the same procedure
    is made again on the procedure as it now is (it is idempotent)."""
    try:
        return record()
    except IntegrityError as e:
        if type(e) is not IntegrityError:
            raise
        return record()
