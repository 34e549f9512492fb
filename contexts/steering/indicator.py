"""A resolution's indicator taken from case management's figures (issue 18, point 4).

For the Kita example: the referrals made in cases with a need in the life dimension
concerned (to the service concerned, if named), counted in a period before and a period
after the resolution. The edge (``services/steering/figures.py``) counts them from the case
management log of the topic's tenant, once, at evaluation time; this module holds the rules
of the periods and writes what the evaluation event records: the indicator's name, before
and after as counts, and a source naming the figure, the periods, the log position read and
the ids of the events behind each number. Codes, dates, counts and event ids only: never a
case, a person or free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contexts.shared.errors import DomainError

FIELD = "evaluation.figure"


@dataclass(frozen=True)
class Period:
    first: date
    last: date

    def text(self) -> str:
        return f"{self.first:%d.%m.%Y}–{self.last:%d.%m.%Y}"


def check_periods(before: Period, after: Period, on: date, today: date) -> None:
    """Each period runs forward and has ended by the evaluation day (and by today); the
    period after begins after the period before ends."""
    end = min(on, today)
    for name, period in (("before", before), ("after", after)):
        if period.first > period.last:
            raise DomainError(
                "period-inverted", f"the period {name} ends before it begins",
                field=f"{FIELD}.{name}.to",
            )  # fmt: skip
        if period.last > end:
            raise DomainError(
                "period-in-future",
                f"the period {name} ends after {end.isoformat()}: an indicator counts what"
                " has happened by the evaluation day",
                field=f"{FIELD}.{name}.to",
            )
    if after.first <= before.last:
        raise DomainError(
            "periods-overlap", "the period after begins once the period before has ended",
            field=f"{FIELD}.after.from",
        )  # fmt: skip


@dataclass(frozen=True)
class Counted:
    """One number of the indicator: what was counted in a period, with its events."""

    period: Period
    count: int
    events: tuple[str, ...]

    def text(self, name: str) -> str:
        ids = ", ".join(self.events) if self.events else "keine"
        return f"{name} {self.period.text()}: {self.count} (Ereignisse: {ids})"


@dataclass(frozen=True)
class CaseFigure:
    """The indicator as counted from a case management log (``name``, ``counted``: German)."""

    tenant: str
    name: str  # e.g. "Verweisungen im Lebensbereich Bildung an Jugendamt (SGB VIII)"
    counted: str  # what one count is, e.g. "Verweisungen (vorgeschlagen) in Fällen mit ..."
    position: int  # the last position of the log read
    before: Counted
    after: Counted

    def check(self, on: date, today: date) -> None:
        check_periods(self.before.period, self.after.period, on, today)

    def source(self) -> str:
        return (
            f"Kennzahl aus dem Case Management {self.tenant} (Protokoll bis Position"
            f" {self.position}): {self.counted}. {self.before.text('Vorher')}."
            f" {self.after.text('Nachher')}."
        )
