"""Who sees and does what in the immigration office, as a generated matrix.

REST: every endpoint of the office's people and procedures belongs to the office's own
staff (``immigration_officer`` of the path's tenant); every other tenant and role gets 403
before anything is looked up, and nothing is appended. GraphQL ``officeFigures``: the
officers, coordination and steering roles of the tenant or a tenant above it, and auditors
of it; never case managers; no personal data in any answer. The rules are restated here,
independently of ``contexts.immigration_office.access``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.access_rules import PARENT, ROLES, covers
from tests.gateway.test_gateway import query
from tests.immigration_office.support import IO, api_person, api_procedure
from tests.support import Auth, assert_problem

FIGURE_ROLES = {"immigration_officer", "coordinator", "district_coordinator", "steering_member"}
PRINCIPALS = [(t, r) for t in PARENT for r in ROLES] + [(t, None) for t in ("rheine", "aachen")]


def _endpoints(person: str, procedure: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    base = f"{IO}/rheine"
    return [
        ("POST", f"{base}/people", {"personal_data": {"name": "Demo-Person X."}}),
        ("GET", f"{base}/people/{person}", None),
        ("POST", f"{base}/procedures", {"person_id": person, "legal_basis": "stag_10",
                                        "residence": "rheine", "opened_on": "2025-01-10"}),
        ("GET", f"{base}/procedures", None),
        ("GET", f"{base}/procedures/{procedure}", None),
        ("POST", f"{base}/procedures/{procedure}/steps",
         {"step": "receive_application", "on": "2025-02-01"}),
        ("POST", f"{base}/procedures/{procedure}/checks",
         {"check": "identity", "passed": True, "on": "2025-02-01"}),
        ("GET", f"{base}/due?within_days=30", None),
        ("POST", f"{base}/people/{person}/consents",
         {"recipient": "rheine", "given_on": "2025-01-01"}),
        ("POST", f"{base}/procedures/{procedure}/referrals", {"on": "2025-02-02"}),
        ("POST", f"{base}/people/{person}/consents/revocation",
         {"recipient": "rheine", "revoked_on": "2025-03-01"}),
        ("POST", f"{base}/people/{person}/consents",
         {"purpose": "hand_over", "recipient": "kreis-steinfurt", "given_on": "2025-03-02"}),
        ("POST", f"{base}/procedures/{procedure}/hand-over",
         {"to_tenant": "kreis-steinfurt", "residence": "emsdetten", "on": "2025-03-03"}),
        ("POST", f"{base}/people/{person}/erasure", {"on": "2026-12-01"}),  # the last
    ]  # fmt: skip


def test_only_the_offices_own_staff_reach_its_people_and_procedures(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    officer = auth("rheine", "immigration_officer")
    person = api_person(client, officer)
    procedure = api_procedure(client, officer, person, "stag_10")
    heads = platform.store.heads()
    wrong = []
    for tenant, role in PRINCIPALS:
        if (tenant, role) == ("rheine", "immigration_officer"):
            continue
        headers = auth(tenant, role) if role else auth(tenant)
        for method, path, body in _endpoints(person, procedure):
            r = client.request(method, path, json=body, headers=headers)
            if r.status_code != 403 or "Demo-Person" in r.text:
                wrong.append(f"{tenant}/{role} {method} {path}: {r.status_code} {r.text[:120]}")
    assert wrong == []
    assert platform.store.heads() == heads  # nothing appended by any refusal


def test_the_office_staff_reach_every_endpoint(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    """The control: the same requests answered for the office's own officer."""
    officer = auth("rheine", "immigration_officer")
    person = api_person(client, officer)
    procedure = api_procedure(client, officer, person, "stag_10")
    for method, path, body in _endpoints(person, procedure):
        r = client.request(method, path, json=body, headers=officer)
        assert r.status_code in (200, 201), (method, path, r.text)


def test_another_offices_staff_cannot_reach_a_procedure_through_their_own_tenant(
    client: TestClient, auth: Auth
) -> None:
    person = api_person(client, auth("rheine", "immigration_officer"))
    procedure = api_procedure(client, auth("rheine", "immigration_officer"), person, "stag_10")
    district = auth("kreis-steinfurt", "immigration_officer")
    assert_problem(client.get(f"{IO}/kreis-steinfurt/procedures/{procedure}", headers=district),
                   404, "not-found")  # fmt: skip
    assert_problem(client.get(f"{IO}/kreis-steinfurt/people/{person}", headers=district),
                   404, "not-found")  # fmt: skip


def _figures_allowed(token_tenant: str, role: str | None, tenant: str) -> bool:
    if role in FIGURE_ROLES or role == "auditor":
        return covers(token_tenant, tenant)
    return False


def test_office_figures_follow_the_hierarchy_and_never_reach_case_managers(
    client: TestClient, auth: Auth
) -> None:
    wrong = []
    for tenant, (token_tenant, role) in ((t, p) for t in PARENT for p in PRINCIPALS):
        headers = auth(token_tenant, role) if role else auth(token_tenant)
        text = (
            f'{{ officeFigures(tenant: "{tenant}", includeMembers: true)'
            " { tenants procedures { kind count } } }"
        )
        r = query(client, text, headers)
        body = r.json()
        members = {tenant, *(t for t in PARENT if covers(tenant, t))}
        allowed = all(_figures_allowed(token_tenant, role, t) for t in members)
        got = body.get("data") and body["data"].get("officeFigures")
        if allowed and (not got or body.get("errors")):
            wrong.append(f"{token_tenant}/{role}: refused {body.get('errors')}")
        if not allowed:
            codes = [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]
            if got or codes != ["FORBIDDEN"]:
                wrong.append(f"{token_tenant}/{role}: expected FORBIDDEN, got {body}")
        if "Demo-Person" in r.text:
            wrong.append(f"{token_tenant}/{role}: a name in the answer")
    assert wrong == []


INTAKE_STAFF = {"case_manager", "coordinator", "district_coordinator"}


def test_intake_requests_belong_to_the_case_management_of_their_tenant(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    """Listing, reading and declining: the tenant's case-management staff; accepting and
    sharing achievements: its case managers with a position claim. Everyone else: 403."""
    from contexts.case_management.application import CaseManagementApplication
    from contexts.case_management.intake import intake_id

    app = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    app.receive_office_referral(office="rheine", referral_id="r-1", requirements=["test"],
                                on=date(2025, 1, 2))  # fmt: skip
    rid = intake_id("rheine", "r-1")
    base = "/case_management/tenants/rheine/intake-requests"
    person = "00000000-0000-4000-8000-000000000001"
    requests: list[tuple[str, str, dict[str, Any] | None, bool]] = [
        ("GET", base, None, False),
        ("GET", f"{base}/{rid}", None, False),
        ("POST", f"{base}/{rid}/acceptance", {"person_id": person, "on": "2025-01-03"}, True),
        ("POST", f"{base}/{rid}/achievements",
         {"kind": "employment", "achieved_on": "2025-01-03", "on": "2025-01-03"}, True),
        ("POST", f"{base}/{rid}/decline", {"reason": "no_capacity", "on": "2025-01-03"}, False),
    ]  # fmt: skip
    heads = platform.store.heads()
    wrong = []
    for tenant, role in PRINCIPALS:
        headers = auth(tenant, role) if role else auth(tenant)
        for method, path, body, needs_position in requests:
            allowed = tenant == "rheine" and role in INTAKE_STAFF and not needs_position
            if allowed and method == "POST":
                continue  # the control below declines it
            r = client.request(method, path, json=body, headers=headers)
            if (r.status_code == 403) == allowed:
                wrong.append(f"{tenant}/{role} {method} {path}: {r.status_code} {r.text[:100]}")
    assert wrong == []
    assert platform.store.heads() == heads
    decline = {"reason": "no_capacity", "on": "2025-01-03"}
    declined = client.post(
        f"{base}/{rid}/decline", json=decline, headers=auth("rheine", "coordinator")
    )
    assert declined.status_code == 200, declined.text
