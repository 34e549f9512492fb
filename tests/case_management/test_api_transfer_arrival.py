"""A case taken over from another tenant arrives unassigned: only the destination's
coordinators see it until their post assigns it; no case manager reads or takes it before."""

from __future__ import annotations

from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.case_support import CM, demo_position, note_position, ok, open_case, register_person
from tests.support import Auth, assert_problem, wait_for

RHEINE = CM.format(tenant="rheine")
EMSDETTEN = CM.format(tenant="emsdetten")


def test_a_transferred_case_is_for_the_destinations_post_until_it_assigns_it(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person = register_person(client, cm, name="Halyna Marchenko")
    case = open_case(client, cm, person)
    assess = {"needs": {"language": "high"}, "on": "2022-05-03"}
    ok(client.post(f"{RHEINE}/cases/{case}/assessment", json=assess, headers=cm))
    for purpose in ("transfer", "data_handover"):
        consent = {"purpose": purpose, "recipient": "emsdetten", "given_on": "2022-05-03"}
        ok(client.post(f"{RHEINE}/people/{person}/consents", json=consent, headers=cm))
    move = {"to_tenant": "emsdetten", "on": "2022-05-04"}
    ok(client.post(f"{RHEINE}/cases/{case}/transfer", json=move, headers=cm))

    em_post = auth("emsdetten", "coordinator")
    (moved,) = wait_for(
        lambda: ok(client.get(f"{EMSDETTEN}/cases", headers=em_post)), "the case in Emsdetten"
    )
    assert moved["position_id"] is None
    url, moved_person = f"{EMSDETTEN}/cases/{moved['id']}", moved["person_id"]
    em_position = note_position(platform, "emsdetten")
    em_cm = auth("emsdetten", "case_manager", position=em_position)

    # Before the post assigns it, no case manager of Emsdetten sees or takes the case.
    assert ok(client.get(f"{EMSDETTEN}/cases", headers=em_cm)) == []
    take = {"position_id": str(em_position), "on": "2022-05-05"}
    before = platform.store.heads()
    for method, path, body in [
        ("GET", url, None),
        ("GET", f"{url}/notes", None),
        ("POST", f"{url}/assignment", take),
        ("POST", f"{url}/linking", {"on": "2022-05-05"}),
    ]:
        response = client.request(method, path, json=body, headers=em_cm)
        assert_problem(response, 404, "not-found")
        assert "Marchenko" not in response.text
    person_view = client.get(f"{EMSDETTEN}/people/{moved_person}", headers=em_cm)
    assert_problem(person_view, 403, "personal-data-not-allowed")
    assert platform.store.heads() == before

    # The post reads the facts (not the personal data) and assigns the case.
    assert ok(client.get(url, headers=em_post))["state"] == "assessment"
    assert_problem(client.get(f"{url}/notes", headers=em_post), 403, "personal-data-not-allowed")
    ok(client.post(f"{url}/assignment", json=take, headers=em_post))

    # Now the assigned position's case manager works on it, with the handed-over data.
    assert ok(client.get(url, headers=em_cm))["position_id"] == str(em_position)
    seen = ok(client.get(f"{EMSDETTEN}/people/{moved_person}", headers=em_cm))
    assert seen["personal_data"]["name"] == "Halyna Marchenko"
    ok(client.post(f"{url}/goals", json={"goals": {"language": "A2"}, "on": "2022-05-06"},
                   headers=em_cm))  # fmt: skip
    colleague = auth("emsdetten", "case_manager", position=note_position(platform, "emsdetten"))
    assert_problem(client.get(url, headers=colleague), 404, "not-found")
