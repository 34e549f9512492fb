"""The whole loop across four contexts through the bus, on both stacks: a gap reported in a
Rheine case becomes a coordination topic, is submitted, goes on the agenda of Kreis
Steinfurt's steering group, is voted with Rheine's two members voting with their own
tokens, a working group is mandated, given a pseudonymised timeline of the case and reports
back, the follow-up task is implemented and evaluated with its indicator taken from
Rheine's case-management figures (referrals in the life dimension, before against after,
with the event ids behind each number), and the topic's strategic-cycle step in Rheine's
coordination has moved with every decision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from contexts.case_management.domain import Case
from contexts.coordination.gaps import SystemGap
from runtime.platform import Platform
from tests.case_support import demo_position, open_case, register_person
from tests.steering.support import (
    KI_LEAD,
    RHEINE_CHAIR,
    RHEINE_POST,
    ST,
    created,
    demo_group,
    member_by_subject,
    ok,
    post,
)
from tests.support import Auth, wait_for

COO = "/coordination/tenants/rheine"
CM = "/case_management/tenants/rheine"
KS = f"{ST}/kreis-steinfurt"
PERSON = "Olena Koval"


def _topic_from_a_case_gap(client: TestClient, auth: Auth, platform: Platform) -> tuple[str, str]:
    """A case with a gap reported (education), the gap in a topic, the topic submitted."""
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person = register_person(client, cm, name=PERSON)
    case = open_case(client, cm, person)
    post(client, cm, f"/case_management/tenants/rheine/cases/{case}/gaps", {
        "life_dimension": "education", "on": "2022-05-10",
        "description": "Kein Kita-Platz für das fünfjährige Kind",
    })  # fmt: skip
    (recorded,) = wait_for(
        lambda: platform.store.read_log(
            "rheine", "coordination", topics=[get_topic(SystemGap.Recorded)]
        ),
        "the gap in Rheine's coordination log",
    )
    coordinator = auth("rheine", "coordinator")
    topic = created(client.post(f"{COO}/topics", json={
        "title": "Kita-Plätze für neu zugewanderte Fünfjährige", "life_dimension": "education",
    }, headers=coordinator))  # fmt: skip
    post(client, coordinator, f"{COO}/topics/{topic}/gaps", {"gap_id": str(recorded.originator_id)})
    post(
        client, coordinator, f"{COO}/topics/{topic}/step", {"step": "analysis", "on": "2022-06-01"}
    )
    post(client, coordinator, f"{COO}/topics/{topic}/submit", {
        "on": "2022-06-15", "summary": "Vorrang für neu zugewanderte Fünfjährige bei der Kita",
    })  # fmt: skip
    _referrals(client, cm, str(case), person)
    return topic, str(case)


def _linking(client: TestClient, cm: dict[str, str], case: Any, needs: dict[str, str],
             on: str) -> str:  # fmt: skip
    """The case assessed with ``needs`` on ``on`` and in linking (Leistungssteuerung)."""
    url = f"{CM}/cases/{case}"
    post(client, cm, f"{url}/assessment", {"needs": needs, "on": on})
    post(client, cm, f"{url}/goals", {"goals": dict.fromkeys(needs, "Kita-Platz"), "on": on})
    post(client, cm, f"{url}/linking", {"on": on})
    return str(case)


def _referrals(client: TestClient, cm: dict[str, str], case: str, person: Any) -> None:
    """Referrals in Rheine's case management: what the indicator counts (life dimension
    education, to the Jugendamt) and what it leaves out (another service, a case without a
    need in education). 2022: one counted; 2023: two counted."""
    other = register_person(client, cm, name="Mariam H.", consent_on="2023-01-02")
    third = register_person(client, cm, name="Yusuf T.", consent_on="2023-01-02")
    for who, on in ((person, "2022-05-12"), (other, "2023-01-02"), (third, "2023-01-02")):
        for recipient in ("jugendamt-rheine", "jmd-rheine"):
            post(client, cm, f"{CM}/people/{who}/consents",
                 {"purpose": "referral", "recipient": recipient, "given_on": on})  # fmt: skip
    case_of = {
        "first": _linking(client, cm, case, {"education": "high"}, "2022-05-12"),
        "other": _linking(client, cm, open_case(client, cm, other, opened_on="2023-01-10"),
                          {"education": "high", "language": "low"}, "2023-01-10"),
        "third": _linking(client, cm, open_case(client, cm, third, opened_on="2023-01-10"),
                          {"language": "high"}, "2023-01-10"),
    }  # fmt: skip
    for which, service, recipient, on in (
        ("first", "youth_office", "jugendamt-rheine", "2022-05-20"),  # before: counted
        ("first", "jmd", "jmd-rheine", "2022-06-01"),  # another service
        ("other", "youth_office", "jugendamt-rheine", "2023-02-01"),  # after: counted
        ("third", "youth_office", "jugendamt-rheine", "2023-03-01"),  # no need in education
        ("first", "youth_office", "jugendamt-rheine", "2023-04-03"),  # after: counted
    ):
        post(client, cm, f"{CM}/cases/{case_of[which]}/referrals",
             {"service": service, "recipient": recipient, "on": on})  # fmt: skip


def _case_events(platform: Platform, kind: Any) -> list[str]:
    records = platform.store.read_log("rheine", "case_management", topics=[get_topic(kind)])
    return [str(r.event_id) for r in records]


def _report_rows(client: TestClient, headers: dict[str, str], year: int) -> dict[str, Any]:
    path = f"/audit/tenants/kreis-steinfurt/yearly-report/{year}"
    report = ok(client.get(path, headers=headers))
    return {
        row["key"]: row
        for section in report["sections"]
        for table in section["tables"]
        for row in table["rows"]
    }


def test_a_gap_in_a_case_goes_round_the_strategic_cycle_through_the_districts_group(
    client: TestClient, auth: Auth, token: Callable[..., str], platform: Platform
) -> None:
    topic, case = _topic_from_a_case_gap(client, auth, platform)
    district = auth("kreis-steinfurt", "district_coordinator")
    submissions = wait_for(
        lambda: ok(client.get(f"{ST}/rheine/submissions", headers=district)),
        "the submission in Rheine's steering log",
    )
    (submission,) = [s for s in submissions if s["topic_id"] == topic]

    group = demo_group(client, district, "kreis-steinfurt")
    members = {s: member_by_subject(group, s) for s in (KI_LEAD, RHEINE_POST, RHEINE_CHAIR)}
    meeting = created(client.post(f"{KS}/meetings", json={
        "group_id": group["id"], "title": "3. Sitzung", "scheduled_for": "2022-09-01",
    }, headers=district))  # fmt: skip
    post(client, district, f"{KS}/meetings/{meeting}/agenda/submissions",
         {"from_tenant": "rheine", "submission_id": submission["id"]})  # fmt: skip
    post(client, district, f"{KS}/meetings/{meeting}/invitation", {"sent_on": "2022-08-15"})
    post(client, district, f"{KS}/meetings/{meeting}/held",
         {"held_on": "2022-09-01", "present": list(members.values())})  # fmt: skip

    resolution = created(client.post(f"{KS}/resolutions", json={
        "meeting_id": meeting, "item": 1,
        "title": "Neu zugewanderte Fünfjährige erhalten Vorrang bei der Kita-Platzvergabe",
    }, headers=district))  # fmt: skip
    rheine_post = {"Authorization": "Bearer " + token("rheine", "steering_member",
                                                      subject=RHEINE_POST)}  # fmt: skip
    chair = {"Authorization": "Bearer " + token("rheine", "steering_member", subject=RHEINE_CHAIR)}
    # What a member of another tenant reads follows the group: Rheine's members read it.
    assert ok(client.get(f"{KS}/meetings/{meeting}", headers=chair))["state"] == "held"
    for headers, subject, vote in ((rheine_post, RHEINE_POST, "for"),
                                   (chair, RHEINE_CHAIR, "for"),
                                   (district, KI_LEAD, "abstain")):  # fmt: skip
        post(client, headers, f"{KS}/resolutions/{resolution}/votes",
             {"member_id": members[subject], "vote": vote})  # fmt: skip
    passed = post(client, district, f"{KS}/resolutions/{resolution}/result", {"on": "2022-09-01"})
    assert passed["events"][0]["type"] == "ResolutionPassed"

    wg = created(client.post(f"{KS}/working-groups", json={
        "resolution_id": resolution, "name": "AG Kita-Zugang", "on": "2022-09-02",
        "mandate": "Den typischen Fall rekonstruieren: wo geht der Kita-Platz verloren?",
        "members": [{"institution": "Jugendamt Rheine", "role": "Kita-Bedarfsplanung"}],
    }, headers=district))  # fmt: skip
    rheine_coordinator = auth("rheine", "coordinator")
    post(client, rheine_coordinator, f"{KS}/working-groups/{wg}/timelines",
         {"case_tenant": "rheine", "case_ids": [case], "on": "2022-09-10"})  # fmt: skip
    papers = client.get(f"{KS}/working-groups/{wg}", headers=chair)
    (timeline,) = ok(papers)["timelines"]
    assert timeline["gaps"] == [{"life_dimension": "education", "reported_on": "2022-05-10"}]
    assert timeline["states"][0]["state"] == "intake"
    assert case not in papers.text
    assert PERSON not in papers.text
    assert "person" not in str(timeline.keys())

    later = created(client.post(f"{KS}/meetings", json={
        "group_id": group["id"], "title": "4. Sitzung", "scheduled_for": "2022-12-01",
    }, headers=district))  # fmt: skip
    post(client, district, f"{KS}/working-groups/{wg}/report", {
        "meeting_id": later, "on": "2022-11-15",
        "summary": "Anmeldung zur Kita direkt in der Erstberatung; Vorrangliste im Jugendamt",
    })  # fmt: skip
    agenda = ok(client.get(f"{KS}/meetings/{later}", headers=district))["agenda"]
    assert [i["source"] for i in agenda] == ["working_group"]

    post(client, district, f"{KS}/resolutions/{resolution}/tasks", {
        "title": "Vorrangregel in der Kita-Platzvergabe", "owner_institution": "Jugendamt Rheine",
        "due_on": "2023-03-01",
    })  # fmt: skip
    status = f"{KS}/resolutions/{resolution}/status"
    post(client, district, status, {"status": "in_implementation", "on": "2022-12-01"})
    post(client, district, f"{KS}/resolutions/{resolution}/tasks/1/done", {"on": "2023-02-15"})
    post(client, district, status, {"status": "implemented", "on": "2023-03-01"})
    # The indicator from case management's figures: Rheine's (the topic's tenant) referrals
    # to the Jugendamt in cases with a need in education, 2022 against 2023 up to August.
    evaluated = post(client, district, status, {
        "status": "evaluated", "on": "2023-09-01", "evaluation": {"figure": {
            "life_dimension": "education", "service": "youth_office",
            "before": {"from": "2022-01-01", "to": "2022-12-31"},
            "after": {"from": "2023-01-01", "to": "2023-08-31"},
        }},
    })  # fmt: skip
    assert evaluated["events"][0]["type"] == "ResolutionEvaluated"
    proposed, assessed = (
        _case_events(platform, Case.ReferralProposed),
        _case_events(platform, Case.Assessed),
    )
    seen = ok(client.get(f"{KS}/resolutions/{resolution}", headers=chair))
    found = seen["evaluation"]
    indicator = "Verweisungen im Lebensbereich Bildung an Jugendamt (SGB VIII)"
    assert (found["indicator"], found["before"], found["after"]) == (indicator, "1", "2")
    before_part, after_part = found["source"].split("Nachher")
    assert "Kennzahl aus dem Case Management rheine" in before_part
    assert "01.01.2022–31.12.2022: 1" in before_part
    assert "01.01.2023–31.08.2023: 2" in after_part
    counted = {0: before_part, 2: after_part, 4: after_part}  # referrals the figure counts
    for index, event_id in enumerate(proposed):
        assert (event_id in found["source"]) == (index in counted), (index, found["source"])
        if index in counted:
            assert event_id in counted[index]
    assert assessed[0] in before_part
    assert assessed[0] in after_part
    assert assessed[1] in after_part
    assert assessed[2] not in found["source"]
    # The steering member sees the numbers and event ids, no personal data, no case.
    assert PERSON not in str(seen)
    assert case not in str(seen)

    def moved() -> dict[str, Any] | None:
        view: dict[str, Any] = ok(client.get(f"{COO}/topics/{topic}", headers=rheine_coordinator))
        return view if view["step"] == "evaluation" else None

    view = wait_for(moved, "the topic's cycle step moved by the steering group's decisions")
    assert [s["step"] for s in view["history"]] == [
        "analysis", "planning_and_steering", "implementation", "evaluation",
    ]  # fmt: skip
    (link,) = view["chain"]
    assert (link["actor"], link["done"]) == ("Jugendamt Rheine", "2023-02-15")
    figures = f'{{ steeringFigures(tenant: "kreis-steinfurt", atPosition: {evaluated["position"]})'
    figures += " { meetingsHeld workingGroups timelines resolutions { status count } } }"
    answer = client.post("/graphql", json={"query": figures}, headers=chair).json()
    assert answer["data"]["steeringFigures"]["resolutions"] == [{"status": "evaluated", "count": 1}]
    assert answer["data"]["steeringFigures"]["timelines"] == 1

    # The district's yearly report for 2022 holds exactly those facts, as they stood on
    # 31 December 2022 (the evaluation of 2023 is not yet in it), each with its events.
    rows = _report_rows(client, district, 2022)
    assert rows["gap:education"]["values"]["count"] == "1"
    # The topic as it stood that day: implementation, its link not yet done.
    assert rows[f"topic:{topic}"]["cells"][2:] == ["Umsetzung", "0 von 1", "15.06.2022"]
    assert rows["steering:meetings"]["values"]["count"] == "1"  # the 4th is not held yet
    assert rows["steering:passed"]["values"]["count"] == "1"
    assert rows["steering:working_groups"]["values"]["count"] == "1"
    decided = rows[f"resolution:{resolution}"]
    assert decided["cells"][2:6] == ["2/0/1", "in Umsetzung", "0 von 1", "–"], decided
    logged = platform.store.read_log("kreis-steinfurt", "steering")
    of_resolution = {str(r.event_id) for r in logged if str(r.originator_id) == resolution}
    assert set(decided["events"]) < of_resolution  # its events, without those of 2023
    evaluation = [r for r in logged if r.position == evaluated["position"]]
    assert str(evaluation[0].event_id) not in decided["events"]
    # 2023's report holds the resolution of 2022 whose implementation and evaluation went
    # on in 2023, with the indicator, without counting it as a resolution of 2023.
    rows = _report_rows(client, district, 2023)
    assert rows["steering:passed"]["values"]["count"] == "0"
    assert rows[f"resolution:{resolution}"]["cells"][3:] == [
        "evaluiert", "1 von 1",
        f"{indicator}: vorher 1, nachher 2",
    ]  # fmt: skip
    assert str(evaluation[0].event_id) in rows[f"resolution:{resolution}"]["events"]
    assert rows[f"topic:{topic}"]["cells"][2:4] == ["Evaluation", "1 von 1"]
    markdown = client.get(
        "/audit/tenants/kreis-steinfurt/yearly-report/2022?format=md", headers=district
    )
    assert "Neu zugewanderte Fünfjährige erhalten Vorrang" in markdown.text
    assert PERSON not in markdown.text
