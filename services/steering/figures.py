"""The indicator of a resolution's evaluation, counted from case management's events.

The figure (``contexts/steering/indicator.py``): the referrals proposed within a period in
cases whose assessment in force that day (the last ``Assessed`` on or before the referral)
states a need in the life dimension, to the service if one is given. Counted by the yearly
report's own code (``services.audit.yearly_cases.referrals_between``) from one fold of one
case management log (the topic's tenant, else the group's), read once at evaluation time,
never for a reader: the cost of the yearly report for one tenant, which grows with the
tenant's history (contexts/steering/README.md, "The indicator", says what would make it flat).

Events behind each number: per referral its proposal (and answer, completion), and the
assessment that put the case in the life dimension. Ids only, no case or person id.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import LIFE_DIMENSIONS, Case, Service
from contexts.shared.errors import DomainError
from contexts.steering.indicator import FIELD, CaseFigure, Counted, Period, check_periods
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault
from services.audit.labels import DIMENSIONS, SERVICES
from services.audit.yearly_cases import referrals_between
from services.audit.yearly_sections import iso, unique
from services.steering import models

Counter = Callable[[str], CaseFigure]


def _period(body: models.Period) -> Period:
    return Period(body.first, body.to)


def counter(store: EventLogStore, body: models.CaseFigure, on: date) -> Counter:
    """The count, for the application to call with the tenant whose case management log
    holds the figure once the resolution is implemented: it checks the codes and periods
    (422, nothing read) before it reads the log."""
    before, after = _period(body.before), _period(body.after)

    def count(tenant: str) -> CaseFigure:
        check(body, before, after, on)
        vault = StoreVault(store)
        history = fold(store, CaseManagementApplication(tenant, store.recorder, vault))
        return figure(history, tenant, body.life_dimension, body.service, before, after)

    return count


def check(body: models.CaseFigure, before: Period, after: Period, on: date) -> None:
    if body.life_dimension not in LIFE_DIMENSIONS:
        raise DomainError(
            "unknown-life-dimension", f"no life dimension {body.life_dimension}",
            field=f"{FIELD}.life_dimension", allowed=list(LIFE_DIMENSIONS),
        )  # fmt: skip
    services = [s.value for s in Service]
    if body.service is not None and body.service not in services:
        raise DomainError("unknown-service", f"no referral service {body.service}",
                          field=f"{FIELD}.service", allowed=services)  # fmt: skip
    check_periods(before, after, on, date.today())


def figure(
    history: History, tenant: str, life_dimension: str, service: str | None,
    before: Period, after: Period,
) -> CaseFigure:  # fmt: skip
    dimension = DIMENSIONS.get(life_dimension, life_dimension)
    to = f" an {SERVICES.get(service, service)}" if service else ""
    return CaseFigure(
        tenant=tenant,
        name=f"Verweisungen im Lebensbereich {dimension}{to}",
        counted=f"Verweisungen (vorgeschlagen){to} in Fällen mit einem Bedarf im Lebensbereich"
        f" {dimension} ({life_dimension}) nach der am Tag der Verweisung geltenden"
        " Bestandsaufnahme",
        position=history.position,
        before=_counted(history, life_dimension, service, before),
        after=_counted(history, life_dimension, service, after),
    )


def _counted(history: History, dimension: str, service: str | None, period: Period) -> Counted:
    n, events = 0, []
    for case in history.of_type(Case):
        assessed = _assessments(history, case)
        for found, _, on, referral in referrals_between(history, case, period.first, period.last):
            if service is not None and found != service:
                continue
            need = _in_force(assessed, on)
            if need is None or dimension not in need[1]:
                continue
            n += 1
            events += [need[0], *referral]
    return Counted(period, n, tuple(unique(events)))


def _assessments(history: History, case: Case) -> list[tuple[date, str, dict[str, Any]]]:
    found = []
    for event_id, event in history.evidence.get(case.id, ()):
        on = iso(getattr(event, "on", None))
        if type(event).__name__ == "Assessed" and on is not None:
            found.append((on, event_id, dict(getattr(event, "needs", {}))))
    return found


def _in_force(
    assessed: list[tuple[date, str, dict[str, Any]]], on: date
) -> tuple[str, dict[str, Any]] | None:
    """The event id and needs of the last assessment on or before ``on``."""
    found = None
    for day, event_id, needs in assessed:
        if day <= on:
            found = (event_id, needs)
    return found
