"""The tenant's ``audit`` log: who of the auditors asked what, and who read whose personal data.

Only the platform writes it (``services/audit/trail.py``): every auditor query is recorded in
the audited tenant's log, every read of a person's sealed personal data or notes in the log
of the tenant whose case management holds the person. No entry holds the data itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event
from eventsourcing.persistence import Recording
from eventsourcing.utils import get_topic

from contexts.shared.application import TenantApplication
from contexts.shared.indexes import Entry

READS_OF_PERSON = "reads_of_person"
"""Index of the personal-data reads by person id (members: the read entries), kept with the
events, so one person's reads are found without scanning the tenant's audit log."""

MAX_TEXT = 200
MAX_ITEMS = 20
MAX_DEPTH = 3
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")


class AuditQuery(Aggregate):
    """One query of an auditor: who, which view, with which parameters."""

    class Recorded(Aggregate.Created):
        auditor: str
        view: str
        parameters: dict[str, Any]

    @event(Recorded)
    def __init__(self, auditor: str, view: str, parameters: dict[str, Any]) -> None:
        self.auditor = auditor
        self.view = view
        self.parameters = parameters


class Channel(StrEnum):
    REST = "rest"
    GRAPHQL = "graphql"


class Purpose(StrEnum):
    """Why a person's personal data was read (the request's purpose, derived by the platform)."""

    CASE = "case"  # the case manager of the case's assigned position, working on the case
    SUPERVISION = "supervision"  # the post supervising the case's position (Fachaufsicht)
    APPROVAL = "approval"  # the supervising post, the case waiting for its approval
    REGISTRATION = "registration"  # the case manager whose position registered the person
    AUDIT = "audit"  # an auditor within the audit mandate
    PROCEDURE = "procedure"  # the immigration office's staff, working on its procedures


class PersonalDataRead(Aggregate):
    """One request's read of one person's personal data: who, whose, which fields, why.

    Names the fields read, never their values. The person id is the pseudonymous id of case
    management; once the person is erased (their key destroyed) nothing links it to them.
    """

    class Recorded(Aggregate.Created):
        reader: str  # tenant/subject
        roles: list[str]
        position: str | None  # the reader's position claim
        person_id: str
        case_id: str | None
        fields: list[str]
        purpose: str
        channel: str

    @event(Recorded)
    def __init__(
        self,
        reader: str,
        roles: list[str],
        position: str | None,
        person_id: str,
        case_id: str | None,
        fields: list[str],
        purpose: str,
        channel: str,
    ) -> None:
        self.reader = reader
        self.roles = roles
        self.position = position
        self.person_id = person_id
        self.case_id = case_id
        self.fields = fields
        self.purpose = purpose
        self.channel = channel

    def index_entries(self) -> frozenset[Entry]:
        return frozenset({(READS_OF_PERSON, self.person_id)})


@dataclass(frozen=True)
class Read:
    """What a request opened of one person: the fields (names only) and the case, if any."""

    person_id: UUID
    fields: tuple[str, ...]
    purpose: Purpose
    case_id: UUID | None = None


@dataclass(frozen=True)
class Reader:
    """Who reads, as the token says."""

    actor: str  # tenant/subject
    roles: frozenset[str]
    position: UUID | None = None


def bounded(value: Any, depth: int = 0) -> Any:
    """A parameter value the platform keeps: scalars, short strings, small lists and maps of
    them (the edges validate what they pass; this bounds what reaches the log)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if depth < MAX_DEPTH and isinstance(value, list | tuple):
        return [bounded(v, depth + 1) for v in list(value)[:MAX_ITEMS]]
    if depth < MAX_DEPTH and isinstance(value, dict):
        return {
            str(k)[:64]: bounded(v, depth + 1)
            for k, v in list(value.items())[:MAX_ITEMS]
            if NAME.match(str(k))
        }
    return str(value)[:MAX_TEXT]


def _field_names(fields: Iterable[str]) -> list[str]:
    names = sorted({f for f in fields if NAME.match(f)})
    if not names:
        raise ValueError("a personal-data read names the fields it opened")
    return names[:MAX_ITEMS]


class AuditApplication(TenantApplication):
    context = "audit"

    def record_query(
        self, *, auditor: str, view: str, parameters: dict[str, Any]
    ) -> list[Recording[UUID]]:
        if not NAME.match(view):
            raise ValueError(f"not a view name: {view!r}")
        return self.save(AuditQuery(auditor=auditor, view=view, parameters=bounded(parameters)))

    def record_reads(
        self, reader: Reader, reads: Sequence[Read], *, channel: Channel
    ) -> list[Recording[UUID]]:
        """One entry per person read, all in one transaction (a request reading many)."""
        entries = [
            PersonalDataRead(
                reader=reader.actor,
                roles=sorted(reader.roles),
                position=str(reader.position) if reader.position else None,
                person_id=str(r.person_id),
                case_id=str(r.case_id) if r.case_id else None,
                fields=_field_names(r.fields),
                purpose=Purpose(r.purpose).value,
                channel=Channel(channel).value,
            )
            for r in reads
        ]
        return self.save(*entries) if entries else []

    def queries(self, *, after: int = 0, limit: int = 100) -> list[tuple[int, AuditQuery]]:
        """A page of the recorded auditor queries in log order: (position, query)."""
        return [
            (n.id, self.load(AuditQuery, UUID(str(n.originator_id)), "audit query"))
            for n in self.recorder.select_notifications(
                start=after,
                limit=limit,
                inclusive_of_start=False,
                topics=[get_topic(AuditQuery.Recorded)],
            )
        ]

    def reads_of(
        self, person_id: UUID, progress: Callable[[], None] | None = None
    ) -> list[PersonalDataRead]:
        """Every recorded read of the person's data, oldest first (from the index: the cost
        is that of the person's own reads, not of the log)."""
        found = []
        for member in self.indexes.index_members(READS_OF_PERSON, str(person_id)):
            found.append(self.load(PersonalDataRead, UUID(member), "personal-data read"))
            if progress is not None:
                progress()
        return sorted(found, key=lambda r: (r.created_on, str(r.id)))

    def count_reads_of(self, person_id: UUID) -> int:
        return self.indexes.index_count(READS_OF_PERSON, str(person_id))
