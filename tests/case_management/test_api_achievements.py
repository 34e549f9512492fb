"""Recording integration achievements on a case over REST: who may, what is refused (and
appends nothing), idempotency and the expected version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_api import RHEINE, Api, Headers, day
from tests.case_support import demo_position, note_position
from tests.support import Auth


@pytest.fixture
def api(client: TestClient, platform: Platform) -> Api:
    return Api(client, platform)


@pytest.fixture
def cm(platform: Platform, auth: Auth) -> Headers:
    return auth("rheine", "case_manager", position=demo_position(platform))


def test_an_achievement_is_recorded_without_any_consent_and_shown_on_the_case(
    api: Api, cm: Headers, client: TestClient, platform: Platform
) -> None:
    _, case = api.case_in(cm, "monitoring")
    url = f"/cases/{case}/achievements"
    body = {"kind": "integration_course", "achieved_on": day(1), "on": day(5)}
    keyed = {**cm, "Idempotency-Key": "achievement-0001"}
    first = client.post(f"{RHEINE}{url}", json=body, headers=keyed)
    assert first.status_code == 200, first.text
    assert first.json()["shared_with"] == []
    head = platform.store.heads()
    again = client.post(f"{RHEINE}{url}", json=body, headers=keyed)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["KIM-Position"] == first.headers["KIM-Position"]
    assert platform.store.heads() == head
    view = api.case(cm, case)
    assert view["achievements"] == [{**body, "level": None}]
    stale = {**body, "expected_version": view["version"] - 1}
    problem = api.refused(url, cm, 409, "stale-version", stale)
    assert problem["facts"]["actual_version"] == view["version"]
    api.ok(url, cm, {**body, "expected_version": view["version"]})
    assert len(api.case(cm, case)["achievements"]) == 2


def test_refused_achievements_append_nothing(
    api: Api, cm: Headers, auth: Auth, platform: Platform
) -> None:
    _, case = api.case_in(cm, "linking")
    url = f"/cases/{case}/achievements"
    b1 = {"kind": "language_certificate", "level": "B1", "achieved_on": day(1), "on": day(4)}
    api.refused(url, cm, 422, "validation-failed", {**b1, "kind": "driving_licence"})
    api.refused(url, cm, 422, "validation-failed", {**b1, "level": "B3"})
    api.refused(url, cm, 422, "language-level", {**b1, "level": None})
    api.refused(url, cm, 422, "language-level", {**b1, "kind": "employment"})
    api.refused(url, cm, 422, "achievement-in-future", {**b1, "achieved_on": day(5)})
    api.refused(url, cm, 422, "date-before-opening", {**b1, "achieved_on": day(-9), "on": day(-1)})
    # Another position's case manager, and one without a position claim, of the same tenant.
    colleague = auth("rheine", "case_manager", position=note_position(platform, "rheine"))
    api.refused(url, colleague, 404, "not-found", b1)
    api.refused(url, auth("rheine", "case_manager"), 403, "position-claim-missing", b1)
    api.refused(url, auth("rheine", "coordinator"), 403, "role-not-allowed", b1)
    # Another tenant's case manager, even claiming the case's position.
    aachen = auth("aachen", "case_manager", position=demo_position(platform))
    api.refused(url, aachen, 403, "tenant-not-allowed", b1)
    assert api.case(cm, case)["achievements"] == []
    _, closed = api.case_in(cm, "closed", name="Mara Ost")
    api.refused(f"/cases/{closed}/achievements", cm, 422, "case-closed", b1)
