"""The Verwendungsnachweis rules on histories built through the API, each figure by hand.

Kreis Steinfurt (demo) gets a notice for 2023 whose rate per FTE no table of the platform
knows (60,000 EUR, later 66,000 EUR by amendment), forwards 2.0 case-management FTE to a
provider at "actual cost, at most the flat rate", and the provider fills one position in
full and one part-time after a vacancy. A Baustein 1 notice for 2023 funds an own position
whose employer reports the year's cost as one figure and pays an own share.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.funding_support import CONTRACTS, KS, NOTICES, ORGS, Json, head
from tests.support import Auth, assert_problem

D = Decimal
BASE = f"/coordination/tenants/{KS}"
POSITIONS = f"{BASE}/positions"


@pytest.fixture
def ks(auth: Auth) -> dict[str, str]:
    return auth(KS, "district_coordinator")


@pytest.fixture
def auditor(auth: Auth) -> dict[str, str]:
    return auth(KS, "auditor")


def created(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    return str(response.json()["events"][0]["aggregate_id"])


def ok(response: Any) -> Json:
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


def notice_2023(client: TestClient, ks: dict[str, str], **changes: Any) -> str:
    body: Json = {
        "grantor": "Bezirksregierung Münster",
        "reference": "KIM-B2-2023-TEST",
        "baustein": 2,
        "period_start": "2023-01-01",
        "period_end": "2023-12-31",
        "grants": {"case_management": "2.0"},
        "rates": {"case_management": "60000"},
        "issued_on": "2022-12-15",
    }
    body.update(changes)
    return created(client.post(NOTICES, json=body, headers=ks))


def position(client: TestClient, ks: dict[str, str], **body: Any) -> str:
    return created(client.post(POSITIONS, json=body, headers=ks))


def staff(
    client: TestClient, ks: dict[str, str], pid: str, staff_id: str, fte: str, start: str
) -> None:
    body = {"staff_id": staff_id, "fte": fte, "start": start}
    ok(client.post(f"{POSITIONS}/{pid}/staffing", json=body, headers=ks))


def cost(client: TestClient, ks: dict[str, str], pid: str, month: str, amount: str) -> None:
    body = {"month": month, "amount": amount}
    ok(client.post(f"{POSITIONS}/{pid}/costs", json=body, headers=ks))


def statement(client: TestClient, auditor: dict[str, str], ref: str, **params: Any) -> Json:
    query = {"year": 2023, **params}
    return ok(client.get(f"/audit/tenants/{KS}/statements/{ref}", params=query, headers=auditor))


def totals(s: Json) -> dict[str, Decimal]:
    return {t["label"]: D(str(t["value"])) for t in s["totals"]}


def by_title(s: Json) -> dict[str, Json]:
    return {p["title"]: p for p in s["positions"]}


def capped_world(client: TestClient, ks: dict[str, str]) -> dict[str, str]:
    """The B2 notice of 2023, a capped contract to a provider, two positions under it."""
    notice = notice_2023(client, ks)
    provider = created(
        client.post(ORGS, json={"name": "Caritas Rheine", "kind": "welfare_provider"}, headers=ks)
    )
    concluded = client.post(
        CONTRACTS,
        json={
            "notice_id": notice, "recipient_kind": "provider", "recipient": provider,
            "position_type": "case_management", "fte": "2.0",
            "amount_rule": "actual_cost_capped", "amount_per_year": "120000",
            "start": "2023-01-01", "end": "2023-12-31",
        },
        headers=ks,
    )  # fmt: skip
    assert concluded.status_code == 201, concluded.text
    contract = contract_id_of(client, ks, notice)
    common = {
        "position_type": "case_management", "fte": "1.0", "employer_kind": "provider",
        "employer": provider, "funding_kind": "contract", "funding_id": contract,
        "work_tenant": KS,
    }  # fmt: skip
    full = position(client, ks, title="CM Caritas 1", **common)
    part = position(client, ks, title="CM Caritas 2", **common)
    staff(client, ks, full, "CA-01", "1.0", "2023-01-01")
    for month in range(1, 13):
        cost(client, ks, full, f"2023-{month:02d}", "5500.00")  # 66,000: above its cap
    staff(client, ks, part, "CA-02", "0.5", "2023-04-01")  # January to March vacant
    for month in range(4, 13):
        cost(client, ks, part, f"2023-{month:02d}", "2000.00")  # 18,000: below its cap
    return {"notice": notice, "provider": provider, "full": full, "part": part}


def contract_id_of(client: TestClient, ks: dict[str, str], notice: str) -> str:
    (reservation,) = ok(client.get(f"{NOTICES}/{notice}", headers=ks))["forwarding"]
    return str(reservation["contract_id"])


def test_a_notice_states_its_rate_or_is_refused(
    client: TestClient, platform: Platform, ks: dict[str, str]
) -> None:
    before = head(platform)
    body = {
        "grantor": "Bezirksregierung Münster", "reference": "KIM-B1-2023-X", "baustein": 1,
        "period_start": "2023-01-01", "period_end": "2023-12-31", "issued_on": "2022-12-01",
        "grants": {"coordination": "2.0", "assistance": "0.5"},
    }  # fmt: skip
    missing = client.post(NOTICES, json=body, headers=ks)
    assert missing.status_code == 422
    assert "rates" in {e["field"] for e in missing.json()["errors"]}
    partly = client.post(NOTICES, json={**body, "rates": {"coordination": "58000"}}, headers=ks)
    problem = assert_problem(partly, 422, "rate-missing")
    assert {e["field"] for e in problem["errors"]} == {"rates.assistance"}
    assert head(platform) == before


def test_caps_are_per_position_so_an_overspend_is_not_absorbed_by_an_underspend(
    client: TestClient, ks: dict[str, str], auditor: dict[str, str]
) -> None:
    capped_world(client, ks)
    s = statement(client, auditor, "KIM-B2-2023-TEST")
    lines = by_title(s)
    full, part = lines["CM Caritas 1"], lines["CM Caritas 2"]
    # Full position: 60,000 x 1.0 x 12/12 = 60,000; cost 12 x 5,500 = 66,000.
    assert (D(full["cap"]), D(full["actual_cost"]), D(full["grant_use"])) == (
        D("60000.00"), D("66000.00"), D("60000.00"),
    )  # fmt: skip
    # Part-time: 60,000 x 0.5 x 9/12 = 22,500 (three months vacant); cost 9 x 2,000.
    assert part["vacant_months"] == 3
    assert (D(part["cap"]), D(part["actual_cost"]), D(part["grant_use"])) == (
        D("22500.00"), D("18000.00"), D("18000.00"),
    )  # fmt: skip
    (contract,) = s["contracts"]
    # 60,000 + 18,000, not min(120,000, 66,000 + 18,000) = 84,000 as a cap on the sum.
    assert D(contract["positions_use"]) == D("78000.00")
    assert (D(contract["reduction"]), D(contract["grant_use"])) == (D("0"), D("78000.00"))
    t = totals(s)
    assert t["granted"] == D("120000.00")  # 2.0 x 60,000: the notice's own rate
    assert t["forwarded"] == D("78000.00")
    assert t["used"] == D("78000.00")
    assert t["unused"] == D("42000.00")  # to repay
    assert t["staff_cost"] == D("84000.00")
    assert t["uncovered"] == D("6000.00")  # the overspend no one has booked yet


def test_own_funds_are_shown_beside_the_grant_and_never_as_grant(
    client: TestClient, ks: dict[str, str], auditor: dict[str, str]
) -> None:
    world = capped_world(client, ks)
    body = {
        "year": 2023, "kind": "own_funds", "contributor": world["provider"],
        "source": "Eigenmittel des Trägers", "amount": "6000",
    }  # fmt: skip
    ok(client.post(f"{POSITIONS}/{world['full']}/contributions", json=body, headers=ks))
    third = {
        "year": 2023, "kind": "third_party", "contributor": "Stiftung X", "source": "",
        "amount": "100",
    }  # fmt: skip
    refused = client.post(f"{POSITIONS}/{world['full']}/contributions", json=third, headers=ks)
    assert_problem(refused, 422, "source-missing")
    s = statement(client, auditor, "KIM-B2-2023-TEST")
    full = by_title(s)["CM Caritas 1"]
    assert (D(full["grant_use"]), D(full["own_funds"]), D(full["uncovered"])) == (
        D("60000.00"), D("6000.00"), D("0.00"),
    )  # fmt: skip
    t = totals(s)
    assert (t["used"], t["own_funds"], t["uncovered"]) == (D("78000.00"), D("6000.00"), D("0"))
    assert t["staff_cost"] == t["staff_grant_use"] + t["own_funds"] + t["third_party"]


def test_a_rate_changed_by_amendment_changes_figures_only_from_its_effective_date(
    client: TestClient, ks: dict[str, str], auditor: dict[str, str], platform: Platform
) -> None:
    world = capped_world(client, ks)
    before = platform.store.head(KS, "coordination")
    amendment = {
        "reference": "KIM-B2-2023-TEST-Ä1", "issued_on": "2023-06-20",
        "effective_from": "2023-07-01", "period_end": "2023-12-31",
        "grants": {"case_management": "2.0"}, "rates": {"case_management": "66000"},
        "reason": "Anhebung der Pauschale ab Juli",
    }  # fmt: skip
    ok(client.post(f"{NOTICES}/{world['notice']}/amend", json=amendment, headers=ks))
    s = statement(client, auditor, "KIM-B2-2023-TEST")
    assert s["notice"] == "KIM-B2-2023-TEST"
    t = totals(s)
    assert t["granted"] == D("126000.00")  # 2.0 x (60,000 x 6 + 66,000 x 6) / 12
    full, part = by_title(s)["CM Caritas 1"], by_title(s)["CM Caritas 2"]
    assert D(full["cap"]) == D("63000.00")  # (60,000 x 6 + 66,000 x 6) / 12
    assert D(full["grant_use"]) == D("63000.00")
    assert D(part["cap"]) == D("24000.00")  # 0.5 x (60,000 x 3 + 66,000 x 6) / 12
    # As of the log position before the amendment, the old rate holds for the whole year.
    earlier = statement(client, auditor, "KIM-B2-2023-TEST", position=before)
    assert totals(earlier)["granted"] == D("120000.00")
    assert D(by_title(earlier)["CM Caritas 1"]["cap"]) == D("60000.00")


def test_a_yearly_cost_is_spread_over_the_filled_months_and_capped_by_the_vacancy(
    client: TestClient, ks: dict[str, str], auditor: dict[str, str]
) -> None:
    notice = notice_2023(
        client, ks, reference="KIM-B1-2023-TEST", baustein=1,
        grants={"coordination": "1.0"}, rates={"coordination": "58000"},
    )  # fmt: skip
    pid = position(
        client, ks, title="Koordination 2023", position_type="coordination", fte="1.0",
        employer_kind="tenant", employer=KS, funding_kind="notice", funding_id=notice,
        work_tenant=KS,
    )  # fmt: skip
    staff(client, ks, pid, "KS-K-09", "1.0", "2023-03-15")
    ok(client.post(f"{POSITIONS}/{pid}/costs/year", json={"year": 2023, "amount": "50000"},
                   headers=ks))  # fmt: skip
    mixed = client.post(f"{POSITIONS}/{pid}/costs", json={"month": "2023-05", "amount": "1"},
                        headers=ks)  # fmt: skip
    assert_problem(mixed, 422, "costs-reported-per-year")
    own = {"year": 2023, "kind": "own_funds", "contributor": KS,
           "source": "Kreishaushalt 2023, Eigenanteil", "amount": "1666.67"}  # fmt: skip
    ok(client.post(f"{POSITIONS}/{pid}/contributions", json=own, headers=ks))
    s = statement(client, auditor, "KIM-B1-2023-TEST")
    (line,) = s["positions"]
    # January and February vacant; March counts (staffed from the 15th): 58,000 x 10/12.
    assert (line["vacant_months"], D(line["cap"])) == (2, D("48333.33"))
    assert (D(line["actual_cost"]), D(line["grant_use"])) == (D("50000.00"), D("48333.33"))
    assert D(line["uncovered"]) == D("0")
    t = totals(s)
    assert (t["recognised_staff_cost"], t["own_funds"]) == (D("48333.33"), D("1666.67"))
    assert t["unused"] == D("58000.00") - D("48333.33")
    # The year's 50,000 over March (17 of 31 days) and April to December, to the cent.
    shown = ok(client.get(f"{POSITIONS}/{pid}", headers=ks))
    assert shown["year_costs"] == {"2023": "50000.00"}


def test_the_spread_of_a_yearly_cost_by_hand() -> None:
    from contexts.coordination.staff_costs import spread_year_cost

    # Staffed 1.0 FTE from 15 March: March weighs 17/31, April to December 1 each.
    weights = [D(0), D(0), D(17) / D(31)] + [D(1)] * 9
    months = spread_year_cost(D("50000.00"), 2023, weights)
    assert list(months) == [f"2023-{m:02d}" for m in range(3, 13)]
    assert months["2023-03"] == D("2871.62")  # 50,000 x 17/296
    assert all(months[f"2023-{m:02d}"] == D("5236.49") for m in range(4, 12))  # x 31/296
    assert months["2023-12"] == D("5236.46")  # the rest, so the months add up
    assert sum(months.values()) == D("50000.00")
    even = spread_year_cost(D("1000.00"), 2023, [D(0)] * 12)  # no staffing: evenly
    assert (len(even), even["2023-01"], even["2023-12"]) == (12, D("83.33"), D("83.37"))
