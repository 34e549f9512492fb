"""Who sees and does what in the steering context, as a generated matrix over every demo
tenant and role, plus the members of Kreis Steinfurt's group who come from Rheine.

REST: the commands belong to the group's coordination post (a coordinator of Kreis
Steinfurt); its papers (group, meetings, resolutions, working groups) are read by the post
and by the group's members, whatever their home tenant, and by nobody else; lists show a
caller only the groups it reads; submissions are for the posts of the tenant and above.
GraphQL: ``steeringGroups`` for the roles that take part (rows: the groups read),
``steeringFigures`` for the coordination and steering roles of the tenant and above, the
auditors of it and the group's members. Nothing is appended by any refusal, and no answer
carries a representative's subject. The rules are restated here, independently of
``contexts.steering.access``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.access_rules import ROLES, covers
from tests.gateway.test_gateway import query
from tests.steering.support import (
    KI_LEAD,
    RHEINE_CHAIR,
    RHEINE_POST,
    ST,
    created,
    demo_group,
    held_meeting,
    member_by_subject,
    post,
)
from tests.support import Auth

KS = f"{ST}/kreis-steinfurt"
POST_ROLES = {"coordinator", "district_coordinator"}
TAKING_PART = POST_ROLES | {"steering_member"}
UNKNOWN = "00000000-0000-4000-8000-00000000abcd"
MATRIX_TENANTS = ["kreis-steinfurt", "rheine", "nrw", "aachen"]
Who = tuple[str, str | None, str | None]  # tenant, role, subject (None: the default)


@pytest.fixture
def stack() -> str:
    return "embedded"


def _world(client: TestClient, district: dict[str, str]) -> dict[str, str]:
    group = demo_group(client, district, "kreis-steinfurt")
    ki, rh = member_by_subject(group, KI_LEAD), member_by_subject(group, RHEINE_POST)
    meeting = held_meeting(client, district, "kreis-steinfurt", group["id"], [ki, rh])
    resolution = created(client.post(f"{KS}/resolutions", json={
        "meeting_id": meeting, "item": 1, "title": "Vorrang"}, headers=district))  # fmt: skip
    for member in (ki, rh):
        post(client, district, f"{KS}/resolutions/{resolution}/votes",
             {"member_id": member, "vote": "for"})  # fmt: skip
    post(client, district, f"{KS}/resolutions/{resolution}/result", {"on": "2022-02-01"})
    wg = created(client.post(f"{KS}/working-groups", json={
        "resolution_id": resolution, "name": "AG Kita", "mandate": "Der typische Fall",
        "on": "2022-02-02"}, headers=district))  # fmt: skip
    return {"group": group["id"], "meeting": meeting, "resolution": resolution, "wg": wg,
            "ki": ki}  # fmt: skip


def _reads(w: dict[str, str]) -> list[str]:
    return [f"{KS}/groups/{w['group']}", f"{KS}/meetings/{w['meeting']}",
            f"{KS}/resolutions/{w['resolution']}", f"{KS}/working-groups/{w['wg']}"]  # fmt: skip


def _lists() -> list[str]:
    return [f"{KS}/groups", f"{KS}/meetings", f"{KS}/resolutions"]


def _commands(w: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    g, m, r, wg = w["group"], w["meeting"], w["resolution"], w["wg"]
    return [
        (f"{KS}/groups", {"name": "Lenkungsgruppe", "founded_on": "2022-01-01"}),
        (f"{KS}/groups/{g}/members", {"institution": "Jobcenter", "member_tenant": "rheine",
         "role": "Leitung", "voting": True, "valid_from": "2022-01-01", "subject": "s-9"}),
        (f"{KS}/groups/{g}/members/{w['ki']}/leave", {"on": "2030-01-01"}),
        (f"{KS}/meetings", {"group_id": g, "title": "Sitzung", "scheduled_for": "2023-01-01"}),
        (f"{KS}/meetings/{m}/agenda", {"title": "Wohnen"}),
        (f"{KS}/meetings/{m}/agenda/submissions", {"from_tenant": "rheine",
         "submission_id": UNKNOWN}),
        (f"{KS}/meetings/{m}/agenda/carried-over", {"from_meeting": m, "item": 1}),
        (f"{KS}/meetings/{m}/invitation", {"sent_on": "2022-01-01"}),
        (f"{KS}/meetings/{m}/held", {"held_on": "2022-02-01", "present": []}),
        (f"{KS}/meetings/{m}/minutes", {"minutes": "Ergebnis", "on": "2022-02-02"}),
        (f"{KS}/meetings/{m}/minutes/approval", {"at_meeting": m, "on": "2022-02-02"}),
        (f"{KS}/meetings/{m}/minutes/amendments", {"amendment": "x", "at_meeting": m,
         "on": "2022-02-02"}),
        (f"{KS}/resolutions", {"meeting_id": m, "item": 1, "title": "Vorrang"}),
        (f"{KS}/resolutions/{r}/votes", {"member_id": w["ki"], "vote": "against"}),
        (f"{KS}/resolutions/{r}/result", {"on": "2022-02-01"}),
        (f"{KS}/resolutions/{r}/tasks", {"title": "Regel", "owner_institution": "Jugendamt",
         "due_on": "2022-06-01"}),
        (f"{KS}/resolutions/{r}/tasks/1/done", {"on": "2022-03-01"}),
        (f"{KS}/resolutions/{r}/status", {"status": "in_implementation", "on": "2022-03-01"}),
        (f"{KS}/working-groups", {"resolution_id": r, "name": "AG", "mandate": "Fall",
         "on": "2022-02-02"}),
        (f"{KS}/working-groups/{wg}/timelines", {"case_tenant": "kreis-steinfurt",
         "case_ids": [UNKNOWN], "on": "2022-02-03"}),
        (f"{KS}/working-groups/{wg}/report", {"meeting_id": m, "summary": "Ergebnis",
         "on": "2022-02-03"}),
    ]  # fmt: skip


def _principals() -> list[Who]:
    """Every role of the group's tenant, of the member town, of the state programme above
    and of a tenant outside, and Rheine's members (their subjects), one also with a token
    of another tenant."""
    everyone: list[Who] = [(t, r, None) for t in MATRIX_TENANTS for r in ROLES]
    return [*everyone, ("rheine", "steering_member", RHEINE_CHAIR),
            ("rheine", "coordinator", RHEINE_POST), ("emsdetten", "steering_member", RHEINE_CHAIR),
            ("rheine", None, None)]  # fmt: skip


COMMANDERS: list[Who] = [
    ("kreis-steinfurt", "steering_member", None), ("kreis-steinfurt", "case_manager", None),
    ("rheine", "steering_member", RHEINE_CHAIR), ("rheine", "coordinator", RHEINE_POST),
    ("nrw", "district_coordinator", None), ("aachen", "coordinator", None),
]  # fmt: skip
"""Who tries every command: the group's tenant's other roles, its members from Rheine,
the post of the tenant above and of a tenant outside (all refused)."""


def _is_post(who: Who) -> bool:
    return who[0] == "kreis-steinfurt" and who[1] in POST_ROLES


def _is_member(who: Who) -> bool:
    """The group's members from Rheine: a token of Rheine naming their subject."""
    return who[0] == "rheine" and who[2] in (RHEINE_CHAIR, RHEINE_POST) and who[1] in TAKING_PART


def _headers(token: Callable[..., str], who: Who) -> dict[str, str]:
    tenant, role, subject = who
    roles = [role] if role else []
    return {"Authorization": "Bearer " + token(tenant, *roles, subject=subject)}


def test_the_post_runs_the_group_its_members_read_it_from_any_tenant_and_nobody_else(
    client: TestClient, auth: Auth, token: Callable[..., str], platform: Platform
) -> None:
    district = auth("kreis-steinfurt", "district_coordinator")
    w = _world(client, district)
    heads = platform.store.heads()
    wrong = []
    for who in _principals():
        headers = _headers(token, who)
        for path in _reads(w):
            r = client.get(path, headers=headers)
            allowed = _is_post(who) or _is_member(who)
            if (r.status_code == 200) != allowed or (allowed is False and r.status_code != 403):
                wrong.append(f"{who} GET {path}: {r.status_code}")
            if not _is_post(who) and "ks-lg-" in r.text:
                wrong.append(f"{who} GET {path}: a representative's subject")
        for path in _lists():
            r = client.get(path, headers=headers)
            if who[1] not in TAKING_PART:
                if r.status_code != 403:
                    wrong.append(f"{who} GET {path}: {r.status_code}")
                continue
            sees = w["group"] in r.text or w["meeting"] in r.text or w["resolution"] in r.text
            if r.status_code != 200 or sees != (_is_post(who) or _is_member(who)):
                wrong.append(f"{who} GET {path}: {r.status_code} sees={sees}")
        r = client.get(f"{ST}/rheine/submissions", headers=headers)
        allowed = who[1] in POST_ROLES and covers(who[0], "rheine")
        if (r.status_code == 200) != allowed:
            wrong.append(f"{who} GET submissions: {r.status_code}")
    for who in COMMANDERS:
        for path, body in _commands(w):
            r = client.post(path, json=body, headers=_headers(token, who))
            if r.status_code != 403:
                wrong.append(f"{who} POST {path}: {r.status_code} {r.text[:100]}")
    assert wrong == []
    assert platform.store.heads() == heads  # nothing appended by any refusal
    wrong += _graphql_matrix(client, token, w)
    assert wrong == []
    # The control: the same commands for the group's post are not refused by access (a
    # domain rule may still refuse them: 404, 409 or 422 with its problem).
    for path, body in _commands(w):
        r = client.post(path, json=body, headers=district)
        assert r.status_code in (200, 201, 404, 409, 422), (path, r.text)
        assert r.status_code == 404 or r.json().get("rule") not in (
            "role-not-allowed",
            "tenant-not-allowed",
        )


def _figures_allowed(who: Who) -> bool:
    tenant, role, _ = who
    if _is_member(who):
        return True
    if role in TAKING_PART or role == "auditor":
        return covers(tenant, "kreis-steinfurt")
    return False


FIGURES = (
    '{ steeringFigures(tenant: "kreis-steinfurt") { tenants meetingsHeld'
    " resolutions { status count } } }"
)
GROUPS = '{ steeringGroups(tenant: "kreis-steinfurt") { id name members { institution voting } } }'


def _graphql_matrix(client: TestClient, token: Callable[..., str], w: dict[str, str]) -> list[str]:
    wrong = []
    for who in _principals():
        headers = _headers(token, who)
        figures = query(client, FIGURES, headers)
        groups = query(client, GROUPS, headers)
        for field, answer, allowed in (
            ("steeringFigures", figures.json(), _figures_allowed(who)),
            ("steeringGroups", groups.json(), who[1] in TAKING_PART),
        ):
            got = (answer.get("data") or {}).get(field)
            codes = [(e.get("extensions") or {}).get("code") for e in answer.get("errors") or []]
            if allowed and (got is None or answer.get("errors")):
                wrong.append(f"{who} {field}: refused {answer.get('errors')}")
            if not allowed and (got is not None or codes != ["FORBIDDEN"]):
                wrong.append(f"{who} {field}: expected FORBIDDEN, got {answer}")
        rows = (groups.json().get("data") or {}).get("steeringGroups") or []
        if any(g["id"] == w["group"] for g in rows) != (_is_post(who) or _is_member(who)):
            wrong.append(f"{who} steeringGroups rows: {rows}")
        if "ks-lg-" in groups.text or RHEINE_CHAIR in groups.text:
            wrong.append(f"{who} steeringGroups: a representative's subject")
    return wrong
