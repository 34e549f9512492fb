"""The Verwendungsnachweis of a funding notice and year: computed by replay, as CSV or PDF.

German labels (what the Bezirksregierung reads); every figure carries the ids of the
events behind it, so an auditor can drill down to the history.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.funding import ForwardingContract, FundingNotice
from contexts.coordination.positions import Position
from contexts.coordination.statement import Statement, VacancyRule, statement
from contexts.shared.errors import DomainError
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from services.audit.narrative import Narrative, label_of

LABELS = {
    "granted": "Bewilligt insgesamt",
    "granted:coordination": "Bewilligt: Koordination",
    "granted:assistance": "Bewilligt: Assistenz",
    "granted:case_management": "Bewilligt: Case Management",
    "granted:immigration_office": "Bewilligt: Ausländerbehörde",
    "granted:material_costs": "Bewilligt: Sachkosten",
    "recognised_staff_cost": "Anerkannte Personalkosten (eigene Stellen)",
    "forwarded": "Weitergeleitet (Weiterleitungsverträge)",
    "material_costs": "Sachkosten",
    "used": "Verwendet insgesamt",
    "unused": "Nicht verwendet",
}
RULES = {
    VacancyRule.TWELFTH_PER_VACANT_MONTH: "1/12 weniger je vollem unbesetzten Monat",
    VacancyRule.PRO_RATA_FILLED: "anteilig nach besetzten VZÄ je Monat",
}


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
    found = [n for n in notices if str(n.id) == notice or n.reference == notice]
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


def euro(value: Decimal) -> str:
    """German notation: 1.234,56"""
    text = f"{value:,.2f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def fte(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def rows(
    s: Statement, tenant: str, position: int, story: Narrative | None = None
) -> list[list[str]]:
    """The statement as table rows: section, item, value, event ids."""
    out = [
        ["Abschnitt", "Posten", "Wert", "Ereignisse"],
        ["Kopf", "Mandant", tenant, ""],
        ["Kopf", "Bescheid", f"{s.reference} (Baustein {s.baustein}, {s.grantor})", ""],
        ["Kopf", "Jahr", str(s.year), ""],
        ["Kopf", "Stand (Protokollposition)", str(position), ""],
        ["Kopf", "Regel für unbesetzte Monate", RULES[s.vacancy_rule], ""],
        ["Kopf", "Monate im Bewilligungszeitraum", fte(s.months_in_period), ""],
    ]
    for g in s.granted:
        out.append(["Bewilligung", LABELS.get(g.label, g.label), euro(g.value), " ".join(g.events)])
    for m in s.months:
        out.append(
            [
                "Monat",
                m.month,
                f"bewilligt {fte(m.granted_fte)} VZÄ; weitergeleitet {fte(m.forwarded_fte)} VZÄ;"
                f" besetzt {fte(m.filled_fte)} VZÄ",
                " ".join(m.events),
            ]
        )
    for p in s.positions:
        out.append(
            [
                "Stelle",
                f"{p.title} ({fte(p.fte)} VZÄ, {p.funded_by})",
                f"unbesetzte Monate {p.vacant_months}; förderfähige Monate"
                f" {fte(p.eligible_months)}; Obergrenze {euro(p.cap)}; Ist-Kosten"
                f" {euro(p.actual_cost)}; anerkannt {euro(p.recognised)}",
                " ".join(p.events),
            ]
        )
    for c in s.contracts:
        out.append(
            [
                "Weiterleitung",
                f"an {c.recipient} ({fte(c.fte)} VZÄ {c.position_type})",
                f"Monate {fte(c.months)}; weitergeleitet {euro(c.forwarded)};"
                f" gemeldete Personalkosten {euro(c.reported_cost)}",
                " ".join(c.events),
            ]
        )
    for t in s.totals:
        out.append(["Summe", LABELS.get(t.label, t.label), euro(t.value), " ".join(t.events)])
    if story is not None:
        out.append(["Sachbericht", "Mandanten", ", ".join(story.tenants), ""])
        for key, figure in sorted(story.figures.items()):
            out.append(["Sachbericht", label_of(key), str(figure.count), " ".join(figure.events)])
    return out


def to_csv(s: Statement, tenant: str, position: int, story: Narrative | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerows(rows(s, tenant, position, story))
    return buffer.getvalue()


def to_pdf(s: Statement, tenant: str, position: int, story: Narrative | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(
        0, 8, f"Verwendungsnachweis {s.year}: zahlenmäßiger Nachweis", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", size=8)
    table = rows(s, tenant, position, story)
    widths = (28, 80, 120, 49)
    for row in table:
        ids = row[3].split()
        cells = [row[0], row[1], row[2], f"{len(ids)} Ereignisse: {ids[0][:8]}..." if ids else ""]
        height = 5 * max(1, max(len(c) // 60 + 1 for c in cells[:3]))
        y = pdf.get_y()
        if y + height > pdf.h - 14:
            pdf.add_page()
            y = pdf.get_y()
        x = pdf.l_margin
        for width, text in zip(widths, cells, strict=True):
            pdf.set_xy(x, y)
            pdf.multi_cell(width, 5, text, border=1)
            x += width
        pdf.set_y(y + height)
    pdf.ln(4)
    pdf.multi_cell(
        0, 5,
        "Jeder Wert nennt die Ereignisse, auf denen er beruht; die vollständigen Ereignis-IDs"
        " stehen in der CSV-Fassung. Prüfbar mit 'kim audit verify'.",
    )  # fmt: skip
    return bytes(pdf.output())
