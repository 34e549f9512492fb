"""Statistics for the narrative report (Sachbericht) of a year, by replay, with event ids.

Cases of the tenant and the towns below it (case management is done where people live):
opened and closed in the year (closures by reason), life dimensions assessed, referrals by
service and outcome; system gaps recorded in the year and topics by step of the strategic
cycle with their service chains (the tenant's coordination). Pseudonymous counts only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import GapTopic, SystemGap
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault


@dataclass
class Figure:
    label: str
    count: int = 0
    events: list[str] = field(default_factory=list)

    def add(self, *event_ids: str) -> None:
        self.count += 1
        self.events.extend(event_ids)


@dataclass
class Narrative:
    year: int
    tenants: list[str]
    figures: dict[str, Figure] = field(default_factory=dict)

    def figure(self, label: str) -> Figure:
        return self.figures.setdefault(label, Figure(label))

    def counts(self) -> dict[str, int]:
        return {label: f.count for label, f in sorted(self.figures.items())}


def event_ids(history: History, aggregate_id: Any, *kinds: str) -> list[str]:
    """Ids of the aggregate's events whose class name is one of ``kinds`` (or all), in order."""
    return [
        e
        for e, ev in history.evidence.get(aggregate_id, ())
        if not kinds or type(ev).__name__ in kinds
    ]


def narrative(
    store: EventLogStore,
    tenants: list[str],
    coordination_tenant: str,
    year: int,
    *,
    until: datetime | None = None,
) -> Narrative:
    out = Narrative(year, tenants)
    vault = StoreVault(store)
    for tenant in tenants:
        history = fold(store, CaseManagementApplication(tenant, store.recorder, vault), until=until)
        count_cases(out, history)
    history = fold(store, CoordinationApplication(coordination_tenant, store.recorder), until=until)
    count_gaps(out, history)
    return out


def count_cases(out: Narrative, history: History) -> None:
    """Cases of one case-management log: opened, closed, assessed, referred in the year."""
    year = out.year
    in_year = (date(year, 1, 1), date(year, 12, 31))
    for case in history.of_type(Case):
        if in_year[0] <= case.opened_on <= in_year[1]:
            out.figure("cases:opened").add(*event_ids(history, case.id, "Opened"))
        if case.closure and in_year[0] <= case.closure[1] <= in_year[1]:
            ids = event_ids(history, case.id, "Closed") + event_ids(history, case.id, "HandedOver")
            out.figure(f"cases:closed:{case.closure[0]}").add(*ids)
        for step, on in case.history:
            if step == "assessment" and in_year[0] <= on <= in_year[1]:
                for dimension in sorted(case.needs):
                    out.figure(f"life_dimension:{dimension}").add(
                        *event_ids(history, case.id, "Assessed")
                    )
                break
        proposed = event_ids(history, case.id, "ReferralProposed")
        for index, referral in enumerate(case.referrals):
            on = date.fromisoformat(str(referral["proposed_on"]))
            if in_year[0] <= on <= in_year[1]:
                key = f"referral:{referral['service']}:{referral['status']}"
                out.figure(key).add(*proposed[index : index + 1])


def count_gaps(out: Narrative, history: History) -> None:
    """Gaps of one coordination log recorded in the year, its topics and service chains."""
    in_year = (date(out.year, 1, 1), date(out.year, 12, 31))
    for gap in history.of_type(SystemGap):
        if in_year[0] <= gap.reported_on <= in_year[1]:
            out.figure(f"gap:{gap.life_dimension}").add(*event_ids(history, gap.id, "Recorded"))
    for topic in history.of_type(GapTopic):
        ids = [e for e, _ in history.evidence[topic.id]]
        out.figure(f"topic:{topic.step}").add(*ids)
        if topic.chain:
            links = out.figure("service_chain:links")
            links.count += len(topic.chain)
            links.events.extend(ids)


LABELS = {
    "cases:opened": "Fälle eröffnet",
    "cases:closed": "Fälle abgeschlossen",
    "life_dimension": "Bedarf in Lebensdimension",
    "referral": "Verweisung",
    "gap": "Versorgungslücke",
    "topic": "Thema im Steuerungskreislauf, Schritt",
    "service_chain:links": "Glieder von Dienstleistungsketten",
}


def label_of(key: str) -> str:
    if key in LABELS:
        return LABELS[key]
    head, _, rest = key.partition(":")
    if key.startswith("cases:closed:"):
        return f"{LABELS['cases:closed']} ({key.split(':', 2)[2]})"
    return f"{LABELS.get(head, head)}: {rest}"
