"""The sections of the yearly report, in reading order, and what they share.

Each section is a function of the report (year, reference day, tenants) and the replayed
logs; it returns its tables of rows, every row with the events behind its figures.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from services.audit.pdf_layout import Column
from services.audit.yearly import Replayed, Row, Section, YearlyReport
from services.audit.yearly_labels import count


def in_year(value: date | None, year: int) -> bool:
    return value is not None and value.year == year


def iso(value: object) -> date | None:
    """A date from an ISO string (or None)."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def counted(
    key: str, label: str, value: int, events: Iterable[str], title: str | None = None
) -> Row:
    """A row of one count."""
    return Row(key, [label, count(value)], {"count": Decimal(value)}, list(events), title or label)


def counts_columns(heading: str, what: str = "Anzahl") -> list[Column]:
    return [(heading, 130, "LEFT"), (what, 30, "RIGHT")]


def unique(events: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(events))


def sections() -> list[Callable[[YearlyReport, Replayed], Section]]:
    """The sections in reading order (their modules import this one: imported here)."""
    from services.audit.yearly_cases import caseload, cases, positions
    from services.audit.yearly_office import office
    from services.audit.yearly_steering import gaps, steering

    return [positions, cases, caseload, gaps, steering, office]
