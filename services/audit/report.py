"""The Verwendungsnachweis of a funding notice and year: computed by replay, as CSV or PDF.

German labels (what the Bezirksregierung reads); every figure carries the ids of the
events behind it, so an auditor can drill down to the history.

Reproducible: a statement as of a day (``as_of``: the end of that day, UTC) or of a log
position rests on the events recorded up to then only, and so does everything around it
(the tenant's name and member towns from the registry as it stood, the narrative
statistics). The same statement as of the same day gives the same bytes as CSV and as PDF:
neither carries anything of the request itself (no creation time, no audit-trail position;
the PDF's creation date is the end of the as-of day).

Provisional: a statement as of a day that has not ended yet (``as_of`` today or later, or
neither ``as_of`` nor a position: "as of now"), or of a log position the log has not
reached, may still change. It is not refused but marked: "VORLÄUFIG – Stichtag noch nicht
abgeschlossen" in the head of the CSV and on every page of the PDF, ``provisional: true``
in JSON.

Coverage: the narrative statistics count the tenant and the towns below it: those the
registry names (as it stood), those the tenant's own records name (forwarding contracts to
them, positions working there) and those an audit export's manifest names. A town whose
logs the store does not hold although it must have some (an audit export of one tenant
imported alone: the registry is not in the store, but the tenant's records or the
manifest name the town with events) is named in the head ("Fehlende Mandanten: ... –
deren Zahlen fehlen") instead of silently counting nothing. A town the registry in the
store knows without any log of its own has simply recorded nothing yet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING, Any

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation
from contexts.coordination.funding import ForwardingContract, FundingNotice, RecipientKind
from contexts.coordination.positions import Position
from contexts.coordination.statement import Statement, VacancyRule, statement
from contexts.shared.errors import DomainError
from contexts.tenancy.application import PLATFORM_TENANT, TenancyApplication
from contexts.tenancy.domain import Tenant
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from services.audit.narrative import Narrative, label_of, narrative

if TYPE_CHECKING:
    from fpdf import FPDF

PROVISIONAL = "VORLÄUFIG – Stichtag noch nicht abgeschlossen"
TITLE = "Verwendungsnachweis – zahlenmäßiger Nachweis"

LABELS = {
    "granted": "Bewilligt insgesamt",
    "granted:coordination": "Bewilligt: Koordination",
    "granted:assistance": "Bewilligt: Verwaltungsassistenz",
    "granted:case_management": "Bewilligt: Case Management",
    "granted:immigration_office": "Bewilligt: Ausländer- und Einbürgerungsbehörde",
    "granted:material_costs": "Bewilligt: Sachkosten",
    "recognised_staff_cost": "Verwendet für eigene Stellen (anerkannte Personalkosten)",
    "forwarded": "Weitergeleitet (Weiterleitungsverträge)",
    "material_costs": "Sachkosten (wie bewilligt)",
    "used": "Verwendet insgesamt",
    "unused": "Nicht verwendet",
    "staff_cost": "Personalkosten (Ist)",
    "staff_grant_use": "Personalkosten: aus der Zuwendung",
    "own_funds": "Personalkosten: Eigenmittel",
    "third_party": "Personalkosten: Drittmittel",
    "uncovered": "Personalkosten: ungedeckt",
}
RULES = {
    VacancyRule.TWELFTH_PER_VACANT_MONTH: "1/12 weniger je vollem unbesetzten Monat",
    VacancyRule.PRO_RATA_FILLED: "anteilig nach besetzten VZÄ je Monat",
}
TYPES = {
    "coordination": "Koordination",
    "assistance": "Verwaltungsassistenz",
    "case_management": "Case Management",
    "immigration_office": "Ausländer- und Einbürgerungsbehörde",
}
AMOUNT_RULES = {
    "notice": "Bescheid",
    "flat": "Pauschale",
    "actual_cost_capped": "Ist-Kosten bis Höchstbetrag",
}
BAUSTEINE = {
    1: "Strategische Koordinierung",
    2: "Rechtskreisübergreifendes Case Management",
    3: "Ausländer- und Einbürgerungsbehörden",
}
DIMENSIONS = {
    "health": "Gesundheit",
    "language": "Sprache",
    "education": "Bildung",
    "work_and_livelihood": "Arbeit und Lebensunterhalt",
    "housing": "Wohnen",
    "residence_status": "Aufenthaltsstatus",
    "political_participation": "politische Teilhabe",
    "culture_and_leisure": "Kultur und Freizeit",
    "family": "Familie",
    "mobility": "Mobilität",
    "discrimination": "Diskriminierung",
}
CLOSURES = {
    "goals_reached": "Ziele erreicht",
    "moved_away": "verzogen",
    "ended_by_person": "von der Person beendet",
    "no_contact": "kein Kontakt",
    "transferred": "übergeben",
}
SERVICES = {
    "language_course_counselling": "Sprachkursberatung",
    "mbe": "Migrationsberatung für Erwachsene (MBE)",
    "jmd": "Jugendmigrationsdienst (JMD)",
    "school_newcomer_counselling": "Seiteneinsteigerberatung",
    "job_centre": "Jobcenter (SGB II)",
    "employment_agency": "Agentur für Arbeit (SGB III)",
    "youth_office": "Jugendamt (SGB VIII)",
    "health": "Gesundheit",
    "housing": "Wohnen",
    "other": "Sonstiges",
}
STATUSES = {
    "proposed": "vorgeschlagen",
    "accepted": "angenommen",
    "rejected": "abgelehnt",
    "completed": "abgeschlossen",
}
STEPS = {
    "collection": "Erhebung",
    "analysis": "Analyse",
    "planning_and_steering": "Planung und Steuerung",
    "implementation": "Umsetzung",
    "evaluation": "Evaluation",
    "readjustment": "Nachsteuerung",
}
MONTHS = ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez")


def story_label(key: str) -> str:
    """The German label of a narrative figure (``cases:closed:moved_away`` and the like)."""
    head, _, rest = key.partition(":")
    if key.startswith("cases:closed:"):
        reason = key.split(":", 2)[2]
        return f"Fälle abgeschlossen: {CLOSURES.get(reason, reason)}"
    if head in ("life_dimension", "gap"):
        return f"{label_of(head)}: {DIMENSIONS.get(rest, rest)}"
    if head == "referral":
        service, _, status = rest.partition(":")
        return f"Verweisung an {SERVICES.get(service, service)}: {STATUSES.get(status, status)}"
    if head == "topic":
        return f"{label_of(head)}: {STEPS.get(rest, rest)}"
    return label_of(key)


def current_day() -> date:
    """Today (UTC, as ``as_of`` means the end of a day in UTC); tests replace it."""
    return datetime.now(UTC).date()


def build(
    store: EventLogStore,
    app: CoordinationApplication,
    notice: str,
    year: int,
    *,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
    upto: int | None = None,
    until: datetime | None = None,
) -> tuple[Statement, History]:
    """The statement of the notice (id or reference) as of ``upto``/``until``."""
    history = fold(store, app, upto=upto, until=until)
    notices = history.of_type(FundingNotice)
    found = [n for n in notices if str(n.id) == notice or notice in n.references]
    if not found:
        raise DomainError(
            "unknown-notice",
            f"{app.tenant} has no funding notice {notice!r}"
            + (f" as of position {history.position}" if upto or until else ""),
            field="notice",
        )
    return (
        statement(
            found[0],
            history.of_type(ForwardingContract),
            history.of_type(Position),
            year,
            history.evidence,
            rule,
        ),
        history,
    )


# -- what surrounds the figures -------------------------------------------------------------


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


def _recorded_at(store: EventLogStore, tenant: str, context: str, position: int) -> datetime:
    (record,) = store.read_log(tenant, context, after=position - 1, upto=position)
    return datetime.fromisoformat(record.recorded_at)


def _directory_as_of(
    store: EventLogStore, tenancy: TenancyApplication, until: datetime | None
) -> dict[str, Tenant]:
    """The registry as it stood: names and member towns of the statement's day."""
    history = fold(store, tenancy, until=until)
    return {t.key: t for t in history.of_type(Tenant)}


def _descendants(tenants: Mapping[str, Tenant], key: str) -> list[str]:
    def above(k: str) -> set[str]:
        found: set[str] = set()
        parent = tenants[k].parent
        while parent is not None and parent not in found:
            found.add(parent)
            parent = tenants[parent].parent if parent in tenants else None
        return found

    return sorted(k for k in tenants if key in above(k))


def _named_towns(history: History, tenant: str) -> set[str]:
    """Towns the tenant's own records name: contracts to them, positions working there."""
    named = {
        c.recipient
        for c in history.of_type(ForwardingContract)
        if c.recipient_kind == RecipientKind.TENANT
    }
    named |= {p.work_tenant for p in history.of_type(Position)}
    return named - {tenant}


EVENT_TEXTS = {
    "FundingNotice.Issued": "Bescheid {reference} vom {issued_on}",
    "FundingNotice.Amended": "Änderungsbescheid {reference}, gültig ab {effective_from}",
    "FundingNotice.ForwardingReserved": (
        "Weiterleitung vorgemerkt: {fte} VZÄ, {amount_per_year} p. a."
    ),
    "FundingNotice.ForwardingReleased": "Vormerkung einer Weiterleitung aufgehoben",
    "ForwardingContract.Concluded": (
        "Weiterleitungsvertrag: {fte} VZÄ, {amount_per_year} p. a., {start} bis {end}"
    ),
    "ForwardingContract.Amended": "Vertragsänderung: {fte} VZÄ, {amount_per_year} p. a.",
    "ForwardingContract.Terminated": "Vertrag beendet zum {end}",
    "Position.Created": "Stelle angelegt: {title}, {fte} VZÄ",
    "Position.StaffingStarted": "Besetzung ab {start}: {fte} VZÄ",
    "Position.StaffingEnded": "Besetzung endet {end}",
    "Position.StaffCostRecorded": "Personalkosten {month}: {amount}",
    "Position.YearStaffCostRecorded": "Personalkosten {year}: {amount}",
    "Position.ContributionRecorded": "{kind} {year}: {amount} ({contributor})",
}
"""What the appendix says about an event next to its id (coordination events)."""


class _Fields(dict[str, str]):
    """The event's attributes for a template: amounts in German notation."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event

    def __missing__(self, name: str) -> str:
        value = getattr(self.event, name, "")
        try:
            if name.startswith("amount"):
                return f"{euro(Decimal(str(value)))} €"
            if name == "fte":
                return fte(Decimal(str(value)))
            if name in ("start", "end", "issued_on", "effective_from") and value:
                return day(date.fromisoformat(str(value)))
        except (ArithmeticError, ValueError):
            return str(value)
        if name == "kind":
            return {"own_funds": "Eigenmittel", "third_party": "Drittmittel"}.get(value, value)
        return str(value)


def _describe(event: object) -> str:
    kind = type(event).__qualname__
    template = EVENT_TEXTS.get(kind)
    return kind if template is None else template.format_map(_Fields(event))


def prepare(
    store: EventLogStore,
    tenant: str,
    notice: str,
    year: int,
    *,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
    as_of: date | None = None,
    position: int | None = None,
    manifest: Mapping[str, Any] | None = None,
    today: date | None = None,
    app: CoordinationApplication | None = None,
    tenancy: TenancyApplication | None = None,
) -> tuple[Statement, Head, Narrative]:
    """The statement with its head and the narrative statistics, as the API and CLI give it.

    ``manifest``: the manifest of the audit export the store was imported from, if at hand
    (``kim audit export`` writes the tenant's registry entry and its member towns into it).
    """
    today = today or current_day()
    until = datetime.combine(as_of, time.max, tzinfo=UTC) if as_of else None
    app = app or CoordinationApplication(tenant, store.recorder)
    s, history = build(store, app, notice, year, rule=rule, upto=position, until=until)
    stand: datetime | None = until
    if position is not None:
        at = _recorded_at(store, tenant, app.context, history.position)
        stand = at if until is None else min(at, until)
    # Later records come with later positions and times: as of a day that has ended, or of
    # a position the log has reached, nothing can be added any more.
    if as_of is not None:
        provisional = as_of >= today
    else:
        provisional = position is None or position > history.position
    registry = _directory_as_of(store, tenancy or TenancyApplication(store.recorder), stand)
    info = registry.get(tenant)
    exported = dict(manifest.get("tenant_info") or {}) if manifest else {}
    members: Mapping[str, Mapping[str, Any]] = (manifest.get("members") or {}) if manifest else {}
    present = {t for (t, _) in store.heads() if t != PLATFORM_TENANT}
    # A town the registry knows but without logs has recorded nothing; one only the
    # tenant's records name (no registry here) or the manifest names with events is missing.
    named = _named_towns(history, tenant)
    expected = (named - set(registry)) | {k for k, m in members.items() if m.get("events")}
    towns = set(_descendants(registry, tenant)) | named | set(members)
    missing = sorted(t for t in expected if t not in present)
    covered = [tenant, *sorted(towns - set(missing))]
    names = {k: t.name for k, t in registry.items()}
    names.update(
        {k: str(m["name"]) for k, m in members.items() if m.get("name") and k not in names}
    )
    names.update({str(o.id): o.name for o in history.of_type(Organisation)})
    descriptions = {
        event_id: _describe(event)
        for pairs in history.evidence.values()
        for event_id, event in pairs
    }
    head = Head(
        tenant=tenant,
        position=history.position,
        name=info.name if info else exported.get("name"),
        ags=info.ags if info else exported.get("ags"),
        as_of=as_of,
        requested_position=position,
        stand=stand,
        provisional=provisional,
        today=today,
        directory_known=info is not None,
        manifest=manifest is not None,
        covered=covered,
        missing=missing,
        names=names,
        descriptions=descriptions,
    )
    story = narrative(store, covered, tenant, year, until=stand)
    return s, head, story


def as_head(tenant: str | Head, position: int | None = None) -> Head:
    return tenant if isinstance(tenant, Head) else Head(tenant=tenant, position=position or 0)


# -- formats ------------------------------------------------------------------------------


def euro(value: Decimal) -> str:
    """German notation: 1.234,56"""
    text = f"{value:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fte(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def exact(value: Decimal) -> str:
    """FTE or months with as many decimals as they have (two at least, four at most)."""
    text = f"{value:.4f}".rstrip("0")
    if len(text.partition(".")[2]) < 2:
        text = f"{value:.2f}"
    return text.replace(".", ",")


def day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _type(position_type: str) -> str:
    return TYPES.get(position_type, position_type)


def _stand(head: Head) -> str:
    if head.as_of is not None:
        text = f"{day(head.as_of)}, Ende des Tages (UTC)"
    elif head.requested_position is not None and head.stand is not None:
        text = f"Protokollposition {head.requested_position} (aufgezeichnet {day(head.stand)})"
    else:
        text = f"ohne Stichtag: Stand beim Abruf am {day(head.today or current_day())}"
    return text


def _head_notes(head: Head) -> list[tuple[str, str]]:
    """The warnings of the head: provisional, missing towns, no registry."""
    notes = []
    if head.provisional:
        notes.append(("Status", PROVISIONAL))
    if head.missing:
        notes.append(("Fehlende Mandanten", f"{', '.join(head.missing)} – deren Zahlen fehlen"))
    if not head.directory_known:
        notes.append(("Mandantenverzeichnis", _no_directory(head)))
    return notes


def _no_directory(head: Head) -> str:
    if head.manifest:
        return (
            "nicht im Datenbestand; Name und Mitgliedsstädte aus dem Manifest des Prüfexports"
            " und den eigenen Verträgen und Stellen des Mandanten"
        )
    return (
        "nicht im Datenbestand; Mitgliedsstädte nur aus den eigenen Verträgen und Stellen des"
        " Mandanten ermittelt, Name unbekannt (kim audit statement --manifest nennt beides)"
    )


def rows(
    s: Statement,
    tenant: str | Head,
    position: int | None = None,
    story: Narrative | None = None,
) -> list[list[str]]:
    """The statement as table rows: section, item, value, event ids."""
    head = as_head(tenant, position)
    out = [
        ["Abschnitt", "Posten", "Wert", "Ereignisse"],
        ["Kopf", "Dokument", f"{TITLE} {s.year}", ""],
    ]
    out += [["Kopf", label, text, ""] for label, text in _head_notes(head)]
    out += [
        ["Kopf", "Zuwendungsempfänger", head.grantee(), ""],
        ["Kopf", "Mandant", head.tenant, ""],
        ["Kopf", "AGS", head.ags or "", ""],
        ["Kopf", "Zuwendungsgeber", s.grantor, ""],
        ["Kopf", "Bescheid", s.reference, ""],
        ["Kopf", "Bescheide in Kraft", ", ".join(s.references), ""],
        ["Kopf", "Baustein", f"{s.baustein} – {BAUSTEINE.get(s.baustein, '')}", ""],
        ["Kopf", "Bewilligungszeitraum", f"{day(s.period.start)} – {day(s.period.end)}", ""],
        ["Kopf", "Jahr", str(s.year), ""],
        ["Kopf", "Monate im Bewilligungszeitraum", exact(s.months_in_period), ""],
        ["Kopf", "Stichtag", _stand(head), ""],
        ["Kopf", "Stand (Protokollposition)", str(head.position), ""],
        ["Kopf", "Regel für unbesetzte Monate", RULES[s.vacancy_rule], ""],
    ]
    if story is not None:
        out.append(["Kopf", "Sachbericht umfasst", ", ".join(story.tenants), ""])
    for r in s.rates:
        out.append(
            [
                "Satz",
                f"{_type(r.position_type)} ab {day(r.effective_from)} ({r.reference})",
                f"{fte(r.fte)} VZÄ × {euro(r.rate)} je VZÄ und Jahr",
                "",
            ]
        )
    for g in s.granted:
        out.append(["Bewilligung", LABELS.get(g.label, g.label), euro(g.value), " ".join(g.events)])
    for t in s.totals:
        out.append(["Summe", LABELS.get(t.label, t.label), euro(t.value), " ".join(t.events)])
    for p in s.positions:
        ids = " ".join(p.events)
        funded = "Bescheid" if p.contract_id is None else head.recipient(p.funded_by)
        figures = [
            ("Stellenart", _type(p.position_type)),
            ("VZÄ", fte(p.fte)),
            ("finanziert durch", funded),
            ("Regel", AMOUNT_RULES.get(p.amount_rule, p.amount_rule)),
            ("Monate besetzt", exact(p.months_filled)),
            ("VZÄ-Monate", exact(p.fte_months)),
            ("unbesetzte Monate", str(p.vacant_months)),
            ("Obergrenze", euro(p.cap)),
            ("Ist-Kosten", euro(p.actual_cost)),
            (
                "Zuwendung",
                "über die Pauschale des Vertrags" if p.grant_use is None else euro(p.grant_use),
            ),
            ("Eigenmittel", euro(p.own_funds)),
            ("Drittmittel", euro(p.third_party)),
        ]
        if p.uncovered is not None:
            figures.append(("ungedeckt", euro(p.uncovered)))
        out += [["Stelle", f"{p.title}: {item}", value, ids] for item, value in figures]
    for c in s.contracts:
        ids = " ".join(c.events)
        who = f"an {head.recipient(c.recipient)}"
        figures = [
            ("Stellenart", _type(c.position_type)),
            ("VZÄ", fte(c.fte)),
            ("Regel", AMOUNT_RULES.get(c.amount_rule, c.amount_rule)),
            ("Betrag p. a.", euro(c.amount_per_year)),
            ("Monate", exact(c.months)),
            ("Grenze", euro(c.limit)),
            ("Summe Stellen", euro(c.positions_use)),
            ("Kürzung", euro(c.reduction)),
            ("Zuwendung (weitergeleitet)", euro(c.grant_use)),
            ("gemeldete Personalkosten", euro(c.reported_cost)),
            ("Eigenmittel", euro(c.own_funds)),
            ("Drittmittel", euro(c.third_party)),
        ]
        out += [["Weiterleitung", f"{who}: {item}", value, ids] for item, value in figures]
    for m in s.months:
        out += [
            ["Monat", f"{m.month}: bewilligt (VZÄ)", exact(m.granted_fte), ""],
            ["Monat", f"{m.month}: weitergeleitet (VZÄ)", exact(m.forwarded_fte), ""],
            ["Monat", f"{m.month}: besetzt (VZÄ)", exact(m.filled_fte), " ".join(m.events)],
        ]
    if story is not None:
        out.append(["Sachbericht", "Mandanten", ", ".join(story.tenants), ""])
        for key, figure in sorted(story.figures.items()):
            out.append(
                ["Sachbericht", story_label(key), str(figure.count), " ".join(figure.events)]
            )
    return out


def to_csv(
    s: Statement,
    tenant: str | Head,
    position: int | None = None,
    story: Narrative | None = None,
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows(rows(s, tenant, position, story))
    return buffer.getvalue()


# -- PDF ----------------------------------------------------------------------------------


@dataclass
class Mark:
    """A reference mark [A n]: the events a figure rests on, listed in the appendix."""

    mark: str
    title: str
    events: list[str]
    group: str  # notice, position, contract, total, month, story
    link: int = 0
    parts: list[str] = field(default_factory=list)  # marks whose events are among these
    rest: list[str] = field(default_factory=list)  # the events no part names

    @property
    def number(self) -> int:
        return int(self.mark[1:])


COMPOSED = {
    "contract": {"position"},
    "total": {"notice", "position", "contract", "total"},
    "month": {"month"},
}
"""Which marks name the marks of which groups instead of repeating their events."""


class Marks:
    """Marks in reading order; the same events get the same mark."""

    def __init__(self, pdf: FPDF) -> None:
        self.pdf = pdf
        self.entries: list[Mark] = []
        self._by_events: dict[tuple[str, ...], Mark] = {}

    def __call__(self, title: str, events: Sequence[str], group: str) -> Mark | None:
        if not events:
            return None
        key = tuple(dict.fromkeys(events))
        if key not in self._by_events:
            number = len(self.entries) + 1
            entry = Mark(f"A{number}", title, list(key), group, self.pdf.add_link(page=1))
            self.entries.append(entry)
            self._by_events[key] = entry
        return self._by_events[key]

    def resolve(self) -> None:
        """A total, contract or month mark names the smaller marks its events include and
        lists only the events they leave."""
        for entry in self.entries:
            groups = COMPOSED.get(entry.group, set())
            wanted = set(entry.events)
            smaller = sorted(
                (e for e in self.entries if e.group in groups and set(e.events) < wanted),
                key=lambda e: (-len(e.events), e.number),
            )
            covered: set[str] = set()
            parts = []
            for candidate in smaller:
                if not set(candidate.events) <= covered:
                    parts.append(candidate)
                    covered |= set(candidate.events)
            entry.parts = [p.mark for p in sorted(parts, key=lambda e: e.number)]
            entry.rest = [e for e in entry.events if e not in covered]


MARK_TITLES = {
    "recognised_staff_cost": "Eigene Stellen",
    "forwarded": "Weiterleitungsverträge",
    "staff_cost": "Personalkosten, Eigen- und Drittmittel aller Stellen",
    "own_funds": "Personalkosten, Eigen- und Drittmittel aller Stellen",
    "third_party": "Personalkosten, Eigen- und Drittmittel aller Stellen",
}
FONT = "Helvetica"
MONO = "Courier"
SMALL = 7.5
GREY = (225, 225, 225)
LIGHT = (245, 245, 245)


def _new_pdf(s: Statement, head: Head) -> FPDF:
    from fpdf import FPDF

    class StatementPDF(FPDF):
        def header(self) -> None:
            if head.provisional:
                self.set_xy(self.l_margin, 7)
                self.set_font(FONT, "B", 8)
                self.set_text_color(170, 0, 0)
                self.cell(0, 4, PROVISIONAL, align="R")
                self.set_text_color(0)
                self.set_y(self.t_margin)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_draw_color(160)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
            self.set_font(FONT, size=7)
            self.set_text_color(80)
            running = f"{TITLE} {s.year} · {head.grantee()} · Bescheid {s.reference}"
            self.cell(self.epw * 0.8, 6, running)
            self.cell(self.epw * 0.2, 6, f"Seite {self.page_no()} von {{nb}}", align="R")
            self.set_text_color(0)

    pdf = StatementPDF(orientation="P", unit="mm", format="A4")
    # Helvetica is a core font in WinAnsi (cp1252): umlauts, ß, "–" and "€" render.
    pdf.core_fonts_encoding = "cp1252"
    pdf.set_creation_date(head.creation_date)
    pdf.set_title(f"{TITLE} {s.year}: {head.grantee()}, Bescheid {s.reference}")
    pdf.set_author(head.grantee())
    pdf.set_subject(f"Baustein {s.baustein}, Stand Protokollposition {head.position}")
    pdf.set_creator("KIM-Plattform")
    pdf.set_margins(16, 15, 16)
    pdf.set_auto_page_break(auto=True, margin=16)
    pdf.alias_nb_pages()
    return pdf


def _section(pdf: FPDF, title: str, room: float = 30) -> None:
    if pdf.get_y() + room > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10.5)
    pdf.cell(0, 6, title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1.5)
    pdf.set_font(FONT, size=SMALL)


def _keep(pdf: FPDF, title: str | None, draw: Callable[[], None]) -> None:
    """A section (heading and ``draw``) on one page: on the next one if it would break here.

    A dry run first (fpdf2 restores its state after it); the marks the block names must
    exist before, so the dry run registers nothing.
    """

    def block() -> None:
        if title is not None:
            _section(pdf, title)
        draw()

    with pdf.offset_rendering() as probe:
        block()
    if probe.page_break_triggered:
        pdf.add_page()
    block()


def _note(pdf: FPDF, text: str, size: float = 7) -> None:
    pdf.set_font(FONT, "I", size)
    pdf.multi_cell(0, 3.4, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=SMALL)


Cell = tuple[str, Mark | None] | str


Column = tuple[str, float, str]
"""heading, width (parts of the page width), alignment"""

RATE_COLUMNS: tuple[Column, ...] = (
    ("Stellenart", 50, "LEFT"),
    ("VZÄ", 16, "RIGHT"),
    ("Satz je VZÄ und Jahr (€)", 34, "RIGHT"),
    ("gültig ab", 22, "LEFT"),
    ("Bescheid", 42, "LEFT"),
    ("Beleg", 14, "LEFT"),
)
AMOUNT_COLUMNS: tuple[Column, ...] = (
    ("Posten", 128, "LEFT"),
    ("Betrag (€)", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)
IDENTITY_COLUMNS: tuple[Column, ...] = (
    ("", 8, "CENTER"),
    ("Posten", 120, "LEFT"),
    ("Betrag (€)", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)
POSITION_COLUMNS: tuple[Column, ...] = (
    ("Stelle", 35, "LEFT"),
    ("VZÄ", 9, "RIGHT"),
    ("finanziert durch", 22, "LEFT"),
    ("Monate besetzt", 16, "RIGHT"),
    ("Obergrenze", 18, "RIGHT"),
    ("Ist-Kosten", 18, "RIGHT"),
    ("Zuwendung", 18, "RIGHT"),
    ("Eigen-\nmittel", 16, "RIGHT"),
    ("Dritt-\nmittel", 16, "RIGHT"),
    ("Beleg", 10, "LEFT"),
)
CONTRACT_COLUMNS: tuple[Column, ...] = (
    ("Empfänger", 34, "LEFT"),
    ("Regel", 21, "LEFT"),
    ("VZÄ", 9, "RIGHT"),
    ("Betrag p. a.", 18, "RIGHT"),
    ("Monate", 12, "RIGHT"),
    ("Grenze", 18, "RIGHT"),
    ("Summe Stellen", 18, "RIGHT"),
    ("Kürzung", 16, "RIGHT"),
    ("Zuwendung", 18, "RIGHT"),
    ("Beleg", 14, "LEFT"),
)
STORY_COLUMNS: tuple[Column, ...] = (
    ("Kennzahl", 128, "LEFT"),
    ("Anzahl", 32, "RIGHT"),
    ("Beleg", 18, "LEFT"),
)


def _table(
    pdf: FPDF,
    columns: Sequence[Column],
    body: Iterable[Sequence[Cell]],
    *,
    bold: Iterable[int] = (),
    size: float = SMALL,
) -> None:
    """A table with a grey heading row (repeated on a new page); marks link to the appendix."""
    from fpdf.fonts import FontFace

    strong = set(bold)
    pdf.set_font(FONT, size=size)
    with pdf.table(
        col_widths=tuple(width for _, width, _ in columns),
        width=pdf.epw,
        text_align=tuple(align for _, _, align in columns),
        line_height=size * 0.47,
        headings_style=FontFace(emphasis="BOLD", fill_color=GREY),
        borders_layout="HORIZONTAL_LINES",
        align="LEFT",
        padding=(0.8, 1.0),
        v_align="TOP",
    ) as table:
        table.row([heading for heading, _, _ in columns])
        for index, cells in enumerate(body):
            style = FontFace(emphasis="BOLD", fill_color=LIGHT) if index in strong else None
            row = table.row(style=style)
            for cell in cells:
                if isinstance(cell, tuple):
                    text, mark = cell
                    if mark is None:
                        row.cell(text)
                    else:
                        row.cell(f"{text} [{mark.mark}]" if text else mark.mark, link=mark.link)
                else:
                    row.cell(cell)
    pdf.ln(1)


def _ref(mark: Mark | None) -> Cell:
    return ("", mark) if mark is not None else "–"


def _head_block(pdf: FPDF, s: Statement, head: Head, notice_mark: Mark | None) -> None:
    from fpdf.fonts import FontFace

    identity = head.grantee()
    if head.name is None:
        identity += " (Name nicht im Datenbestand)"
    key = f"Mandant {head.tenant}" + (f", AGS {head.ags}" if head.ags else "")
    amendments = [r for r in s.references if r != s.reference]
    stand = _stand(head) + f"; Protokollposition {head.position} (Koordination {head.tenant})"
    fields: list[tuple[str, str, float]] = [
        ("Zuwendungsempfänger", f"{identity}\n{key}", 0),
        ("Anschrift", "", 13),
        ("Ansprechperson, Telefon, E-Mail", "", 9),
        ("Zuwendungsgeber", s.grantor, 0),
        ("Förderprogramm", "Kommunales Integrationsmanagement (KIM) Nordrhein-Westfalen", 0),
        (
            "Bescheid",
            s.reference
            + (f"; Änderungsbescheide in Kraft: {', '.join(amendments)}" if amendments else "")
            + (f" [{notice_mark.mark}]" if notice_mark else ""),
            0,
        ),
        ("Baustein", f"{s.baustein} – {BAUSTEINE.get(s.baustein, '')}", 0),
        ("Bewilligungszeitraum", f"{day(s.period.start)} – {day(s.period.end)}", 0),
        (
            "Nachweiszeitraum",
            f"01.01.{s.year} – 31.12.{s.year}; {exact(s.months_in_period)} Monate davon"
            " im Bewilligungszeitraum",
            0,
        ),
        ("Stichtag (Stand)", stand, 0),
        ("Regel für unbesetzte Monate", RULES[s.vacancy_rule], 0),
    ]
    pdf.set_font(FONT, size=8.5)
    with pdf.table(
        col_widths=(52, 126),
        width=pdf.epw,
        text_align=("LEFT", "LEFT"),
        line_height=4.2,
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        align="LEFT",
        padding=(1.0, 1.0),
        v_align="TOP",
    ) as table:
        for label, value, height in fields:
            row = table.row(min_height=height or None)
            row.cell(label, style=FontFace(emphasis="BOLD"))
            row.cell(value)


def _boxes(pdf: FPDF, head: Head) -> None:
    """Provisional and missing towns, framed in red above everything else."""
    texts = []
    if head.provisional:
        texts.append(
            f"{PROVISIONAL}. Der Stichtag ist noch nicht vorbei (oder die angefragte"
            " Protokollposition noch nicht erreicht): später aufgezeichnete Ereignisse können"
            " die Zahlen noch ändern."
        )
    if head.missing:
        texts.append(
            f"Fehlende Mandanten: {', '.join(head.missing)} – deren Zahlen fehlen. Der"
            " Datenbestand enthält keine Protokolle dieser Mitgliedsstädte (etwa ein"
            " Prüfexport nur des Zuwendungsempfängers); die Statistik zum Sachbericht zählt"
            " sie nicht mit."
        )
    if not head.directory_known:
        texts.append(f"Das Mandantenverzeichnis ist {_no_directory(head)}.")
    for text in texts:
        pdf.set_draw_color(170, 0, 0)
        pdf.set_text_color(170, 0, 0)
        pdf.set_font(FONT, "B", 8.5)
        pdf.multi_cell(0, 4.4, text, border=1, padding=2, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.set_text_color(0)
    pdf.set_draw_color(0)


def to_pdf(
    s: Statement,
    tenant: str | Head,
    position: int | None = None,
    story: Narrative | None = None,
) -> bytes:
    """The statement as the document an auditor files (A4 portrait).

    Head block, rates, the summary of the Baustein, the staff-cost identity, positions,
    contracts, the months, the narrative statistics, confirmation; every figure a mark
    [A n] pointing to "Anlage: Ereignisse" with the full event ids. Nothing in it depends
    on when it is made: the creation date is the as-of day's (see ``Head.creation_date``).
    """
    head = as_head(tenant, position)
    pdf = _new_pdf(s, head)
    marks = Marks(pdf)
    totals = {t.label: t for t in s.totals}

    def total(label: str) -> Cell:
        title = MARK_TITLES.get(label, LABELS.get(label, label))
        return _ref(marks(title, totals[label].events, "total"))

    def amount(label: str) -> str:
        return euro(totals[label].value)

    notice_events = s.granted[0].events if s.granted else []
    notice_mark = marks(f"Bescheid {s.reference}", notice_events, "notice")
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.cell(0, 8, f"{TITLE} {s.year}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=9)
    subtitle = (
        f"Kommunales Integrationsmanagement NRW · Baustein {s.baustein}"
        f" ({BAUSTEINE.get(s.baustein, '')}) · Bescheid {s.reference}"
    )
    pdf.multi_cell(0, 5, subtitle, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _boxes(pdf, head)
    _head_block(pdf, s, head, notice_mark)

    rates: list[list[Cell]] = [
        [
            _type(r.position_type),
            fte(r.fte),
            euro(r.rate),
            day(r.effective_from),
            r.reference,
            _ref(notice_mark),
        ]
        for r in s.rates
    ]
    _keep(pdf, "1. Bewilligte Stellen und Sätze", partial(_table, pdf, RATE_COLUMNS, rates))

    summary: list[list[Cell]] = [["A. Zuwendung", "", ""]]
    for g in s.granted:
        summary.append([f"   {LABELS.get(g.label, g.label)}", euro(g.value), _ref(notice_mark)])
    summary += [
        ["   Bewilligt insgesamt", amount("granted"), total("granted")],
        ["B. Verwendung der Zuwendung", "", ""],
        [
            "   für eigene Stellen (anerkannte Personalkosten, Abschnitt 4)",
            amount("recognised_staff_cost"),
            total("recognised_staff_cost"),
        ],
        [
            "   weitergeleitet an Dritte (Weiterleitungsverträge, Abschnitt 5)",
            amount("forwarded"),
            total("forwarded"),
        ],
        [
            "   Sachkosten (wie bewilligt; Sachausgaben werden nicht erfasst)",
            amount("material_costs"),
            total("material_costs"),
        ],
        ["   Verwendet insgesamt", amount("used"), "Summe B"],
        ["C. Nicht verwendet – zurückzuzahlen (A – B)", amount("unused"), "A – B"],
        ["D. nachrichtlich: weitere Mittel für Personalkosten", "", ""],
        ["   Eigenmittel", amount("own_funds"), total("own_funds")],
        ["   Drittmittel", amount("third_party"), total("third_party")],
    ]
    n = len(s.granted)
    strong = {0, n + 1, n + 2, n + 6, n + 7, n + 8}
    _keep(
        pdf,
        f"2. Zahlenmäßiger Nachweis Baustein {s.baustein} für {s.year}",
        partial(_table, pdf, AMOUNT_COLUMNS, summary, bold=strong, size=8),
    )

    identity: list[list[Cell]] = [
        [
            "",
            "Personalkosten (Ist, eigene und geförderte Stellen)",
            amount("staff_cost"),
            total("staff_cost"),
        ],
        [
            "=",
            "Zuwendung für Personal (eigene Stellen und weitergeleitet)",
            amount("staff_grant_use"),
            "aus B",
        ],
        ["+", "Eigenmittel", amount("own_funds"), total("own_funds")],
        ["+", "Drittmittel", amount("third_party"), total("third_party")],
        [
            "+",
            "ungedeckt (kein Eintrag erklärt die Differenz; negativ, wo eine Pauschale die"
            " Kosten übersteigt)",
            amount("uncovered"),
            "Differenz",
        ],
    ]
    _keep(
        pdf,
        "3. Personalkosten und ihre Deckung",
        partial(_table, pdf, IDENTITY_COLUMNS, identity, bold={0}, size=8),
    )

    _section(pdf, "4. Stellen", room=35)
    if s.positions:
        positions: list[list[Cell]] = []
        for p in s.positions:
            funded = "Bescheid" if p.contract_id is None else head.recipient(p.funded_by)
            vacant = f"\n({p.vacant_months} unbesetzt)" if p.vacant_months else ""
            positions.append(
                [
                    f"{p.title} ({_type(p.position_type)})",
                    fte(p.fte),
                    funded,
                    exact(p.months_filled) + vacant,
                    euro(p.cap),
                    euro(p.actual_cost),
                    "Pauschale¹" if p.grant_use is None else euro(p.grant_use),
                    euro(p.own_funds),
                    euro(p.third_party),
                    _ref(marks(f"Stelle {p.title}", p.events, "position")),
                ]
            )
        _table(pdf, POSITION_COLUMNS, positions, size=7)
        _note(
            pdf,
            "Obergrenze: Satz je VZÄ × besetzte VZÄ × Monatsanteil / 12, summiert über die"
            f" Monate des Jahres ({RULES[s.vacancy_rule]}). Zuwendung: Ist-Kosten, höchstens"
            " die Obergrenze. ¹ Stelle unter einem pauschalen Weiterleitungsvertrag: die"
            " Zuwendung ist die Pauschale des Vertrags (Abschnitt 5).",
        )
    else:
        _note(pdf, "Keine Stellen aus diesem Bescheid im Nachweisjahr.")

    _section(pdf, "5. Weiterleitungsverträge", room=35)
    if s.contracts:
        contracts: list[list[Cell]] = []
        for c in s.contracts:
            recipient = head.recipient(c.recipient)
            contracts.append(
                [
                    recipient,
                    AMOUNT_RULES.get(c.amount_rule, c.amount_rule),
                    fte(c.fte),
                    euro(c.amount_per_year),
                    exact(c.months),
                    euro(c.limit),
                    "–" if c.amount_rule == "flat" else euro(c.positions_use),
                    euro(c.reduction),
                    euro(c.grant_use),
                    _ref(marks(f"Weiterleitung an {recipient}", c.events, "contract")),
                ]
            )
        _table(pdf, CONTRACT_COLUMNS, contracts, size=7)
        _note(
            pdf,
            "Grenze: Betrag p. a. × Monate / 12. Pauschale: weitergeleitet wird die Grenze,"
            " was immer die Kosten sind. Ist-Kosten bis Höchstbetrag: die Summe der Zuwendung"
            " der Stellen des Vertrags, gekürzt auf die Grenze.",
        )
    else:
        _note(pdf, "Keine Weiterleitungsverträge aus diesem Bescheid im Nachweisjahr.")

    columns, lines = _months(s, marks)
    _keep(
        pdf, f"6. Stellen je Monat {s.year} (VZÄ)", partial(_table, pdf, columns, lines, size=6.5)
    )

    if story is not None:
        figures: list[list[Cell]] = [
            [story_label(key), str(f.count), _ref(marks(story_label(key), f.events, "story"))]
            for key, f in sorted(story.figures.items())
        ]
        _keep(pdf, "7. Statistik zum Sachbericht", partial(_story, pdf, s, head, story, figures))

    _keep(pdf, "Bestätigung", partial(_confirmation, pdf))
    _appendix(pdf, marks, head)
    return bytes(pdf.output())


def _months(s: Statement, marks: Marks) -> tuple[list[Column], list[list[Cell]]]:
    """The months in one table of twelve columns; a mark per month."""
    names = MONTHS[: len(s.months)]
    lines: list[list[Cell]] = [
        ["bewilligt", *(exact(m.granted_fte) for m in s.months)],
        ["weitergeleitet", *(exact(m.forwarded_fte) for m in s.months)],
        ["besetzt", *(exact(m.filled_fte) for m in s.months)],
    ]
    beleg: list[Cell] = ["Beleg"]
    used_in: dict[str, list[str]] = {}
    for name, m in zip(names, s.months, strict=True):
        mark = marks("Besetzungen", m.events, "month")
        beleg.append(_ref(mark) if mark else "")
        if mark is not None:
            used_in.setdefault(mark.mark, []).append(name)
    for entry in marks.entries:
        if entry.mark in used_in:
            found = used_in[entry.mark]
            span = found[0] if len(found) == 1 else f"{found[0]}–{found[-1]}"
            entry.title = f"Besetzungen der Stellen, {span} {s.year} (Abschnitt 6)"
    columns = [("", 22.0, "LEFT"), *((name, 13.0, "RIGHT") for name in names)]
    return columns, [*lines, beleg]


def _story(
    pdf: FPDF, s: Statement, head: Head, story: Narrative, figures: list[list[Cell]]
) -> None:
    _note(
        pdf,
        f"Fälle und Versorgungslücken {s.year} von: {', '.join(story.tenants)}."
        " Pseudonyme Zählungen aus den Protokollen der Mandanten.",
    )
    if head.missing:
        _note(pdf, f"Fehlende Mandanten: {', '.join(head.missing)} – deren Zahlen fehlen.")
    if figures:
        _table(pdf, STORY_COLUMNS, figures, size=8)
    else:
        _note(pdf, "Im Nachweisjahr keine Fälle und keine Versorgungslücken erfasst.")


def _confirmation(pdf: FPDF) -> None:
    pdf.set_font(FONT, size=8)
    pdf.multi_cell(
        0,
        4,
        "Es wird bestätigt, dass die allgemeinen und besonderen Nebenbestimmungen des"
        " Zuwendungsbescheides beachtet wurden, die Ausgaben notwendig waren, wirtschaftlich"
        " und sparsam verfahren worden ist und die Angaben mit den Büchern und gegebenenfalls"
        " den Belegen übereinstimmen. Jeder Wert dieses Nachweises nennt mit seiner Marke"
        " [A n] die Ereignisse, auf denen er beruht (Anlage); die Hash-Ketten der Protokolle"
        " sind mit 'kim audit verify' prüfbar.",
        align="L",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(12)
    y = pdf.get_y()
    half = (pdf.epw - 10) / 2
    pdf.set_draw_color(0)
    pdf.line(pdf.l_margin, y, pdf.l_margin + half, y)
    pdf.line(pdf.l_margin + half + 10, y, pdf.w - pdf.r_margin, y)
    pdf.set_font(FONT, size=7)
    pdf.cell(half + 10, 4, "Ort, Datum")
    pdf.cell(
        half, 4, "Rechtsverbindliche Unterschrift, Name, Funktion", new_x="LMARGIN", new_y="NEXT"
    )


def _appendix(pdf: FPDF, marks: Marks, head: Head) -> None:
    marks.resolve()
    pdf.add_page()
    pdf.set_font(FONT, "B", 12)
    pdf.cell(0, 7, "Anlage: Ereignisse", new_x="LMARGIN", new_y="NEXT")
    _note(
        pdf,
        "Jede Marke [A n] im Nachweis verweist hierher: die vollständigen IDs der Ereignisse,"
        " auf denen der Wert beruht, in der Reihenfolge des Protokolls. Eine Marke, deren"
        " Ereignisse die anderer Marken einschließen, nennt diese und listet nur die übrigen.",
        size=7.5,
    )
    pdf.ln(2)
    for entry in marks.entries:
        if pdf.get_y() + 12 > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_link(entry.link, y=pdf.get_y(), page=pdf.page_no())
        pdf.set_font(FONT, "B", 8)
        count = len(entry.events)
        pdf.multi_cell(
            0,
            4.2,
            f"[{entry.mark}]  {entry.title} – {count} Ereignis{'se' if count > 1 else ''}",
            align="L",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        if entry.parts:
            pdf.set_font(FONT, size=7.5)
            named = ", ".join(f"[{p}]" for p in entry.parts)
            pdf.set_x(pdf.l_margin + 4)
            pdf.multi_cell(
                0,
                3.8,
                f"Die Ereignisse von {named}" + (" sowie:" if entry.rest else "."),
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        for event_id in entry.rest:
            if pdf.get_y() + 3.6 > pdf.page_break_trigger:
                pdf.add_page()
            pdf.set_x(pdf.l_margin + 4)
            pdf.set_font(MONO, size=7.5)
            pdf.cell(60, 3.6, event_id)
            pdf.set_font(FONT, size=7)
            pdf.multi_cell(
                0,
                3.6,
                head.descriptions.get(event_id, ""),
                align="L",
                new_x="LMARGIN",
                new_y="NEXT",
            )
        pdf.ln(1.2)
