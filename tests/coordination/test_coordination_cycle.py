"""System gaps travel up: from cases and posts into topics, service chains and steering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import SystemGap
from contexts.shared.application import TenantApplication
from runtime.bus import Bus
from runtime.bus.relay import LogRelay
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from services.coordination.consumers import GapIntake

Auth = Callable[..., dict[str, str]]
BASE = "/coordination/tenants/aachen"


def post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any]) -> Any:
    response = client.post(BASE + path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_aachens_kita_story_goes_round_the_cycle_into_the_steering_group(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    h = auth("aachen", "coordinator")
    gap = post(client, h, "/gaps", {
        "life_dimension": "education",
        "description": "Neu zugewanderte Fünfjährige bekommen keinen Kita-Platz",
        "reported_on": "2021-04-12",
    })["events"][0]["aggregate_id"]  # fmt: skip
    topic = post(client, h, "/topics", {
        "title": "Kita-Plätze für neu zugewanderte Fünfjährige", "life_dimension": "education",
    })["events"][0]["aggregate_id"]  # fmt: skip
    post(client, h, f"/topics/{topic}/gaps", {"gap_id": gap})
    post(client, h, f"/topics/{topic}/step", {"step": "analysis", "on": "2021-05-03"})
    post(client, h, f"/topics/{topic}/submit", {
        "on": "2021-05-20", "summary": "Vorrang für neu zugewanderte Fünfjährige empfohlen",
    })  # fmt: skip
    post(client, h, f"/topics/{topic}/step", {"step": "planning_and_steering", "on": "2021-06-01"})
    for actor, action in [
        ("Fachbereich Kinder, Jugend und Schule: Kita", "Vorrang bei der Platzvergabe"),
        ("Schulamt", "Schuleingangsuntersuchung frühzeitig"),
        ("Offene Ganztagsschule", "Anschluss nach der Kita"),
    ]:
        post(client, h, f"/topics/{topic}/chain", {"actor": actor, "action": action})
    post(client, h, f"/topics/{topic}/step", {"step": "implementation", "on": "2021-08-01"})
    post(client, h, f"/topics/{topic}/chain/done", {"index": 0, "on": "2021-08-01"})
    post(client, h, f"/topics/{topic}/step", {"step": "evaluation", "on": "2022-03-01"})

    view = client.get(f"{BASE}/topics/{topic}", headers=h).json()
    assert view["step"] == "evaluation"
    assert view["gaps"] == [gap]
    assert [s["step"] for s in view["history"]] == [
        "analysis", "planning_and_steering", "implementation", "evaluation",
    ]  # fmt: skip
    assert view["chain"][0]["done"] == "2021-08-01"
    assert view["submissions"][0]["summary"].startswith("Vorrang")
    assert client.get(f"{BASE}/gaps/{gap}", headers=h).json()["topic_id"] == topic
    types = [r.event_type for r in platform.store.read_log("aachen", "coordination")]
    assert "GapTopicSubmittedToSteering" in types


def test_a_step_out_of_the_cycles_order_is_refused_and_appends_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    h = auth("aachen", "coordinator")
    topic = post(client, h, "/topics", {"title": "Wohnen", "life_dimension": "housing"})
    topic_id = topic["events"][0]["aggregate_id"]
    before = platform.store.head("aachen", "coordination")
    response = client.post(
        f"{BASE}/topics/{topic_id}/step",
        json={"step": "implementation", "on": "2021-06-01"},
        headers=h,
    )
    assert response.status_code == 422
    body = response.json()
    assert body["rule"] == "cycle-step-not-allowed"
    assert body["facts"] == {"current": "collection", "allowed": "analysis"}
    too_early = client.post(
        f"{BASE}/topics/{topic_id}/submit", json={"on": "2021-06-01", "summary": "x"}, headers=h
    )
    assert too_early.json()["rule"] == "not-analysed"
    assert platform.store.head("aachen", "coordination") == before


def test_implementation_needs_a_service_chain(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    h = auth("aachen", "coordinator")
    topic_id = post(
        client, h, "/topics", {"title": "Arbeit", "life_dimension": "work_and_livelihood"}
    )["events"][0]["aggregate_id"]
    post(client, h, f"/topics/{topic_id}/step", {"step": "analysis", "on": "2021-06-01"})
    post(
        client, h, f"/topics/{topic_id}/step", {"step": "planning_and_steering", "on": "2021-06-02"}
    )
    before = platform.store.head("aachen", "coordination")
    response = client.post(
        f"{BASE}/topics/{topic_id}/step",
        json={"step": "implementation", "on": "2021-07-01"},
        headers=h,
    )
    assert response.status_code == 422
    assert response.json()["rule"] == "no-service-chain"
    assert platform.store.head("aachen", "coordination") == before


def test_texts_of_the_post_that_carry_personal_data_are_refused_and_append_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    h = auth("aachen", "coordinator")
    topic = post(client, h, "/topics", {"title": "Kita-Plätze", "life_dimension": "education"})
    topic_id = topic["events"][0]["aggregate_id"]
    gap = {"life_dimension": "education", "reported_on": "2021-04-12"}
    for path, body, field, kind in [
        ("/gaps", {**gap, "description": "Familie Haddad ohne Kita-Platz"}, "description", "name"),
        ("/gaps", {**gap, "description": "Rückruf 0241 4321234"}, "description", "phone"),
        ("/topics", {"title": "Kita für lina@example.de", "life_dimension": "education"},
         "title", "email"),
        (f"/topics/{topic_id}/step", {"step": "analysis", "on": "2021-05-03",
         "note": "Besuch in der Musterstraße 12"}, "note", "address"),
        (f"/topics/{topic_id}/chain", {"actor": "Frau Dr. Meier", "action": "Kita"}, "actor",
         "name"),
        ("/organisations", {"name": "Träger, Tel. 0241 123456", "kind": "welfare_provider"},
         "name", "phone"),
    ]:  # fmt: skip
        before = platform.store.heads()
        response = client.post(BASE + path, json=body, headers=h)
        assert response.status_code == 422, response.text
        problem = response.json()
        assert problem["rule"] == "personal-data-in-text"
        assert problem["errors"][0]["field"] == field
        assert problem["facts"]["kind"] == kind
        assert platform.store.heads() == before


class Case(Aggregate):
    """Stands in for case management's aggregate: it publishes the contract event only."""

    class Opened(Aggregate.Created):
        pass

    class GapReported(Aggregate.Event):
        life_dimension: str
        description: str
        reported_on: str

    @event(Opened)
    def __init__(self) -> None:
        pass

    @event(GapReported)
    def report_gap(self, life_dimension: str, description: str, reported_on: str) -> None:
        pass


class CaseManagementStandIn(TenantApplication):
    context = "case_management"


async def test_gaps_reported_from_cases_become_system_gaps_once(
    store: EventLogStore, bus: Bus
) -> None:
    cases = CaseManagementStandIn("rheine", store.recorder)
    case = Case()
    case.report_gap("language", "Kein Sprachkurs mit Kinderbetreuung", "2021-10-04")
    cases.save(case)
    intake = GapIntake(
        store, lambda t: CoordinationApplication(t, store.recorder), prefix=bus.prefix
    )
    sub = await bus.subscribe(intake.name, intake.consumer.subject, intake.consumer)
    await LogRelay(store, bus).drain()
    for _ in range(750):
        if intake.positions.get(("rheine", "case_management")) == 2:
            break
        await asyncio.sleep(0.02)
    await sub.stop()
    (recorded,) = store.read_log("rheine", "coordination", topics=[get_topic(SystemGap.Recorded)])
    report = store.read_log("rheine", "case_management")[1]
    assert recorded.causation_id == report.event_id
    gap = CoordinationApplication("rheine", store.recorder).get_gap(recorded.originator_id)
    assert gap.source == "case_management"
    assert gap.description == "Kein Sprachkurs mit Kinderbetreuung"
    # A redelivery, e.g. after a restart that lost the in-memory position, records nothing.
    intake.positions.clear()
    await intake.consumer(report, {})
    assert store.read_log("rheine", "coordination", topics=[get_topic(SystemGap.Recorded)]) == [
        recorded
    ]
