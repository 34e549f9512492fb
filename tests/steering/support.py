"""What the steering tests share: REST helpers and the demo's groups and members."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.support import assert_problem

ST = "/steering/tenants"
RHEINE_POST = "rheine-koordinierungsstelle"  # subjects of the demo's representatives
RHEINE_CHAIR = "rheine-integrationsrat-vorsitz"
KI_LEAD = "ks-lg-ki-leitung"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def created(response: Any) -> str:
    assert response.status_code in (200, 201), response.text
    return str(response.json()["events"][0]["aggregate_id"])


def demo_group(client: TestClient, headers: dict[str, str], tenant: str) -> dict[str, Any]:
    (group,) = ok(client.get(f"{ST}/{tenant}/groups", headers=headers))
    found: dict[str, Any] = group
    return found


def member_by_subject(group: dict[str, Any], subject: str) -> str:
    (member,) = [m for m in group["members"].values() if m.get("subject") == subject]
    return str(member["member_id"])


def post(client: TestClient, headers: dict[str, str], path: str, body: dict[str, Any],
         status: int = 200) -> Any:  # fmt: skip
    return ok(client.post(path, json=body, headers=headers), status)


def refused(
    client: TestClient, heads: Any, path: str, body: dict[str, Any], headers: dict[str, str],
    status: int, rule: str,
) -> dict[str, Any]:  # fmt: skip
    """A refusal with its problem, and nothing appended to any log."""
    store, before = heads
    problem = assert_problem(client.post(path, json=body, headers=headers), status, rule)
    assert store.heads() == before, f"{path} appended on refusal ({rule})"
    return problem


def held_meeting(
    client: TestClient, headers: dict[str, str], tenant: str, group_id: str,
    present: list[str], *, on: str = "2022-02-01", title: str = "Sitzung",
    item: str = "Kita-Plätze für neu zugewanderte Fünfjährige",
) -> str:  # fmt: skip
    """A meeting of the group with one member item, invited and held with ``present``."""
    base = f"{ST}/{tenant}"
    meeting = created(client.post(f"{base}/meetings", json={
        "group_id": group_id, "title": title, "scheduled_for": on}, headers=headers))  # fmt: skip
    post(client, headers, f"{base}/meetings/{meeting}/agenda", {"title": item})
    year = on[:4]
    post(client, headers, f"{base}/meetings/{meeting}/invitation",
         {"sent_on": f"{int(year) - 1}-12-01"})  # fmt: skip
    post(client, headers, f"{base}/meetings/{meeting}/held", {"held_on": on, "present": present})
    return meeting
