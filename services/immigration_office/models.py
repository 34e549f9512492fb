"""Request bodies and views of the immigration office's API.

Bodies are strict (unknown fields refused, strings trimmed and bounded, every integer with
an upper bound, every list with a maximum length). Views of procedures hold codes, dates and
pseudonymous ids; free text about the person (a note, a refusal's reason) is opened only on
``GET .../procedures/{id}`` for the office's staff.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, Field

from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.procedure_rules import CheckResult
from contexts.immigration_office.states import Check, LegalBasis, Level, State, Step, allowed
from runtime.http.commands import MAX_ITEMS, Strict
from runtime.http.fields import NonBlank, Version

SEALED = "free text about the person: sealed under the person's key"
Residence = Annotated[
    NonBlank,
    Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
        description="where the person lives: a registered tenant's key or a municipality key"
        " (AGS, e.g. 05566012 for Greven)",
        examples=["rheine", "05566012"],
    ),
]

Recipient = Annotated[
    NonBlank,
    Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
          description="a tenant's key (its case management)", examples=["rheine"]),
]  # fmt: skip


class PersonalData(Strict):
    """The minimum the office needs; everything is sealed under the person's own key."""

    name: NonBlank = Field(min_length=1, max_length=200, examples=["A. K."])
    date_of_birth: date | None = None
    nationality: str | None = Field(default=None, min_length=1, max_length=60)
    resident_since: date | None = Field(
        default=None, description="lawful habitual residence in Germany since (the rules' years)"
    )


class RegisterPerson(Strict):
    personal_data: PersonalData


class Erase(Strict):
    on: date


class OpenProcedure(Strict):
    person_id: UUID
    legal_basis: LegalBasis
    residence: Residence
    opened_on: date


class TakeStep(Strict):
    step: Step
    on: date
    due_on: date | None = Field(default=None, description="request_documents: due by")
    ceremony_on: date | None = Field(default=None, description="invite_to_ceremony: its day")
    aims_at: LegalBasis | None = Field(
        default=None, description="grant of § 104c: what it is to lead to (default § 25b)"
    )
    reason: str | None = Field(default=None, min_length=1, max_length=2000, description=SEALED)
    expected_version: Version = None


class RecordCheck(Strict):
    check: Check
    passed: bool
    on: date
    level: Level | None = Field(default=None, description="the language level (language only)")
    note: str | None = Field(default=None, min_length=1, max_length=2000, description=SEALED)
    expected_version: Version = None


class CheckView(BaseModel):
    check: Check
    passed: bool
    on: date
    level: Level | None
    note: str | None = Field(description=SEALED + "; opened for the office's staff")


class ProcedureView(BaseModel):
    id: UUID
    version: int
    person_id: UUID
    legal_basis: LegalBasis
    kind: str
    state: State
    allowed_steps: list[Step] = Field(max_length=MAX_ITEMS)
    residence: str
    opened_on: date
    applied_on: date | None
    decided_on: date | None
    outcome: str | None
    documents_due: date | None
    permit_ends_on: date | None
    aims_at: LegalBasis | None
    converted_from: UUID | None
    follow_up_id: UUID | None
    rule: dict[str, Any] | None = Field(description="the rule version a decision applied")
    checks: list[CheckView] = Field(max_length=MAX_ITEMS)
    open_requirements: list[str] = Field(max_length=MAX_ITEMS)
    referrals: list[dict[str, Any]] = Field(
        max_length=MAX_ITEMS, description="to case management: tenant, requirements, status"
    )
    handed_over_to: str | None = Field(description="handed_over: the destination's tenant")
    taken_over: dict[str, Any] | None = Field(
        description="taken over from another office: its tenant, procedure, day"
    )

    @classmethod
    def of(
        cls, p: Procedure, open_requirements: list[str], note: Any = lambda c: None
    ) -> ProcedureView:
        def check(c: CheckResult) -> CheckView:
            return CheckView(check=c.check, passed=c.passed, on=c.on, level=c.level, note=note(c))

        return cls(
            id=p.id, version=p.version, person_id=p.person_id, legal_basis=p.legal_basis,
            kind=p.kind.value, state=p.state, allowed_steps=sorted(allowed(p.legal_basis, p.state)),
            residence=p.residence, opened_on=p.opened_on, applied_on=p.applied_on,
            decided_on=p.decided_on, outcome=p.outcome, documents_due=p.documents_due,
            permit_ends_on=p.permit_ends_on, aims_at=p.aims_at, converted_from=p.converted_from,
            follow_up_id=p.follow_up_id, rule=p.rule, checks=[check(c) for c in p.checks],
            open_requirements=open_requirements, referrals=p.referrals,
            handed_over_to=p.handed_over_to, taken_over=p.taken_over,
        )  # fmt: skip


class ProcedureRow(BaseModel):
    """One procedure in the list (from the read model): codes, dates, the pseudonym."""

    id: UUID
    person_id: UUID
    legal_basis: str
    state: str
    opened_on: str
    applied_on: str | None
    decided_on: str | None
    outcome: str | None


class PersonView(BaseModel):
    id: UUID
    version: int
    personal_data: dict[str, Any] | None = Field(description="null after erasure")
    erased_on: date | None
    procedures: list[UUID] = Field(max_length=MAX_ITEMS)


class DueView(BaseModel):
    procedure_id: UUID
    person_id: UUID
    legal_basis: LegalBasis
    state: State
    due_on: date
    days_left: int = Field(description="negative: overdue")
    what: str = Field(description="documents, or permit_end (a § 104c permit ends)")
    open_requirements: list[str] = Field(max_length=MAX_ITEMS)
    position_id: UUID | None


class HandOver(Strict):
    """The person moved: to the office responsible for the new residence (with consent)."""

    to_tenant: Recipient
    residence: Residence
    on: date
    expected_version: Version = None
