"""The evaluation's indicator from case management's figures: refused as RFC 9457 problems
naming the field (periods inverted, in the future, overlapping; an unknown life dimension or
service; both forms or none), nothing appended; a resolution without a coordination topic
counts in its group's tenant. (The counts of the loop: ``test_full_loop``.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.steering.support import (
    KI_LEAD,
    RHEINE_CHAIR,
    RHEINE_POST,
    ST,
    created,
    demo_group,
    held_meeting,
    member_by_subject,
    ok,
    post,
    refused,
)
from tests.support import Auth

KS = f"{ST}/kreis-steinfurt"


@pytest.fixture
def stack() -> str:
    return "embedded"


def _resolution(client: TestClient, district: dict[str, str], *, implemented: bool) -> str:
    """A resolution on a member's item (no coordination topic), passed, maybe implemented."""
    group = demo_group(client, district, "kreis-steinfurt")
    members = [member_by_subject(group, s) for s in (KI_LEAD, RHEINE_POST, RHEINE_CHAIR)]
    meeting = held_meeting(client, district, "kreis-steinfurt", group["id"], members)
    resolution = created(client.post(f"{KS}/resolutions", json={
        "meeting_id": meeting, "item": 1, "title": "Vorrang bei der Kita-Platzvergabe"},
        headers=district))  # fmt: skip
    for member in members:
        post(client, district, f"{KS}/resolutions/{resolution}/votes",
             {"member_id": member, "vote": "for"})  # fmt: skip
    post(client, district, f"{KS}/resolutions/{resolution}/result", {"on": "2022-02-01"})
    if implemented:
        base = f"{KS}/resolutions/{resolution}"
        post(client, district, f"{base}/tasks", {"title": "Vorrangregel",
             "owner_institution": "Jugendamt", "due_on": "2022-06-01"})  # fmt: skip
        post(
            client, district, f"{base}/status", {"status": "in_implementation", "on": "2022-03-01"}
        )
        post(client, district, f"{base}/tasks/1/done", {"on": "2022-05-01"})
        post(client, district, f"{base}/status", {"status": "implemented", "on": "2022-06-01"})
    return resolution


def _figure(**changes: Any) -> dict[str, Any]:
    figure: dict[str, Any] = {
        "life_dimension": "education", "service": "youth_office",
        "before": {"from": "2021-01-01", "to": "2021-12-31"},
        "after": {"from": "2022-01-01", "to": "2022-06-30"},
    }  # fmt: skip
    return figure | changes


def _evaluated(on: str = "2022-07-01", **evaluation: Any) -> dict[str, Any]:
    return {"status": "evaluated", "on": on, "evaluation": evaluation}


def test_a_figure_with_bad_periods_or_codes_is_refused_naming_the_field_and_appends_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    district = auth("kreis-steinfurt", "district_coordinator")
    status = f"{KS}/resolutions/{_resolution(client, district, implemented=True)}/status"
    heads = (platform.store, platform.store.heads())

    def no(body: dict[str, Any], rule: str, field: str, code: int = 422) -> None:
        problem = refused(client, heads, status, body, district, code, rule)
        assert field in [e["field"] for e in problem.get("errors") or []], problem

    period = {"from": "2022-06-30", "to": "2022-01-01"}
    no(_evaluated(figure=_figure(after=period)), "period-inverted", "evaluation.figure.after.to")
    no(_evaluated(figure=_figure(before={"from": "2021-12-31", "to": "2021-01-01"})),
       "period-inverted", "evaluation.figure.before.to")  # fmt: skip
    no(_evaluated(on="2022-06-15", figure=_figure()), "period-in-future",
       "evaluation.figure.after.to")  # ends after the evaluation day  # fmt: skip
    no(_evaluated(on="2099-12-31", figure=_figure(after={"from": "2022-01-01",
       "to": "2099-06-30"})), "period-in-future", "evaluation.figure.after.to")  # fmt: skip
    no(_evaluated(figure=_figure(after={"from": "2021-12-01", "to": "2022-06-30"})),
       "periods-overlap", "evaluation.figure.after.from")  # fmt: skip
    no(_evaluated(figure=_figure(life_dimension="kita")), "unknown-life-dimension",
       "evaluation.figure.life_dimension")  # fmt: skip
    no(_evaluated(figure=_figure(service="kita_office")), "unknown-service",
       "evaluation.figure.service")  # fmt: skip
    no(_evaluated(figure=_figure(), indicator="Kita", before="1", after="2", source="Zählung"),
       "validation-failed", "evaluation")  # both forms  # fmt: skip
    no(_evaluated(readjust=True), "validation-failed", "evaluation")  # neither form
    no(_evaluated(figure=_figure(before={"start": "2021-01-01", "to": "2021-12-31"})),
       "validation-failed", "evaluation.figure.before.from")  # fmt: skip


def test_a_figure_waits_for_the_implementation_and_counts_in_the_groups_tenant_without_topic(
    client: TestClient, auth: Auth, token: Callable[..., str], platform: Platform
) -> None:
    district = auth("kreis-steinfurt", "district_coordinator")
    passed = _resolution(client, district, implemented=False)
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{KS}/resolutions/{passed}/status", _evaluated(figure=_figure()),
            district, 422, "not-implemented")  # fmt: skip
    resolution = _resolution(client, district, implemented=True)
    chair = {"Authorization": "Bearer " + token("rheine", "steering_member", subject=RHEINE_CHAIR)}
    refused(client, (platform.store, platform.store.heads()),
            f"{KS}/resolutions/{resolution}/status", _evaluated(figure=_figure()), chair, 403,
            "role-not-allowed")  # the post evaluates, a member does not  # fmt: skip
    post(client, district, f"{KS}/resolutions/{resolution}/status",
         _evaluated(figure=_figure(service=None), readjust=True))  # fmt: skip
    found = ok(client.get(f"{KS}/resolutions/{resolution}", headers=chair))["evaluation"]
    assert found["indicator"] == "Verweisungen im Lebensbereich Bildung"
    assert (found["before"], found["after"], found["readjust"]) == ("0", "0", True)
    assert "Case Management kreis-steinfurt" in found["source"]
    assert "01.01.2021–31.12.2021: 0 (Ereignisse: keine)" in found["source"]
