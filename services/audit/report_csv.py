"""The Verwendungsnachweis as CSV: one row a figure (section, item, value, event ids)."""

from __future__ import annotations

import csv
import io

from contexts.coordination.statement import Statement
from services.audit.head import Head, as_head, head_notes, stand_text
from services.audit.labels import (
    AMOUNT_RULES,
    BAUSTEINE,
    LABELS,
    RULES,
    TITLE,
    day,
    euro,
    exact,
    fte,
    story_label,
    type_label,
)
from services.audit.narrative import Narrative


def rows(
    s: Statement,
    tenant: str | Head,
    position: int | None = None,
    story: Narrative | None = None,
) -> list[list[str]]:
    """The statement as table rows: section, item, value, event ids."""
    head = as_head(tenant, position)
    return [
        *_head_rows(s, head, story),
        *_amount_rows(s),
        *_position_rows(s, head),
        *_contract_rows(s, head),
        *_month_rows(s),
        *_story_rows(story),
    ]


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


def _head_rows(s: Statement, head: Head, story: Narrative | None) -> list[list[str]]:
    """The heading row, the document, its warnings, who and as of when."""
    out = [
        ["Abschnitt", "Posten", "Wert", "Ereignisse"],
        ["Kopf", "Dokument", f"{TITLE} {s.year}", ""],
    ]
    out += [["Kopf", label, text, ""] for label, text in head_notes(head)]
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
        ["Kopf", "Stichtag", stand_text(head), ""],
        ["Kopf", "Stand (Protokollposition)", str(head.position), ""],
        ["Kopf", "Regel für unbesetzte Monate", RULES[s.vacancy_rule], ""],
    ]
    if story is not None:
        out.append(["Kopf", "Sachbericht umfasst", ", ".join(story.tenants), ""])
    return out


def _amount_rows(s: Statement) -> list[list[str]]:
    """The rates, what was granted and the totals."""
    out = []
    for r in s.rates:
        out.append(
            [
                "Satz",
                f"{type_label(r.position_type)} ab {day(r.effective_from)} ({r.reference})",
                f"{fte(r.fte)} VZÄ × {euro(r.rate)} je VZÄ und Jahr",
                "",
            ]
        )
    for g in s.granted:
        out.append(["Bewilligung", LABELS.get(g.label, g.label), euro(g.value), " ".join(g.events)])
    for t in s.totals:
        out.append(["Summe", LABELS.get(t.label, t.label), euro(t.value), " ".join(t.events)])
    return out


def _position_rows(s: Statement, head: Head) -> list[list[str]]:
    out = []
    for p in s.positions:
        ids = " ".join(p.events)
        funded = "Bescheid" if p.contract_id is None else head.recipient(p.funded_by)
        figures = [
            ("Stellenart", type_label(p.position_type)),
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
    return out


def _contract_rows(s: Statement, head: Head) -> list[list[str]]:
    out = []
    for c in s.contracts:
        ids = " ".join(c.events)
        who = f"an {head.recipient(c.recipient)}"
        figures = [
            ("Stellenart", type_label(c.position_type)),
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
    return out


def _month_rows(s: Statement) -> list[list[str]]:
    out = []
    for m in s.months:
        out += [
            ["Monat", f"{m.month}: bewilligt (VZÄ)", exact(m.granted_fte), ""],
            ["Monat", f"{m.month}: weitergeleitet (VZÄ)", exact(m.forwarded_fte), ""],
            ["Monat", f"{m.month}: besetzt (VZÄ)", exact(m.filled_fte), " ".join(m.events)],
        ]
    return out


def _story_rows(story: Narrative | None) -> list[list[str]]:
    """The narrative statistics: the tenants counted and a row a figure."""
    if story is None:
        return []
    out = [["Sachbericht", "Mandanten", ", ".join(story.tenants), ""]]
    for key, figure in sorted(story.figures.items()):
        out.append(["Sachbericht", story_label(key), str(figure.count), " ".join(figure.events)])
    return out
