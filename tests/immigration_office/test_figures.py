"""The office's figures: by type, state and month, processing times (median, p90), the
backlog by age, per position; for a tenant, a district over its towns and the programme;
through GraphQL with ``atPosition``, access checked before any wait."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient

from projections.immigration_office import office_figures, percentile, procedure_contribution
from runtime.platform import Platform
from tests.gateway.test_gateway import data_of, query
from tests.immigration_office.support import api_checks, api_person, api_procedure, stepper
from tests.support import Auth


def _doc(
    applied: str | None, decided: str | None, outcome: str | None, state: str
) -> dict[str, Any]:
    return {"kind": "naturalisation", "legal_basis": "stag_10", "state": state,
            "opened_on": "2025-01-05", "applied_on": applied, "decided_on": decided,
            "outcome": outcome, "position_id": "p-1"}  # fmt: skip


def test_processing_times_backlog_and_months_from_the_summary() -> None:
    docs = [
        _doc("2025-01-10", "2025-02-09", "granted", "granted"),  # 30 days
        _doc("2025-01-10", "2025-03-11", "granted", "certificate_handed_over"),  # 60
        _doc("2025-01-10", "2025-07-29", "refused", "refused"),  # 200
        _doc("2026-10-15", None, None, "checks"),  # open, 1 month old on 2026-12-01
        _doc("2025-06-01", None, None, "documents_requested"),  # open, 18 months old
        _doc(None, None, None, "counselling"),  # no application: no backlog
    ]
    summary: Counter[str] = Counter()
    for d in docs:
        summary.update(procedure_contribution("Procedure", d))
    f = office_figures([dict(summary)], date(2026, 12, 1))
    (times,) = f.processing
    assert (times.kind, times.decided, times.median_days, times.p90_days) == (
        "naturalisation",
        3,
        60,
        200,
    )
    assert f.backlog == [("naturalisation", "0-3", 1), ("naturalisation", "12+", 1)]
    assert f.procedures == [("naturalisation", 6)]
    months = {(m.what, m.month): m.count for m in f.per_month}
    assert months[("opened", "2025-01")] == 6
    assert months[("applied", "2025-01")] == 3
    assert months[("granted", "2025-02")] == 1
    assert months[("refused", "2025-07")] == 1
    assert ("naturalisation", "stag_10", "checks", 1) in f.by_state
    assert f.per_position == [("p-1", "naturalisation", 6)]
    assert ("p-1", "naturalisation", "checks", 1) in f.per_position_state
    assert ("p-1", "naturalisation", "granted", 1) in f.per_position_state
    assert f.per_position_decided == [
        ("p-1", "naturalisation", "granted", "2025-02", 1),
        ("p-1", "naturalisation", "granted", "2025-03", 1),
        ("p-1", "naturalisation", "refused", "2025-07", 1),
    ]


def test_percentiles_take_the_nearest_rank() -> None:
    assert percentile({5: 1}, 0.5) == 5
    assert percentile({1: 5, 9: 5}, 0.5) == 1
    assert percentile({1: 5, 9: 5}, 0.9) == 9
    with pytest.raises(ValueError, match="empty"):
        percentile({}, 0.5)


FIELDS = "tenants procedures { kind count } processingTimes { kind decided medianDays p90Days }"


def _figures(client: TestClient, headers: dict[str, str], tenant: str, members: bool,
             at: str | None = None) -> dict[str, Any]:  # fmt: skip
    position = f", atPosition: {at}" if at else ""
    text = (
        f'{{ officeFigures(tenant: "{tenant}", includeMembers: {str(members).lower()}'
        f"{position}) {{ {FIELDS} }} }}"
    )
    figures: dict[str, Any] = data_of(query(client, text, headers))["officeFigures"]
    return figures


def _count(figures: dict[str, Any], kind: str) -> int:
    return sum(p["count"] for p in figures["procedures"] if p["kind"] == kind)


def test_a_grant_shows_in_the_towns_the_districts_and_the_programmes_figures(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    district = auth("kreis-steinfurt", "district_coordinator")
    state = auth("nrw", "steering_member")
    demo = str(platform.store.head("rheine", "immigration_office"))
    assert _count(_figures(client, officer, "rheine", False, demo), "naturalisation") == 2
    before = _figures(client, district, "kreis-steinfurt", True)
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    step = stepper(client, officer, "rheine", pid)
    for s, on in (("receive_application", "2025-02-01"), ("complete_documents", "2025-02-02"),
                  ("start_checks", "2025-02-03")):  # fmt: skip
        assert step(s, on).status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-02-04")
    granted = step("grant", "2025-03-03")
    assert granted.status_code == 200, granted.text
    at = granted.headers["KIM-Position"]

    town = _figures(client, officer, "rheine", False, at)
    assert town["tenants"] == ["rheine"]
    decided = {t["kind"]: t["decided"] for t in town["processingTimes"]}
    assert decided["naturalisation"] >= 1
    after = _figures(client, district, "kreis-steinfurt", True)
    assert after["tenants"] == ["kreis-steinfurt", "emsdetten", "rheine"]
    assert _count(after, "naturalisation") == _count(before, "naturalisation") + 1
    programme = _figures(client, state, "nrw", True)
    assert _count(programme, "naturalisation") == _count(after, "naturalisation")


POSITION_FIELDS = (
    "perPosition { positionId kind count } perPositionState { positionId kind state count }"
    " perPositionDecided { positionId kind outcome month count }"
)


def test_a_positions_procedures_by_state_and_its_decisions_by_month(
    client: TestClient, auth: Auth
) -> None:
    """Per Baustein 3 position (the officer's position claim): by kind and state, and its
    decisions by outcome and month, for the town and summed for its district."""
    position = uuid4()
    officer = auth("rheine", "immigration_officer", position=position)
    who = api_person(client, officer)
    pid = api_procedure(client, officer, who, "stag_10", opened_on="2025-01-10")
    step = stepper(client, officer, "rheine", pid)
    for s, on in (("receive_application", "2025-02-01"), ("complete_documents", "2025-02-02"),
                  ("start_checks", "2025-02-03")):  # fmt: skip
        assert step(s, on).status_code == 200
    api_checks(client, officer, "rheine", pid, "2025-02-04")
    other = api_procedure(client, officer, who, "stag_10", opened_on="2025-03-01")
    granted = step("grant", "2025-03-03")
    assert granted.status_code == 200, granted.text
    at = granted.headers["KIM-Position"]

    def figures(headers: dict[str, str], tenant: str, members: bool) -> dict[str, Any]:
        wait = f", atPosition: {at}" if tenant == "rheine" else ""  # a position of Rheine's log
        text = (
            f'{{ officeFigures(tenant: "{tenant}", includeMembers: {str(members).lower()}'
            f"{wait}) {{ {POSITION_FIELDS} }} }}"
        )
        found: dict[str, Any] = data_of(query(client, text, headers))["officeFigures"]
        return found

    district = auth("kreis-steinfurt", "district_coordinator")
    for seen in (figures(officer, "rheine", False), figures(district, "kreis-steinfurt", True)):
        mine = str(position)
        assert {"positionId": mine, "kind": "naturalisation", "count": 2} in seen["perPosition"]
        states = {r["state"]: r["count"] for r in seen["perPositionState"]
                  if r["positionId"] == mine}  # fmt: skip
        assert states == {"granted": 1, "counselling": 1}
        decided = [r for r in seen["perPositionDecided"] if r["positionId"] == mine]
        assert decided == [{"positionId": mine, "kind": "naturalisation", "outcome": "granted",
                            "month": "2025-03", "count": 1}]  # fmt: skip
    assert other


def test_office_figures_check_access_before_any_wait(
    client: TestClient, auth: Auth, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits: list[Any] = []

    async def record(*args: Any, **kwargs: Any) -> None:
        waits.append(args[1:])

    monkeypatch.setattr("gateway.immigration_office.caught_up", record)
    far = 999999
    for headers, tenant in (
        (auth("aachen"), "rheine"),
        (auth("rheine", "case_manager"), "rheine"),
        (auth("aachen", "immigration_officer"), "rheine"),
        (auth("aachen", "coordinator"), "no-such-tenant"),
    ):
        text = f'{{ officeFigures(tenant: "{tenant}", atPosition: {far}) {{ tenants }} }}'
        body = query(client, text, headers).json()
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert str(far) not in body["errors"][0]["message"]
    assert waits == []
    query(client, '{ officeFigures(tenant: "rheine", atPosition: 1) { tenants } }',
          auth("rheine", "immigration_officer"))  # fmt: skip
    assert waits, "the control: a reader's wait is seen"
