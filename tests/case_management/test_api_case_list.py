"""The REST list of cases: read-model pages with a cursor, and always the caller's own writes."""

from __future__ import annotations

from uuid import UUID

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import CM, demo_position, ok, open_case, register_person
from tests.support import Auth, assert_problem

RHEINE = CM.format(tenant="rheine")


def test_cases_come_a_page_at_a_time_with_a_link_to_the_next(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    opened = {open_case(client, cm, register_person(client, cm, name=f"P{n}")) for n in range(5)}
    seen: list[str] = []
    url: str | None = f"{RHEINE}/cases?limit=2"
    pages = 0
    while url is not None:
        response = client.get(url, headers=cm)
        page = ok(response)
        assert len(page) <= 2
        seen += [c["id"] for c in page]
        link = response.headers.get("link")
        url = link[1 : link.index(">")] if link else None
        pages += 1
    assert {UUID(c) for c in seen} == opened  # each case once, right after its command
    assert seen == sorted(seen)  # in id order: a stable cursor
    assert pages == 3


def test_a_filter_by_state_and_a_named_position_come_from_the_read_model(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    case = open_case(client, cm, register_person(client, cm))
    assert [c["id"] for c in ok(client.get(f"{RHEINE}/cases?state=intake", headers=cm))] == [
        str(case)
    ]
    assert ok(client.get(f"{RHEINE}/cases?state=closed", headers=cm)) == []


def test_a_page_too_large_or_a_malformed_position_is_refused(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    assert_problem(client.get(f"{RHEINE}/cases?limit=500", headers=cm), 422, "validation-failed")
    refused = client.get(f"{RHEINE}/cases", headers={**cm, "KIM-Position": "soon"})
    assert_problem(refused, 400, "invalid-position")


def test_a_position_the_read_model_does_not_reach_in_time_is_a_503_with_retry_after(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    far = platform.store.head("rheine", "case_management") + 1_000_000
    import runtime.http.reads as reads

    limit, reads.WAIT_LIMIT_SECONDS = reads.WAIT_LIMIT_SECONDS, 0.2
    try:
        response = client.get(f"{RHEINE}/cases", headers={**cm, "KIM-Position": str(far)})
    finally:
        reads.WAIT_LIMIT_SECONDS = limit
    assert_problem(response, 503, "read-model-behind")
    assert response.headers["retry-after"] == "1"
