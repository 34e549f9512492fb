"""Request bodies of the steering context's API.

Bodies are strict (unknown fields refused, strings trimmed and bounded, every integer with
an upper bound, every list with a maximum length). Texts go to the group and carry no
personal data (refused with ``personal-data-in-text``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import ConfigDict, Field, StrictBool, model_validator

from contexts.steering.rules import Majority, Quorum, Vote
from runtime.http.commands import MAX_ITEMS, Strict
from runtime.http.fields import JSON_INTEGER, MAX_INDEX, DecimalForm, NonBlank, Version

NO_PERSONAL_DATA = (
    "no personal data (refused: phone numbers, e-mail addresses, dates of birth, addresses, names)"
)
TenantKey = Annotated[
    NonBlank,
    Field(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]{0,59}$",
          description="a registered tenant's key", examples=["rheine"]),
]  # fmt: skip
Short = Annotated[NonBlank, Field(min_length=1, max_length=200)]
Long = Annotated[NonBlank, Field(min_length=1, max_length=2000, description=NO_PERSONAL_DATA)]
Item = Annotated[int, Field(ge=1, le=MAX_INDEX), JSON_INTEGER]
MemberId = Annotated[NonBlank, Field(min_length=1, max_length=60)]


class Rules(Strict):
    """The group's rules of procedure (Geschäftsordnung)."""

    quorum: Quorum = Quorum.MORE_THAN_HALF
    majority: Majority = Majority.SIMPLE
    abstentions_count: StrictBool = False
    invitation_days: int = Field(default=7, ge=0, le=90)


class FoundGroup(Strict):
    name: Short = Field(examples=["Lenkungsgruppe KIM Kreis Steinfurt"])
    founded_on: date
    rules: Rules = Field(default_factory=Rules)


class AddMember(Strict):
    institution: Short = Field(examples=["Stadt Rheine, Koordinierungsstelle KIM"])
    member_tenant: TenantKey
    role: Short = Field(examples=["Koordinierungsstelle"])
    voting: StrictBool
    permanent: StrictBool = True
    valid_from: date
    valid_until: date | None = None
    subject: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$",
        description="the representative's pseudonymous token subject (never a name)",
    )  # fmt: skip
    position_id: UUID | None = Field(default=None, description="or the position they hold")
    expected_version: Version = None


class Leave(Strict):
    on: date
    expected_version: Version = None


class ScheduleMeeting(Strict):
    group_id: UUID
    title: Short = Field(examples=["3. Sitzung der Lenkungsgruppe"])
    scheduled_for: date


class MemberItem(Strict):
    title: Annotated[NonBlank, Field(min_length=1, max_length=500, description=NO_PERSONAL_DATA)]
    expected_version: Version = None


class SubmittedItem(Strict):
    from_tenant: TenantKey
    submission_id: UUID
    expected_version: Version = None


class CarriedItem(Strict):
    from_meeting: UUID
    item: Item
    expected_version: Version = None


class Invite(Strict):
    sent_on: date
    expected_version: Version = None


class Hold(Strict):
    held_on: date
    present: list[MemberId] = Field(max_length=MAX_ITEMS, description="member ids present")
    expected_version: Version = None


class DraftMinutes(Strict):
    minutes: Annotated[NonBlank, Field(min_length=1, max_length=10_000)]
    on: date
    expected_version: Version = None


class ApproveMinutes(Strict):
    at_meeting: UUID = Field(description="the later meeting of the group that approved them")
    on: date
    expected_version: Version = None


class AmendMinutes(Strict):
    amendment: Long
    at_meeting: UUID
    on: date
    expected_version: Version = None


class Propose(Strict):
    meeting_id: UUID
    item: Item
    title: Annotated[NonBlank, Field(min_length=1, max_length=500, description=NO_PERSONAL_DATA)]


class CastVote(Strict):
    member_id: MemberId
    vote: Vote
    expected_version: Version = None


class CloseVote(Strict):
    on: date
    expected_version: Version = None


class AssignTask(Strict):
    title: Annotated[NonBlank, Field(min_length=1, max_length=500)]
    owner_institution: Short
    due_on: date


class TaskDone(Strict):
    on: date


Figure = Annotated[Decimal, DecimalForm(8, 2, positive=False, example="12")]
"""An indicator's value (a count or a share): 0 to 99,999,999.99."""


class Period(Strict):
    model_config = ConfigDict(populate_by_name=True)  # "from" in JSON, ``first`` in Python

    first: date = Field(alias="from", description="the period's first day")
    to: date = Field(description="its last day (included); not after the evaluation day")


Code = Annotated[NonBlank, Field(min_length=1, max_length=60, pattern=r"^[a-z][a-z_]{0,59}$")]


class CaseFigure(Strict):
    """The indicator from case management's figures: the referrals proposed in cases with a
    need in ``life_dimension`` (to ``service`` if given), counted in each period from the
    case management log of the topic's tenant (else the group's)."""

    life_dimension: Code = Field(examples=["education"])
    service: Code | None = Field(None, description="a referral service code", examples=[
        "youth_office"])  # fmt: skip
    before: Period
    after: Period


TYPED = ("indicator", "before", "after", "source")


def one_form(schema: dict[str, Any]) -> None:
    """The schema says what the validator checks: the figure, or the four typed-in fields,
    none of them null (a field sent null counts as sent)."""
    for name in ("figure", *TYPED):
        field = schema["properties"][name]
        kinds = [k for k in field.pop("anyOf", []) if k.get("type") != "null"]
        if len(kinds) == 1:
            field.update({k: v for k, v in kinds[0].items() if k not in field})
        elif kinds:
            field["anyOf"] = kinds
        field.pop("default", None)
    schema["oneOf"] = [
        {"required": ["figure"], "not": {"anyOf": [{"required": [n]} for n in TYPED]}},
        {"required": list(TYPED), "not": {"required": ["figure"]}},
    ]


class Evaluation(Strict):
    """Either ``figure`` (the normal way: the platform counts it) or, as a fallback, the
    indicator as the evaluator read it: ``indicator``, ``before``, ``after``, ``source``."""

    model_config = ConfigDict(json_schema_extra=one_form)

    figure: CaseFigure | None = None
    indicator: Annotated[NonBlank, Field(min_length=1, max_length=500)] | None = Field(
        None, examples=["neu zugewanderte Fünfjährige mit Kita-Platz vermittelt"]
    )
    before: Figure | None = None
    after: Figure | None = None
    source: Long | None = Field(
        None,
        description="typed-in form only: the figure's source as the evaluator read it (the"
        " query and its tenant, period and log position)",
    )
    readjust: StrictBool = False

    @model_validator(mode="after")
    def _one_form(self) -> Evaluation:
        given = self.model_fields_set  # as the schema: a field sent (even null) is present
        typed = [n for n in TYPED if n in given]
        if "figure" in given and typed:
            raise ValueError(f"figure or the typed-in indicator, not both ({', '.join(typed)})")
        if self.figure is None and any(getattr(self, n) is None for n in TYPED):
            raise ValueError("figure, or indicator, before, after and source")
        return self


class ChangeStatus(Strict):
    status: Literal["in_implementation", "implemented", "evaluated"]
    on: date
    evaluation: Evaluation | None = None
    expected_version: Version = None


class WorkingGroupMember(Strict):
    institution: Short
    role: Short


class Mandate(Strict):
    resolution_id: UUID
    name: Short = Field(examples=["AG Kita-Zugang"])
    mandate: Long
    on: date
    members: list[WorkingGroupMember] = Field(default_factory=list, max_length=MAX_ITEMS)


class GiveTimelines(Strict):
    case_tenant: TenantKey
    case_ids: list[UUID] = Field(min_length=1, max_length=50)
    on: date


class ReportBack(Strict):
    meeting_id: UUID
    summary: Long
    on: date
