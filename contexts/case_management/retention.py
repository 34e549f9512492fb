"""Retention periods per data type, counted from the closure of a person's last case (for a
person who never had a case: from their registration).

Written down as a deletion concept in the style of DIN 66398 in
``docs/deletion-concept.md``; the periods are configurable per tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class DataType(StrEnum):
    PERSONAL_DATA = "personal_data"  # Stammdaten: name, birth date, contact, languages, status
    CONSENTS = "consents"  # Einwilligungen (proof that processing was lawful)
    CASE_FACTS = "case_facts"  # states, dates, life dimensions, referrals: no personal data


@dataclass(frozen=True)
class RetentionPolicy:
    """Years after the closure of the last case; None keeps the data type (it is anonymous)."""

    years: dict[DataType, int | None] = field(
        default_factory=lambda: {
            DataType.PERSONAL_DATA: 3,
            DataType.CONSENTS: 3,
            DataType.CASE_FACTS: None,  # needed for the Verwendungsnachweis; not personal
        }
    )

    def due_on(self, data_type: DataType, last_closure: date) -> date | None:
        years = self.years.get(data_type)
        if years is None:
            return None
        try:
            return last_closure.replace(year=last_closure.year + years)
        except ValueError:  # 29 February
            return last_closure.replace(year=last_closure.year + years, day=28)

    def personal_data_due(self, last_closure: date | None, today: date) -> bool:
        """Whether the period has passed since ``last_closure`` (the closure of the last
        case, or the registration of a person without a case; None: a case is open)."""
        if last_closure is None:
            return False  # an open case keeps its data
        due = self.due_on(DataType.PERSONAL_DATA, last_closure)
        return due is not None and due <= today
