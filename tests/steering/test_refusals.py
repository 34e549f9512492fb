"""Every rule of the steering group refused over REST as an RFC 9457 problem, with nothing
appended: votes by a non-member, an advisory or an absent member, a second vote, a vote
without quorum; minutes of a meeting not held, editing approved minutes; an invitation too
late; status changes out of order; texts with personal data; stale versions; a submission
of a tenant that is not in the group. (On the embedded stack: the rules are the domain's.)"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from fastapi.testclient import TestClient

from contexts.steering.working_group import submission_id
from projections.steering import application
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


def _advisory(client: TestClient, headers: dict[str, str], group: str) -> str:
    post(client, headers, f"{KS}/groups/{group}/members", {
        "institution": "Jobcenter Kreis Steinfurt", "member_tenant": "kreis-steinfurt",
        "role": "Beratung", "voting": False, "valid_from": "2021-09-01",
        "subject": "ks-lg-jobcenter",
    })  # fmt: skip
    view = ok(client.get(f"{KS}/groups/{group}", headers=headers))
    return member_by_subject(view, "ks-lg-jobcenter")


def test_votes_follow_the_rules_of_procedure_and_refusals_append_nothing(
    client: TestClient, auth: Auth, token: Callable[..., str], platform: Platform
) -> None:
    district = auth("kreis-steinfurt", "district_coordinator")
    group = demo_group(client, district, "kreis-steinfurt")
    ki, rh, chair = (member_by_subject(group, s) for s in (KI_LEAD, RHEINE_POST, RHEINE_CHAIR))
    advisory = _advisory(client, district, group["id"])
    meeting = held_meeting(client, district, "kreis-steinfurt", group["id"], [ki, rh, advisory])
    resolution = created(client.post(f"{KS}/resolutions", json={
        "meeting_id": meeting, "item": 1, "title": "Vorrang bei der Kita-Platzvergabe"},
        headers=district))  # fmt: skip
    votes = f"{KS}/resolutions/{resolution}/votes"
    heads = (platform.store, platform.store.heads())
    outsider = {"Authorization": "Bearer " + token("emsdetten", "steering_member", subject="x")}
    chair_token = {"Authorization": "Bearer " + token("rheine", "steering_member",
                                                      subject=RHEINE_CHAIR)}  # fmt: skip
    refused(client, heads, votes, {"member_id": "no-member", "vote": "for"}, district, 422,
            "not-a-member")  # fmt: skip
    refused(client, heads, votes, {"member_id": ki, "vote": "for"}, outsider, 403, "not-a-member")
    refused(client, heads, votes, {"member_id": ki, "vote": "for"}, chair_token, 403,
            "not-a-member")  # the chair votes for itself only  # fmt: skip
    refused(client, heads, votes, {"member_id": advisory, "vote": "for"}, district, 422,
            "advisory-member")  # fmt: skip
    refused(client, heads, votes, {"member_id": chair, "vote": "for"}, chair_token, 422,
            "member-absent")  # fmt: skip
    refused(client, heads, f"{KS}/resolutions/{resolution}/result", {"on": "2022-02-01"},
            district, 422, "no-votes")  # fmt: skip
    post(client, district, votes, {"member_id": ki, "vote": "for"})
    heads = (platform.store, platform.store.heads())
    refused(client, heads, votes, {"member_id": ki, "vote": "against"}, district, 409,
            "already-voted")  # fmt: skip
    refused(client, heads, votes, {"member_id": rh, "vote": "for", "expected_version": 1},
            district, 409, "stale-version")  # fmt: skip
    refused(client, heads, f"{KS}/resolutions/{resolution}/tasks", {
        "title": "Vorrangregel", "owner_institution": "Jugendamt", "due_on": "2022-06-01"},
        district, 422, "resolution-not-passed")  # fmt: skip
    post(client, district, f"{KS}/resolutions/{resolution}/result", {"on": "2022-02-01"})
    heads = (platform.store, platform.store.heads())
    refused(client, heads, votes, {"member_id": rh, "vote": "for"}, district, 409,
            "voting-closed")  # fmt: skip
    status = f"{KS}/resolutions/{resolution}/status"
    refused(client, heads, status, {"status": "in_implementation", "on": "2022-03-01"},
            district, 422, "no-follow-up-task")  # fmt: skip
    refused(client, heads, status, {"status": "implemented", "on": "2022-03-01"}, district, 409,
            "status-not-allowed")  # fmt: skip
    refused(client, heads, status, {"status": "evaluated", "on": "2022-03-01", "evaluation": {
        "indicator": "Kita", "before": "1", "after": "2", "source": "Zählung"}}, district, 422,
        "not-implemented")  # fmt: skip
    task = {"title": "Vorrangregel", "owner_institution": "Jugendamt", "due_on": "2022-06-01"}
    post(client, district, f"{KS}/resolutions/{resolution}/tasks", task)
    heads = (platform.store, platform.store.heads())
    refused(
        client,
        heads,
        status,
        {"status": "in_implementation", "on": "2022-01-31"},
        district,
        422,
        "date-before-last-step",
    )  # fmt: skip  (the result: 2022-02-01)
    # Without quorum (1 of 3 voting members present) no vote is taken.
    meeting = held_meeting(client, district, "kreis-steinfurt", group["id"], [ki], on="2022-03-01")
    view = ok(client.get(f"{KS}/meetings/{meeting}", headers=district))
    assert view["attendance"] == {"voting_members": 3, "present_voting": 1,
                                  "present_advisory": 0, "quorum_reached": False}  # fmt: skip
    resolution = created(client.post(f"{KS}/resolutions", json={
        "meeting_id": meeting, "item": 1, "title": "Vorrang"}, headers=district))  # fmt: skip
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{KS}/resolutions/{resolution}/votes",
            {"member_id": ki, "vote": "for"}, district, 422, "no-quorum")  # fmt: skip
    refused(client, heads, f"{KS}/resolutions/{resolution}/result", {"on": "2022-02-01"},
            district, 422, "no-quorum")  # fmt: skip


def test_minutes_and_agenda_follow_the_rules_of_procedure_and_refusals_append_nothing(
    client: TestClient, auth: Auth, platform: Platform
) -> None:
    district = auth("kreis-steinfurt", "district_coordinator")
    group = demo_group(client, district, "kreis-steinfurt")
    present = [member_by_subject(group, s) for s in (KI_LEAD, RHEINE_POST)]
    base = f"{KS}/meetings"
    scheduled = created(client.post(base, json={
        "group_id": group["id"], "title": "Sitzung", "scheduled_for": "2022-03-01"},
        headers=district))  # fmt: skip
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{base}/{scheduled}/minutes", {"minutes": "Ergebnis", "on":
            "2022-03-02"}, district, 422, "meeting-not-held")  # fmt: skip
    refused(client, heads, f"{base}/{scheduled}/invitation", {"sent_on": "2022-02-01"},
            district, 422, "agenda-empty")  # fmt: skip
    refused(client, heads, f"{base}/{scheduled}/held", {"held_on": "2022-03-01",
            "present": present}, district, 422, "not-invited")  # fmt: skip
    retried = {**district, "Idempotency-Key": "agenda-kita-0001"}
    first_try = ok(client.post(f"{base}/{scheduled}/agenda", json={"title": "Kita-Plätze"},
                               headers=retried))  # fmt: skip
    again = client.post(f"{base}/{scheduled}/agenda", json={"title": "Kita-Plätze"},
                        headers=retried)  # fmt: skip
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == first_try
    assert len(ok(client.get(f"{base}/{scheduled}", headers=district))["agenda"]) == 1
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{base}/{scheduled}/invitation", {"sent_on": "2022-02-25"},
            district, 422, "invitation-too-late")  # 7 days ahead  # fmt: skip
    refused(client, heads, f"{base}/{scheduled}/agenda", {"title": "Fall von Herr Yilmaz"},
            district, 422, "personal-data-in-text")  # fmt: skip

    first = held_meeting(client, district, "kreis-steinfurt", group["id"], present,
                         on="2022-04-01")  # fmt: skip
    post(client, district, f"{base}/{first}/minutes", {"minutes": "Beschluss vertagt",
                                                       "on": "2022-04-02"})  # fmt: skip
    post(client, district, f"{base}/{first}/minutes", {"minutes": "Beschluss vertagt (korr.)",
                                                       "on": "2022-04-03"})  # fmt: skip
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{base}/{first}/minutes/approval", {"at_meeting": first,
            "on": "2022-04-03"}, district, 422, "not-a-later-meeting")  # fmt: skip
    refused(client, heads, f"{base}/{first}/minutes/amendments", {"amendment": "Zusatz",
            "at_meeting": first, "on": "2022-04-03"}, district, 422,
            "minutes-not-approved")  # fmt: skip
    second = held_meeting(client, district, "kreis-steinfurt", group["id"], present,
                          on="2022-06-01")  # fmt: skip
    post(client, district, f"{base}/{first}/minutes/approval",
         {"at_meeting": second, "on": "2022-06-01"})  # fmt: skip
    heads = (platform.store, platform.store.heads())
    refused(client, heads, f"{base}/{first}/minutes", {"minutes": "Neu", "on": "2022-06-02"},
            district, 409, "minutes-approved")  # fmt: skip
    refused(client, heads, f"{base}/{first}/minutes/approval", {"at_meeting": second,
            "on": "2022-06-02"}, district, 409, "minutes-approved")  # fmt: skip
    refused(client, heads, f"{base}/{second}/agenda/carried-over", {"from_meeting": first,
            "item": 1}, district, 409, "meeting-held")  # fmt: skip
    post(
        client,
        district,
        f"{base}/{first}/minutes/amendments",
        {"amendment": "TOP 1: Frist bis Juni", "at_meeting": second, "on": "2022-06-01"},
    )
    view = ok(client.get(f"{base}/{first}", headers=district))
    assert view["minutes"] == "Beschluss vertagt (korr.)"  # never edited once approved
    assert [a["amendment"] for a in view["amendments"]] == ["TOP 1: Frist bis Juni"]
    third = created(client.post(base, json={
        "group_id": group["id"], "title": "Sitzung", "scheduled_for": "2022-09-01"},
        headers=district))  # fmt: skip
    post(
        client, district, f"{base}/{third}/agenda/carried-over", {"from_meeting": first, "item": 1}
    )
    assert ok(client.get(f"{base}/{third}", headers=district))["agenda"][0]["carried_from"] == {
        "meeting_id": first, "item": 1}  # fmt: skip
    # A group takes submissions of its tenant and its member tenants only.
    application(platform, "emsdetten").receive_submission(
        topic_id="00000000-0000-4000-8000-000000000001", summary="Wohnraum",
        on=date(2022, 1, 2), event_id="e-1",
    )  # fmt: skip
    meeting = created(client.post(f"{KS}/meetings", json={
        "group_id": group["id"], "title": "Sitzung", "scheduled_for": "2022-03-01"},
        headers=district))  # fmt: skip
    heads = (platform.store, platform.store.heads())
    body = {"from_tenant": "emsdetten", "submission_id": str(submission_id("emsdetten", "e-1"))}
    refused(client, heads, f"{KS}/meetings/{meeting}/agenda/submissions", body, district, 422,
            "submission-not-for-group")  # fmt: skip
    body = {"from_tenant": "rheine", "submission_id": str(submission_id("rheine", "e-1"))}
    refused(client, heads, f"{KS}/meetings/{meeting}/agenda/submissions", body, district, 404,
            "not-found")  # fmt: skip
