"""REST API for system gaps, topics, service chains and submissions to the steering group."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contexts.coordination.gaps import CycleStep, GapTopic, LifeDimension
from runtime.http.fields import MAX_INDEX, NonBlank, Version
from services.coordination.deps import Command, Reader, Strict

router = APIRouter(prefix="/coordination/tenants/{tenant}", tags=["coordination: strategic cycle"])


class RecordGap(Strict):
    life_dimension: LifeDimension
    description: NonBlank = Field(
        min_length=1,
        max_length=2000,
        description="what is missing; no personal data (refused: phone numbers, e-mail"
        " addresses, dates of birth, addresses, names)",
    )
    reported_on: date


class OpenTopic(Strict):
    title: NonBlank = Field(min_length=1, max_length=200, examples=["Kita-Plätze für Fünfjährige"])
    life_dimension: LifeDimension


class GroupGap(Strict):
    gap_id: UUID


class Advance(Strict):
    step: CycleStep
    on: date
    note: str = Field(default="", max_length=2000)
    expected_version: Version = None


class AddLink(Strict):
    actor: NonBlank = Field(
        min_length=1, max_length=200, examples=["Fachbereich Kinder, Jugend und Schule"]
    )
    action: NonBlank = Field(min_length=1, max_length=2000)
    due: date | None = None


class CompleteLink(Strict):
    index: int = Field(ge=0, le=MAX_INDEX)
    on: date


class Submit(Strict):
    on: date
    summary: NonBlank = Field(min_length=1, max_length=2000)
    expected_version: Version = None


class TopicView(BaseModel):
    id: UUID
    version: int
    title: str
    life_dimension: LifeDimension
    step: CycleStep
    gaps: list[UUID]
    history: list[dict[str, str]]
    chain: list[dict[str, str | None]]
    submissions: list[dict[str, str]]

    @classmethod
    def of(cls, t: GapTopic) -> TopicView:
        return cls(
            id=t.id,
            version=t.version,
            title=t.title,
            life_dimension=t.life_dimension,
            step=t.step,
            gaps=t.gaps,
            history=[{"step": s, "on": on, "note": n} for s, on, n in t.history],
            chain=t.chain,
            submissions=[{"on": on, "summary": s} for on, s in t.submissions],
        )


class GapView(BaseModel):
    id: UUID
    life_dimension: LifeDimension
    description: str | None = Field(
        description="null for a gap reported from a case until its supervising post released"
        " a reviewed description"
    )
    source: str
    reported_on: date
    topic_id: UUID | None


@router.post("/gaps", status_code=201, summary="Record a system gap (Versorgungslücke)")
def record_gap(
    body: RecordGap,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "record_gap",
        body,
        lambda: cmd.app.record_gap(
            life_dimension=body.life_dimension,
            description=body.description,
            reported_on=body.reported_on,
        ),
        status=201,
    )


@router.get("/gaps/{gap_id}", summary="One system gap")
def get_gap(gap_id: UUID, app: Reader) -> GapView:
    g = app.get_gap(gap_id)
    return GapView(
        id=g.id,
        life_dimension=g.life_dimension,
        description=g.description,
        source=g.source,
        reported_on=g.reported_on,
        topic_id=g.topic_id,
    )


@router.post("/topics", status_code=201, summary="Open a topic for gaps")
def open_topic(
    body: OpenTopic,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "open_topic",
        body,
        lambda: cmd.app.open_topic(title=body.title, life_dimension=body.life_dimension),
        status=201,
    )


@router.get("/topics/{topic_id}", summary="A topic with its cycle steps and service chain")
def get_topic(topic_id: UUID, app: Reader) -> TopicView:
    return TopicView.of(app.get_topic(topic_id))


@router.post("/topics/{topic_id}/gaps", summary="Group a gap into the topic")
def group_gap(
    topic_id: UUID,
    body: GroupGap,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "group_gap",
        body,
        lambda: cmd.app.group_gap(topic_id, body.gap_id),
    )


@router.post("/topics/{topic_id}/step", summary="Take the topic to the next cycle step")
def advance(
    topic_id: UUID,
    body: Advance,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "advance_topic",
        body,
        lambda: cmd.app.advance_topic(
            topic_id,
            step=body.step,
            on=body.on,
            note=body.note,
            expected_version=body.expected_version,
        ),
    )


@router.post("/topics/{topic_id}/chain", summary="Add a link to the service chain")
def add_link(
    topic_id: UUID,
    body: AddLink,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "add_chain_link",
        body,
        lambda: cmd.app.add_chain_link(
            topic_id, actor=body.actor, action=body.action, due=body.due
        ),
    )


@router.post("/topics/{topic_id}/chain/done", summary="Mark a chain link as done")
def complete_link(
    topic_id: UUID,
    body: CompleteLink,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "complete_chain_link",
        body,
        lambda: cmd.app.complete_chain_link(topic_id, index=body.index, on=body.on),
    )


@router.post("/topics/{topic_id}/submit", summary="Submit the topic to the steering group")
def submit(
    topic_id: UUID,
    body: Submit,
    cmd: Command,
) -> JSONResponse:
    return cmd.run(
        "submit_to_steering",
        body,
        lambda: cmd.app.submit_to_steering(
            topic_id, on=body.on, summary=body.summary, expected_version=body.expected_version
        ),
    )
