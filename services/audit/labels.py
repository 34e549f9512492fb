"""German labels and texts of the Verwendungsnachweis, and German notation of figures.

What the Bezirksregierung reads: the names of the figures, rules, position types,
Bausteine and narrative figures, what the appendix says about an event, and amounts, FTE,
months and days as written in German.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from contexts.coordination.statement import VacancyRule
from services.audit.narrative import label_of

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
CONTEXTS = {
    "coordination": "Koordinierung",
    "case_management": "Case Management",
    "immigration_office": "Ausländer- und Einbürgerungsbehörde",
    "steering": "Lenkungsgruppe",
    "tenancy": "Mandantenverwaltung",
    "audit": "Prüfprotokoll",
}
"""The logs of a tenant by their context, as an auditor reads them."""
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


def describe(event: object) -> str:
    """What the appendix says about an event next to its id."""
    kind = type(event).__qualname__
    template = EVENT_TEXTS.get(kind)
    return kind if template is None else template.format_map(_Fields(event))


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


def type_label(position_type: str) -> str:
    return TYPES.get(position_type, position_type)


CHAIN_REASONS = [  # the English reasons of runtime/eventstore/chain.py and runtime/audit.py
    (r"position (\d+) is missing \(found (\d+)\)", r"Position \1 fehlt (gefunden: \2)"),
    (r"position (\d+) is duplicated \(found (\d+)\)", r"Position \1 ist doppelt (gefunden: \2)"),
    (
        r"the event carries no hash \(not sealed\)",
        "das Ereignis trägt keinen Hash (nicht versiegelt)",
    ),
    (
        r"content or order does not match the chain",
        "Inhalt oder Reihenfolge passen nicht zur Hash-Kette",
    ),
    (
        r"events up to (\d+) were recorded, the log ends at (\d+)",
        r"Ereignisse bis Position \1 waren verzeichnet, das Protokoll endet bei \2",
    ),
    (r"the head's hash does not match the chain", "der Hash der Kopfzeile passt nicht zur Kette"),
    (
        r"the head row says (\d+), the log goes on to (\d+)",
        r"die Kopfzeile steht bei \1, das Protokoll geht bis \2 weiter",
    ),
    (
        r"the event does not match its checkpoint \(the log was changed at or before it\)",
        "das Ereignis passt nicht zum Prüfpunkt des Datenbestands (das Protokoll wurde an oder"
        " vor dieser Stelle geändert)",
    ),
    (
        r"the event does not match the auditor's signed checkpoint \(the log was changed at or"
        r" before it\)",
        "das Ereignis passt nicht zum signierten Prüfpunkt des Prüfers (das Protokoll wurde an"
        " oder vor dieser Stelle geändert)",
    ),
]


def chain_reason(reason: str) -> str:
    """A verification finding's reason in German (the English one if it is not known)."""
    for pattern, german in CHAIN_REASONS:
        if re.fullmatch(pattern, reason):
            return re.sub(pattern, german, reason)
    return reason
