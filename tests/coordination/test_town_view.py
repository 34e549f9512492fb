"""A tenant's view of the positions working in it, also when the district's log holds them.

Demo facts: Kreis Steinfurt's log holds the 1.9 FTE case-management position of "Lernen
fördern e.V." working in Rheine (forwarding contract of 104,500 EUR a year, flat; staffed by
LF-CM-01 with 1.0 from 2021-09-01 and LF-CM-02 with 0.9 from 2021-10-01) and Rheine's
coordination position (contract of 50,000 EUR a year to Rheine), besides its own
coordination and assistance positions working in Kreis Steinfurt.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient

from kim.demo import load_demo
from projections.coordination import positions_working_in
from runtime.bus import Bus
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from runtime.readstore import Row
from runtime.settings import Settings
from tests.case_support import demo_position, ok
from tests.funding_support import b2_id
from tests.gateway.test_gateway import data_of, query
from tests.support import Auth, assert_problem

LF_TITLE = "Case Management Lernen fördern e.V., RB Rheine"
RHEINE_POST = "Koordinierungsstelle KIM Stadt Rheine"
KS_OWN = {"Koordination KI Kreis Steinfurt", "Assistenz KI Kreis Steinfurt"}


def working_here(tenant: str) -> str:
    return f"/coordination/tenants/{tenant}/positions/working-here"


SELECTION = (
    "{ id holder title positionType baustein fte employerKind employer workTenant regionalArea"
    " staffing { staffId fte start end } filledFte costs { month amount } yearCosts { year amount }"
    " supervision { postTenant validFrom validTo supervisorPositionId }"
    " contract { id recipientKind recipient positionType amountRule amountPerYear fte start end"
    " cooperationAgreement terminated noticeReference }"
    " notice { id reference baustein grantor } }"
)


def graphql_view(
    client: TestClient, headers: dict[str, str], tenant: str, at: int | None = None
) -> list[dict[str, Any]]:
    args = f'tenant: "{tenant}"' + (f", atPosition: {at}" if at is not None else "")
    text = f"{{ positionsWorkingIn({args}) {SELECTION} }}"
    found: list[dict[str, Any]] = data_of(query(client, text, headers))["positionsWorkingIn"]
    return found


REST_KEYS = {
    "id", "holder", "title", "position_type", "baustein", "fte", "employer_kind", "employer",
    "work_tenant", "regional_area", "staffing", "filled_fte", "costs", "year_costs",
    "supervision", "contract", "notice", "year_figures",
}  # fmt: skip
CONTRACT_KEYS = {
    "id", "recipient_kind", "recipient", "position_type", "amount_rule", "amount_per_year",
    "fte", "start", "end", "cooperation_agreement", "terminated", "notice_reference",
}  # fmt: skip


def test_rheine_sees_the_district_held_position_of_its_provider_over_rest(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    view = ok(client.get(working_here("rheine"), headers=auth("rheine", "coordinator")))
    by_title = {p["title"]: p for p in view}
    assert set(by_title) == {LF_TITLE, RHEINE_POST}
    lf = by_title[LF_TITLE]
    assert lf["id"] == str(demo_position(platform))
    assert lf["holder"] == "kreis-steinfurt"
    assert lf["work_tenant"] == "rheine"
    assert (lf["position_type"], lf["baustein"], lf["fte"]) == ("case_management", 2, "1.90")
    assert (lf["employer_kind"], lf["employer"]) == ("provider", "Lernen fördern e.V.")
    assert lf["regional_area"] == "RB Rheine"
    assert lf["staffing"] == [
        {"staff_id": "LF-CM-01", "fte": "1.00", "start": "2021-09-01", "end": None},
        {"staff_id": "LF-CM-02", "fte": "0.90", "start": "2021-10-01", "end": None},
    ]
    assert lf["filled_fte"] == "1.90"
    assert lf["costs"] == {
        "2021-09": "4600.00",
        "2021-10": "8740.00",
        "2021-11": "8740.00",
        "2021-12": "8740.00",
    }
    assert [s["post_tenant"] for s in lf["supervision"]] == ["rheine"]
    contract = lf["contract"]
    assert contract["recipient_kind"] == "provider"
    assert contract["recipient"] == "Lernen fördern e.V."
    assert (contract["amount_rule"], contract["amount_per_year"]) == ("flat", "104500.00")
    assert contract["fte"] == "1.90"
    assert (contract["start"], contract["end"]) == ("2021-09-01", "2022-12-31")
    assert contract["cooperation_agreement"] == "Weiterleitungsvertrag Case Management RB Rheine"
    assert contract["terminated"] is False
    assert contract["notice_reference"] == "KIM-B2-2021-05566"
    assert lf["notice"] is None
    post = by_title[RHEINE_POST]
    assert post["holder"] == "kreis-steinfurt"
    assert (post["employer_kind"], post["employer"]) == ("tenant", "rheine")
    assert post["contract"]["recipient"] == "rheine"
    assert post["contract"]["amount_per_year"] == "50000.00"
    # No personal data: exactly these fields, staff by pseudonymous ids only.
    for p in view:
        assert set(p) == REST_KEYS
        assert set(p["contract"]) == CONTRACT_KEYS
        assert {tuple(sorted(s)) for s in p["staffing"]} == {("end", "fte", "staff_id", "start")}


def test_rheine_reads_the_year_figures_of_the_positions_working_in_it(
    client: TestClient, auth: Auth
) -> None:
    """What Rheine's council gets reported: cap, cost and grant use of 2021, by hand."""
    rheine = auth("rheine", "coordinator")
    plain = ok(client.get(working_here("rheine"), headers=rheine))
    assert all(p["year_figures"] is None for p in plain)
    view = ok(client.get(working_here("rheine"), params={"year": 2021}, headers=rheine))
    by_title = {p["title"]: p["year_figures"] for p in view}
    lf, post = by_title[LF_TITLE], by_title[RHEINE_POST]
    # 55,000 x (1.0 FTE in September + 1.9 FTE x 3) / 12; costs 4,600 + 3 x 8,740.
    assert (lf["cap"], lf["actual_cost"], lf["vacant_months"]) == ("30708.33", "30820.00", 0)
    assert lf["grant_use"] is None  # a flat contract: the 104,500 a year are the grant
    # Rheine's post: 1.0 FTE from May, 55,000 x 8/12; 8 x 4,500; its own share recorded.
    assert (post["cap"], post["actual_cost"], post["own_funds"]) == (
        "36666.67", "36000.00", "2666.67",
    )  # fmt: skip
    refused = client.get(working_here("rheine"), params={"year": 1999}, headers=rheine)
    assert refused.status_code == 422


def test_rheine_sees_the_same_over_graphql_and_the_district_reads_it_too(
    client: TestClient, auth: Auth
) -> None:
    rheine = graphql_view(client, auth("rheine", "coordinator"), "rheine")
    by_title = {p["title"]: p for p in rheine}
    assert set(by_title) == {LF_TITLE, RHEINE_POST}
    lf = by_title[LF_TITLE]
    assert (lf["holder"], lf["workTenant"], lf["employer"]) == (
        "kreis-steinfurt",
        "rheine",
        "Lernen fördern e.V.",
    )
    assert [(s["staffId"], s["fte"], s["start"], s["end"]) for s in lf["staffing"]] == [
        ("LF-CM-01", "1.00", "2021-09-01", None),
        ("LF-CM-02", "0.90", "2021-10-01", None),
    ]
    assert lf["filledFte"] == "1.90"
    assert {c["month"]: c["amount"] for c in lf["costs"]}["2021-10"] == "8740.00"
    assert lf["contract"]["amountRule"] == "flat"
    assert lf["contract"]["amountPerYear"] == "104500.00"
    assert lf["contract"]["fte"] == "1.90"
    assert lf["notice"] is None
    # The same view for the district's coordinator, the state's auditor and a case manager.
    for headers in (
        auth("kreis-steinfurt", "district_coordinator"),
        auth("nrw", "auditor"),
        auth("rheine", "case_manager"),
    ):
        assert graphql_view(client, headers, "rheine") == rheine
    rest = ok(client.get(working_here("rheine"), headers=auth("rheine", "coordinator")))
    assert sorted(p["id"] for p in rest) == sorted(p["id"] for p in rheine)


def test_the_district_sees_its_own_positions_working_in_it_not_those_in_its_towns(
    client: TestClient, auth: Auth
) -> None:
    ks = auth("kreis-steinfurt", "district_coordinator")
    rest = ok(client.get(working_here("kreis-steinfurt"), headers=ks))
    assert {p["title"] for p in rest} == KS_OWN
    assert {(p["holder"], p["work_tenant"]) for p in rest} == {
        ("kreis-steinfurt", "kreis-steinfurt")
    }
    notices = {p["notice"]["reference"] for p in rest}
    assert notices == {"KIM-B1-2021-05566"}
    assert all(p["contract"] is None for p in rest)
    graphql = graphql_view(client, ks, "kreis-steinfurt")
    assert {p["title"] for p in graphql} == KS_OWN
    assert {p["notice"]["baustein"] for p in graphql} == {1}


def test_another_town_sees_none_of_rheines_positions(client: TestClient, auth: Auth) -> None:
    emsdetten = auth("emsdetten", "coordinator")
    assert ok(client.get(working_here("emsdetten"), headers=emsdetten)) == []
    assert graphql_view(client, emsdetten, "emsdetten") == []
    assert_problem(client.get(working_here("rheine"), headers=emsdetten), 403, "tenant-not-allowed")
    response = query(client, f'{{ positionsWorkingIn(tenant: "rheine") {SELECTION} }}', emsdetten)
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_position_the_district_creates_for_emsdetten_shows_in_emsdettens_view_only(
    client: TestClient, auth: Auth
) -> None:
    ks = auth("kreis-steinfurt", "district_coordinator")
    created = client.post(
        "/coordination/tenants/kreis-steinfurt/positions",
        json={
            "title": "Case Management Kreis Steinfurt, RB Emsdetten/Greven",
            "position_type": "case_management",
            "fte": "1.0",
            "employer_kind": "tenant",
            "employer": "kreis-steinfurt",
            "funding_kind": "notice",
            "funding_id": b2_id(client, ks),
            "work_tenant": "emsdetten",
        },
        headers=ks,
    )
    assert created.status_code == 201, created.text
    # Read-your-writes without a header: the district's log is read up to its head.
    (shown,) = ok(client.get(working_here("emsdetten"), headers=auth("emsdetten", "coordinator")))
    assert shown["id"] == created.json()["events"][0]["aggregate_id"]
    assert (shown["holder"], shown["employer"], shown["filled_fte"]) == (
        "kreis-steinfurt",
        "kreis-steinfurt",
        "0",
    )
    assert shown["notice"] == {
        "id": b2_id(client, ks),
        "reference": "KIM-B2-2021-05566",
        "baustein": 2,
        "grantor": "Bezirksregierung Arnsberg",
    }
    assert shown["contract"] is None
    rheine = ok(client.get(working_here("rheine"), headers=auth("rheine", "coordinator")))
    assert created.json()["events"][0]["aggregate_id"] not in {p["id"] for p in rheine}


def test_a_cost_the_district_records_is_in_rheines_view_at_once(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    position = demo_position(platform)
    recorded = client.post(
        f"/coordination/tenants/kreis-steinfurt/positions/{position}/costs",
        json={"month": "2022-01", "amount": "8740.00"},
        headers=auth("kreis-steinfurt", "district_coordinator"),
    )
    assert recorded.status_code == 200, recorded.text
    rheine = auth("rheine", "coordinator")
    # GraphQL: atPosition names Rheine's own log; the district's is waited for to its head.
    at = platform.store.head("rheine", "coordination")
    (lf,) = [p for p in graphql_view(client, rheine, "rheine", at) if p["id"] == str(position)]
    assert {c["month"]: c["amount"] for c in lf["costs"]}["2022-01"] == "8740.00"
    (lf_rest,) = [
        p
        for p in ok(client.get(working_here("rheine"), headers=rheine))
        if p["id"] == str(position)
    ]
    assert lf_rest["costs"]["2022-01"] == "8740.00"


def test_tokens_of_other_tenants_and_roles_are_refused(client: TestClient, auth: Auth) -> None:
    aachen = auth("aachen", "coordinator")
    assert_problem(client.get(working_here("rheine"), headers=aachen), 403, "tenant-not-allowed")
    for headers in (aachen, auth("rheine", "immigration_officer"), auth("nrw", "platform_admin")):
        response = query(client, '{ positionsWorkingIn(tenant: "rheine") { id } }', headers)
        body = response.json()
        assert body["data"] is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert_problem(
        client.get(working_here("rheine"), headers=auth("rheine", "platform_admin")),
        403,
        "role-not-allowed",
    )


def test_working_here_is_not_taken_for_a_position_id(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    ks = auth("kreis-steinfurt", "district_coordinator")
    one = ok(
        client.get(
            f"/coordination/tenants/kreis-steinfurt/positions/{demo_position(platform)}", headers=ks
        )
    )
    assert one["title"] == LF_TITLE
    assert (
        client.get(
            "/coordination/tenants/kreis-steinfurt/positions/working-nowhere", headers=ks
        ).status_code
        == 422
    )


def test_the_figure_function_keeps_only_positions_working_in_the_tenant() -> None:
    def position(tenant: str, key: str, work_tenant: str, funding: str) -> Row:
        doc = {
            "title": key, "position_type": "case_management", "baustein": 2, "fte": "1.00",
            "employer_kind": "provider", "employer": "org", "funding_kind": "contract",
            "funding_id": funding, "work_tenant": work_tenant, "regional_area_id": None,
            "staffing": [{"staff_id": "S-1", "fte": "0.50", "start": "2021-01-01", "end": None}],
            "costs": {"2021-02": "100.00", "2021-01": "50.00"}, "supervision": [],
        }  # fmt: skip
        return Row(tenant, key, "Position", doc)

    contract = {
        "notice_id": "n", "recipient_kind": "provider", "recipient": "org",
        "position_type": "case_management", "amount_rule": "flat", "amount_per_year": "55000.00",
        "fte": "1.00", "period": {"start": "2021-01-01", "end": "2021-12-31"},
        "cooperation_agreement": "KV", "terminated": False,
    }  # fmt: skip
    rows = [
        Row("district", "org", "Organisation", {"name": "Träger e.V."}),
        Row("district", "c", "ForwardingContract", contract),
        Row("district", "n", "FundingNotice", {"reference": "B2", "baustein": 2}),
        position("district", "in-town", "town", "c"),
        position("district", "in-district", "district", "c"),
        position("district", "in-other-town", "other-town", "c"),
        position("town", "own", "town", "unknown"),
    ]
    found = positions_working_in(rows, "town", date(2021, 6, 1))
    assert [(w.holder, w.position_id) for w in found] == [("town", "own"), ("district", "in-town")]
    own, in_town = found
    assert own.employer == "org"  # the town's rows name no organisation "org"
    assert own.contract is None  # no such contract in the town's rows
    assert own.notice is None
    assert in_town.employer == "Träger e.V."
    assert in_town.contract is not None
    assert (in_town.contract.recipient, in_town.contract.notice_reference) == ("Träger e.V.", "B2")
    assert in_town.filled_fte == Decimal("0.50")
    assert in_town.costs == [("2021-01", Decimal("50.00")), ("2021-02", Decimal("100.00"))]


def test_the_demo_names_rheines_view(
    settings: Settings, store: EventLogStore, bus_factory: Callable[[], Bus]
) -> None:
    platform = Platform(settings, store=store, bus=bus_factory())
    try:
        done = " ".join(load_demo(platform))
    finally:
        platform.close_read()
    assert "/coordination/tenants/rheine/positions/working-here" in done
    assert 'positionsWorkingIn(tenant: "rheine")' in done
