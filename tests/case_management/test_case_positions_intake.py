"""Case management learns the positions that work in its tenant from coordination's events."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import lf_position_record
from tests.support import Auth


def test_the_position_working_in_rheine_is_known_to_rheines_case_management(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    created = lf_position_record(platform)
    url = f"/case_management/tenants/rheine/positions/{created.originator_id}/caseload"
    headers = auth("rheine", "coordinator")
    deadline = time.monotonic() + 10
    response = client.get(url, headers=headers)
    while response.status_code == 404 and time.monotonic() < deadline:
        time.sleep(0.05)
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "position_id": str(created.originator_id),
        "open_cases": 0,
        "cases_per_fte": "0.0",
        "target_per_fte": 100,
        "limit_per_fte": 120,
    }
    # Noted in Rheine's own log, where the position works, not in the district's.
    noted = platform.store.read_log("rheine", "case_management")
    types = [r.event_type for r in noted]
    assert types[0] == "KnownPositionNoted"
    assert set(types) <= {"KnownPositionNoted", "KnownPositionSupervisionNoted"}
    assert platform.store.read_log("kreis-steinfurt", "case_management") == []


def test_caseload_figures_of_another_tenant_are_refused(client: TestClient, auth: Auth) -> None:
    response = client.get(
        "/case_management/tenants/rheine/positions/00000000-0000-0000-0000-000000000000/caseload",
        headers=auth("aachen", "coordinator"),
    )
    assert response.status_code == 403
