"""The head of a Verwendungsnachweis: who, as of when, and what the statement covers.

The same head stands above the CSV and the PDF; ``current_day`` is the day a provisional
statement is made (tests replace it, in ``services.audit.report`` where ``prepare`` asks).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from services.audit.labels import PROVISIONAL, day


def current_day() -> date:
    """Today (UTC, as ``as_of`` means the end of a day in UTC); tests replace it."""
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Head:
    """Who, as of when, and what the statement covers: the head of the document."""

    tenant: str
    position: int  # the last position of the tenant's coordination log folded
    name: str | None = None  # from the registry (or an export's manifest)
    ags: str | None = None
    as_of: date | None = None
    requested_position: int | None = None
    stand: datetime | None = None  # the moment the statement stands at; None: as of now
    provisional: bool = False
    today: date | None = None  # the day a provisional statement was made
    directory_known: bool = True  # the store holds the registry entry of the tenant
    manifest: bool = False  # an export's manifest named the tenant and its towns
    covered: list[str] = field(default_factory=list)  # tenants the narrative counts
    missing: list[str] = field(default_factory=list)  # named towns without logs here
    names: Mapping[str, str] = field(default_factory=dict)  # recipient key/id -> name
    descriptions: Mapping[str, str] = field(default_factory=dict)  # event id -> what

    @property
    def creation_date(self) -> datetime:
        """The PDF's creation date: fixed by the as-of day, never the time of the request."""
        if not self.provisional and self.stand is not None:
            return self.stand.replace(microsecond=0)
        return datetime.combine(self.today or current_day(), time(0), tzinfo=UTC)

    def grantee(self) -> str:
        return self.name or self.tenant

    def recipient(self, key: str) -> str:
        return self.names.get(key, key)


def as_head(tenant: str | Head, position: int | None = None) -> Head:
    """The head given, or a bare one of the tenant key and log position."""
    return tenant if isinstance(tenant, Head) else Head(tenant=tenant, position=position or 0)


def stand_text(head: Head) -> str:
    """The as-of day or log position the statement stands at, in words."""
    if head.as_of is not None:
        text = f"{day(head.as_of)}, Ende des Tages (UTC)"
    elif head.requested_position is not None and head.stand is not None:
        text = f"Protokollposition {head.requested_position} (aufgezeichnet {day(head.stand)})"
    else:
        text = f"ohne Stichtag: Stand beim Abruf am {day(head.today or current_day())}"
    return text


def head_notes(head: Head) -> list[tuple[str, str]]:
    """The warnings of the head: provisional, missing towns, no registry."""
    notes = []
    if head.provisional:
        notes.append(("Status", PROVISIONAL))
    if head.missing:
        notes.append(("Fehlende Mandanten", f"{', '.join(head.missing)} – deren Zahlen fehlen"))
    if not head.directory_known:
        notes.append(("Mandantenverzeichnis", no_directory(head)))
    return notes


def no_directory(head: Head) -> str:
    if head.manifest:
        return (
            "nicht im Datenbestand; Name und Mitgliedsstädte aus dem Manifest des Prüfexports"
            " und den eigenen Verträgen und Stellen des Mandanten"
        )
    return (
        "nicht im Datenbestand; Mitgliedsstädte nur aus den eigenen Verträgen und Stellen des"
        " Mandanten ermittelt, Name unbekannt (kim audit statement --manifest nennt beides)"
    )
