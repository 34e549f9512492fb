"""An NRW-scale history for the read benchmark, built with the domain's own aggregates."""

from __future__ import annotations

import base64
import random
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import (
    Case,
    ClosureReason,
    KnownPosition,
    ReferralSource,
    Service,
)
from contexts.case_management.people import ConsentPurpose, Person
from contexts.tenancy.contracts import TenantKind
from runtime.console import progress_bar
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.records import LogRecord

DIMENSIONS = ["language", "work_and_livelihood", "housing", "health", "education", "family"]
SOURCES = list(ReferralSource)
CLOSURES = [ClosureReason.GOALS_REACHED, ClosureReason.MOVED_AWAY, ClosureReason.NO_CONTACT]
SERVICES = [Service.MBE, Service.JMD, Service.LANGUAGE_COURSE_COUNSELLING, Service.JOB_CENTRE]


# -- the NRW-scale history -----------------------------------------------------------------
@dataclass(frozen=True)
class World:
    districts: list[str]
    case_tenants: list[str]  # member towns and district-free cities: they run cases
    events: int


def tenant_plan(total: int) -> list[tuple[str, str, TenantKind, str | None]]:
    """NRW-like: the programme, 31 districts, 22 district-free cities, towns for the rest."""
    plan: list[tuple[str, str, TenantKind, str | None]] = [
        ("nrw", "Landesprogramm KIM NRW", TenantKind.STATE_PROGRAMME, None)
    ]
    districts = [f"kreis-{i:02d}" for i in range(31)]
    cities = [f"stadt-{i:02d}" for i in range(22)]
    plan += [(d, f"Kreis {d}", TenantKind.DISTRICT, "nrw") for d in districts]
    plan += [(c, f"Stadt {c}", TenantKind.DISTRICT_FREE_CITY, "nrw") for c in cities]
    towns = max(0, total - len(plan))
    plan += [
        (f"{districts[i % 31]}-ort-{i // 31:02d}", "Gemeinde", TenantKind.MEMBER_TOWN,
         districts[i % 31])
        for i in range(towns)
    ]  # fmt: skip
    return plan


def _record(
    tenant: str, context: str, position: int, app: CaseManagementApplication, event: Any
) -> LogRecord:
    stored = app.mapper.to_stored_event(event)
    return LogRecord(
        tenant=tenant,
        context=context,
        position=position,
        event_id=str(uuid.uuid4()),
        originator_id=uuid.UUID(str(stored.originator_id)),
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
        actor="bench",
        correlation_id=str(uuid.uuid4()),
        causation_id=None,
        traceparent=None,
        recorded_at=event.timestamp.isoformat(),
    )


def tenant_history(
    tenant: str,
    cases: int,
    app: CaseManagementApplication,
    rng: random.Random,
    *,
    closed_share: float = 0.4,
    entries: list[tuple[str, str, str]] | None = None,
    cases_per_position: int = 90,
) -> Iterator[LogRecord]:
    """One tenant's case-management log: positions, people and their cases.

    ``entries`` collects the cases' index entries (what ``reindex`` would find), since an
    import writes the log only.
    """
    position = 0

    def emit(*aggregates: Any) -> Iterator[LogRecord]:
        nonlocal position
        for aggregate in aggregates:
            for event in aggregate.collect_events():
                position += 1
                yield _record(tenant, "case_management", position, app, event)

    positions = []
    for _ in range(max(1, cases // cases_per_position)):
        known = KnownPosition(id=uuid.uuid4(), fte="1.00", work_tenant=tenant)
        known.note_supervision(tenant, "2021-01-01")
        positions.append(known.id)
        yield from emit(known)
    start = date(2021, 3, 1)
    for n in range(cases):
        opened = start + timedelta(days=rng.randrange(0, 900))
        sealed = "kimv1:" + base64.b64encode(secrets.token_bytes(48)).decode()
        person = Person(id=uuid.uuid4(), sealed=sealed, registered_by=positions[0])
        person._consent_given(
            ConsentPurpose.CASE_MANAGEMENT.value, tenant, opened.isoformat(),
            (opened + timedelta(days=rng.randrange(200, 1200))).isoformat(),
        )  # fmt: skip
        case = Case(
            person_id=person.id,
            referral_source=rng.choice(SOURCES).value,
            opened_on=opened.isoformat(),
            catch_up_reason=None,
        )
        person.link_case(case.id)
        case.assign(positions[n % len(positions)], opened)
        day = opened + timedelta(days=7)
        case.assess(
            {d: rng.choice(["high", "medium", "low"]) for d in rng.sample(DIMENSIONS, 2)}, day
        )
        goal = "kimv1:" + base64.b64encode(secrets.token_bytes(32)).decode()  # sealed text
        case.agree_goals(dict.fromkeys(case.needs, goal), day + timedelta(days=7))
        case.start_linking(day + timedelta(days=8))
        case.propose_referral(rng.choice(SERVICES), "dienst", day + timedelta(days=9))
        case.answer_referral(0, rng.random() < 0.8, day + timedelta(days=20))
        case.start_monitoring(day + timedelta(days=30))
        if rng.random() < closed_share:
            reason = rng.choice(CLOSURES)
            case.close(reason, day + timedelta(days=200))
        if entries is not None:
            entries += [(i, k, str(case.id)) for i, k in case.index_entries()]
        yield from emit(person, case)


def generate(store: EventLogStore, tenants: int, cases: int, seed: int = 7) -> World:
    from contexts.tenancy.application import TenancyApplication
    from runtime.vault import StoreVault

    rng = random.Random(seed)
    plan = tenant_plan(tenants)
    tenancy = TenancyApplication(store.recorder)
    for key, name, kind, parent in plan:
        tenancy.register_tenant(key, name, kind, parent, None)
    case_tenants = [
        k
        for k, _, kind, _ in plan
        if kind in (TenantKind.MEMBER_TOWN, TenantKind.DISTRICT_FREE_CITY)
    ]
    app = CaseManagementApplication("bench", store.recorder, StoreVault(store))
    per_tenant = [cases // len(case_tenants)] * len(case_tenants)
    for i in range(cases - sum(per_tenant)):
        per_tenant[i] += 1
    events = 0
    with progress_bar() as bar:
        task = bar.add_task("generate + import cases", total=cases)
        for tenant, count in zip(case_tenants, per_tenant, strict=True):
            entries: list[tuple[str, str, str]] = []
            events += store.import_records(tenant_history(tenant, count, app, rng, entries=entries))
            store.replace_index(tenant, "case_management", entries)
            bar.advance(task, count)
    districts = [k for k, _, kind, _ in plan if kind == TenantKind.DISTRICT]
    return World(districts=districts, case_tenants=case_tenants, events=events)
