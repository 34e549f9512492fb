"""``kim serve --service steering`` serves the steering API alone, every operation with its
problem answers, and the demo holds the groups the council papers name."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from kim.assembly import build_app
from runtime.platform import Platform
from runtime.settings import Settings
from tests.steering.support import RHEINE_CHAIR, RHEINE_POST, ST, ok
from tests.support import Auth


@pytest.fixture
def stack() -> str:
    return "embedded"


def test_the_steering_service_runs_alone_with_the_demos_groups(
    settings: Settings, platform: Platform, auth: Auth
) -> None:
    app = build_app(settings, ["steering"], platform=platform, relay=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        paths = client.get("/openapi.json").json()["paths"]
        assert {p.split("/")[1] for p in paths} == {"steering", "healthz", "readyz"}
        for path, item in paths.items():
            for method, op in item.items():
                if path.startswith("/steering"):
                    assert {"403", "404", "409", "422"} <= set(op["responses"]), (method, path)
        groups = {}
        for tenant in ("rheine", "kreis-steinfurt", "aachen"):
            (founded,) = [r for r in platform.store.read_log(tenant, "steering")
                          if r.event_type == "SteeringGroupFounded"]  # fmt: skip
            url = f"{ST}/{tenant}/groups/{founded.originator_id}"
            groups[tenant] = ok(client.get(url, headers=auth(tenant, "coordinator")))
    assert len(groups["rheine"]["members"]) == 13
    assert groups["aachen"]["founded_on"] == "2021-01-12"
    district = {m["subject"]: m for m in groups["kreis-steinfurt"]["members"].values()}
    for subject in (RHEINE_POST, RHEINE_CHAIR):
        member = district[subject]
        assert (member["member_tenant"], member["voting"], member["permanent"]) == (
            "rheine", True, True,
        )  # fmt: skip
