"""The steering group's pages over HTTP: Kreis Steinfurt's coordination post schedules a
meeting, puts an item on the agenda, invites, records attendance, a resolution, its votes
and a follow-up task; a member from Rheine reads the group, the meeting and the resolution;
refusals show German errors next to their fields and append nothing; a repeated submit
appends once; a case manager and another district's post get German refusal pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient

from runtime.platform import Platform
from tests.conftest import settle
from tests.web.pages_support import (
    embedded_settings,
    errors,
    forms,
    pages_client,
    post_form,
    sign_in,
)

KS = "kreis-steinfurt"
GROUP = re.compile(r'href="(/lenkungsgruppen/kreis-steinfurt/gruppen/[0-9a-f-]{36})"')
PRESENT = re.compile(r'name="present" value="([^"]+)"')
VOTER = re.compile(r'<option value="([^"]+)"[^>]*>([^<]*)</option>')


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("steering-pages"))) as found:
        yield found  # the demo seats Rheine's post in the district's group by its position


@pytest.fixture
def client(served: tuple[TestClient, Platform]) -> Iterator[TestClient]:
    c, _ = served
    c.cookies.clear()
    yield c
    c.cookies.clear()


@pytest.fixture
def platform(served: tuple[TestClient, Platform]) -> Platform:
    return served[1]


def head(platform: Platform) -> int:
    return platform.store.head(KS, "steering")


def _group_page(client: TestClient) -> str:
    found = GROUP.findall(client.get("/lenkungsgruppen").text)
    assert found, "Kreis Steinfurt's group is not listed"
    return str(found[0])


def _held_meeting(client: TestClient, platform: Platform) -> str:
    """As the district's post: a meeting scheduled, an item, invited, held with all."""
    group = _group_page(client)
    done = post_form(
        client,
        group,
        f"{group}/sitzungen",
        {"title": "3. Sitzung der Lenkungsgruppe", "scheduled_for": "2030-03-01"},
    )
    assert done.status_code == 303, done.text
    meeting = str(done.headers["location"]).split("?")[0]
    assert (
        post_form(
            client,
            meeting,
            f"{meeting}/tagesordnung",
            {"title": "Kita-Plätze für neu zugewanderte Fünfjährige"},
        ).status_code
        == 303
    )
    assert (
        post_form(client, meeting, f"{meeting}/einladung", {"sent_on": "2030-02-01"}).status_code
        == 303
    )
    page = client.get(meeting).text
    fields = forms(page)[f"{meeting}/anwesenheit"]
    done = client.post(
        f"{meeting}/anwesenheit",
        follow_redirects=False,
        data={**fields, "held_on": "2030-03-01", "present": PRESENT.findall(page)},
    )
    assert done.status_code == 303, errors(done.text)
    return meeting


def _resolution(client: TestClient, meeting: str) -> str:
    done = post_form(
        client,
        meeting,
        f"{meeting}/beschluesse",
        {"item": "1", "title": "Zusätzliche Kita-Plätze schaffen"},
    )
    assert done.status_code == 303, errors(done.text)
    return str(done.headers["location"]).split("?")[0]


def test_the_post_runs_a_meeting_through_the_forms_and_a_rheine_member_reads_it(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "district_coordinator", KS)
    meeting = _held_meeting(client, platform)
    page = client.get(meeting).text
    assert "Beschlussfähig." in page
    assert "Antrag eines Mitglieds" in page
    resolution = _resolution(client, meeting)
    page = client.get(resolution).text
    for member_id, _shown in VOTER.findall(page)[:3]:
        done = post_form(
            client, resolution, f"{resolution}/stimmen", {"member_id": member_id, "vote": "for"}
        )
        assert done.status_code == 303, errors(done.text)
    assert (
        post_form(client, resolution, f"{resolution}/ergebnis", {"on": "2030-03-01"}).status_code
        == 303
    )
    done = post_form(
        client,
        resolution,
        f"{resolution}/auftraege",
        {
            "title": "Bedarf an Kita-Plätzen erheben",
            "owner_institution": "Jugendamt Kreis Steinfurt",
            "due_on": "2021-01-31",
        },
    )
    assert done.status_code == 303, errors(done.text)
    before = head(platform)
    refused = post_form(
        client, resolution, f"{resolution}/stand", {"status": "implemented", "on": "2030-04-01"}
    )
    assert refused.status_code == 409
    assert "Dieser Stand ist jetzt nicht möglich." in refused.text
    assert f"{resolution}/evaluation" not in forms(client.get(resolution).text)  # not implemented
    assert head(platform) == before
    assert (
        post_form(
            client,
            resolution,
            f"{resolution}/stand",
            {"status": "in_implementation", "on": "2030-04-01"},
        ).status_code
        == 303
    )
    settle(platform)

    client.cookies.clear()
    sign_in(client, "steering_member", "rheine", subject="rheine-koordinierungsstelle")
    groups = client.get("/lenkungsgruppen")
    assert groups.status_code == 200
    assert "Lenkungsgruppe KIM Kreis Steinfurt" in groups.text
    assert "Sie sind Mitglied dieser Gruppe." in groups.text
    group = client.get(_group_page(client))
    assert "3. Sitzung der Lenkungsgruppe" in group.text
    assert set(forms(group.text)) == {"/abmelden"}  # no schedule form for a member
    read = client.get(meeting)
    assert read.status_code == 200
    assert "Kita-Plätze für neu zugewanderte Fünfjährige" in read.text
    assert set(forms(read.text)) == {"/abmelden"}  # a member runs no command
    shown = client.get(resolution).text
    assert "Ja: 3, Nein: 0, Enthaltung: 0." in shown
    assert "angenommen" in shown
    assert "Umsetzung begonnen" in shown
    overview = client.get("/lenkungsgruppen/beschluesse").text
    assert overview.index("überfällig") < overview.index("Beschlussempfehlungen (")
    assert "Bedarf an Kita-Plätzen erheben" in overview


def _implemented(client: TestClient, platform: Platform) -> str:
    """A resolution passed, its task done and implemented, by the district's post."""
    resolution = _resolution(client, _held_meeting(client, platform))
    for member_id, _shown in VOTER.findall(client.get(resolution).text)[:3]:
        post_form(
            client, resolution, f"{resolution}/stimmen", {"member_id": member_id, "vote": "for"}
        )
    steps = [
        ("ergebnis", {"on": "2030-03-01"}),
        ("auftraege", {"title": "Kita-Plätze melden", "owner_institution": "Jugendamt",
                       "due_on": "2030-06-30"}),
        ("stand", {"status": "in_implementation", "on": "2030-04-01"}),
        ("auftraege/1/erledigt", {"on": "2030-05-01"}),
        ("stand", {"status": "implemented", "on": "2030-05-02"}),
    ]  # fmt: skip
    for action, fields in steps:
        done = post_form(client, resolution, f"{resolution}/{action}", fields)
        assert done.status_code == 303, (action, errors(done.text), done.text[-2000:])
    return resolution


FIGURE = {
    "on": "2030-05-03", "life_dimension": "education", "service": "youth_office",
    "before_from": "2022-01-01", "before_to": "2022-12-31",
    "after_from": "2023-01-01", "after_to": "2023-12-31", "readjust": "ja",
}  # fmt: skip


def test_the_post_evaluates_with_the_indicator_counted_from_case_management(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "district_coordinator", KS)
    resolution = _implemented(client, platform)
    page = client.get(resolution).text
    assert {f"{resolution}/evaluation", f"{resolution}/evaluation/von-hand"} <= set(forms(page))
    assert '<option value="">alle Dienste</option>' in page
    assert ">Bildung</option>" in page
    assert ">Jugendamt (SGB VIII)</option>" in page
    before = head(platform)
    refusals = [
        ({"before_from": "2022-12-31", "before_to": "2022-01-01"},
         {"evaluate-before-to": "Das Ende des Zeitraums liegt vor seinem Beginn."}),
        ({"after_from": "2022-06-01"},
         {"evaluate-after-from": "Der Zeitraum nachher beginnt erst nach dem Ende des"
          " Zeitraums vorher."}),
        ({"after_to": "2099-12-31"},
         {"evaluate-after-to": "Der Zeitraum muss am Tag der Evaluation (und heute) schon"
          " vorbei sein."}),
        ({"life_dimension": "astrologie"},
         {"evaluate-life-dimension": "Bitte einen der angebotenen Lebensbereiche wählen."}),
        ({"service": "wahrsagerei"},
         {"evaluate-service": "Bitte einen der angebotenen Dienste wählen."}),
        ({"before_from": ""}, {"evaluate-before-from": "Bitte ein gültiges Datum angeben."}),
    ]  # fmt: skip
    for changed, expected in refusals:
        refused = post_form(client, resolution, f"{resolution}/evaluation", {**FIGURE, **changed})
        assert refused.status_code == 422, changed
        assert errors(refused.text) == expected
        assert 'aria-invalid="true"' in refused.text
        assert "Abgelehnt (" not in refused.text
    assert head(platform) == before  # the refusals appended nothing
    done = post_form(client, resolution, f"{resolution}/evaluation", FIGURE)
    assert done.status_code == 303, errors(done.text)
    assert done.headers["location"].endswith("?erledigt=evaluiert")
    assert head(platform) == before + 1
    shown = client.get(done.headers["location"]).text
    assert "Die Evaluation ist gespeichert." in shown
    assert "Verweisungen im Lebensbereich Bildung an Jugendamt (SGB VIII)" in shown
    assert "Kennzahl aus dem Case Management kreis-steinfurt" in shown
    assert "Vorher 01.01.2022–31.12.2022: 0" in shown
    assert re.search(r"Nachsteuerung</dt><dd[^>]*>nötig<", shown)
    assert f"{resolution}/evaluation" not in forms(shown)  # evaluated once


def test_the_typed_in_indicator_stays_as_a_fallback(client: TestClient, platform: Platform) -> None:
    sign_in(client, "district_coordinator", KS)
    resolution = _implemented(client, platform)
    typed = {"on": "2030-05-03", "indicator": "Kita-Plätze vermittelt", "before": "12",
             "after": "17,5", "source": "Kita-Bedarfsplanung des Jugendamts 2023"}  # fmt: skip
    before = head(platform)
    refused = post_form(client, resolution, f"{resolution}/evaluation/von-hand",
                        {**typed, "indicator": ""})  # fmt: skip
    assert errors(refused.text) == {"hand-indicator": "Bitte ausfüllen."}
    assert head(platform) == before
    done = post_form(client, resolution, f"{resolution}/evaluation/von-hand", typed)
    assert done.status_code == 303, errors(done.text)
    shown = client.get(resolution).text
    assert "Kita-Plätze vermittelt" in shown
    assert "17,5" in shown
    assert "Kita-Bedarfsplanung des Jugendamts 2023" in shown


def test_a_refused_form_shows_the_german_error_next_to_the_field_and_appends_nothing(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "district_coordinator", KS)
    group = _group_page(client)
    refused = post_form(client, group, f"{group}/sitzungen", {"title": " ", "scheduled_for": ""})
    assert refused.status_code == 422
    assert errors(refused.text) == {
        "f-title": "Bitte ausfüllen.",
        "f-scheduled-for": "Bitte ein gültiges Datum angeben.",
    }
    assert 'aria-invalid="true"' in refused.text
    meeting = _held_meeting(client, platform)
    before = head(platform)
    resolution = _resolution(client, meeting)
    after_propose = head(platform)
    assert after_propose == before + 1
    refused = post_form(client, resolution, f"{resolution}/ergebnis", {"on": "2030-03-01"})
    assert refused.status_code == 422
    assert "Es wurde noch keine Stimme abgegeben." in refused.text
    member_id = VOTER.findall(client.get(resolution).text)[0][0]
    refused = post_form(
        client, resolution, f"{resolution}/stimmen", {"member_id": member_id, "vote": ""}
    )
    assert errors(refused.text) == {"vote-vote": "Bitte einen der angebotenen Werte wählen."}
    assert head(platform) == after_propose  # the refusals appended nothing


def test_a_repeated_submit_appends_once(client: TestClient, platform: Platform) -> None:
    sign_in(client, "district_coordinator", KS)
    group = _group_page(client)
    fields = {
        **forms(client.get(group).text)[f"{group}/sitzungen"],
        "title": "Sondersitzung",
        "scheduled_for": date.today().isoformat(),
    }
    before = head(platform)
    first = client.post(f"{group}/sitzungen", data=fields, follow_redirects=False)
    again = client.post(f"{group}/sitzungen", data=fields, follow_redirects=False)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    assert head(platform) == before + 1


def test_others_get_german_refusal_pages_and_never_a_500(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "district_coordinator", KS)
    group = _group_page(client)
    client.cookies.clear()
    sign_in(client, "case_manager", "rheine", position="Case Management")
    refused = client.get("/lenkungsgruppen")
    assert refused.status_code == 403
    assert "Keine Berechtigung" in refused.text
    assert "Die Lenkungsgruppe führt die Koordinierungsstelle" in refused.text
    client.cookies.clear()
    sign_in(client, "coordinator", "aachen")
    refused = client.get(group)
    assert refused.status_code == 403
    assert "für ihre Koordinierungsstelle und ihre Mitglieder bestimmt" in refused.text
    assert "Lenkungsgruppe KIM Kreis Steinfurt" not in client.get("/lenkungsgruppen").text
    before = head(platform)
    fields = forms(client.get("/lenkungsgruppen").text)["/abmelden"]
    posted = client.post(
        f"{group}/sitzungen",
        follow_redirects=False,
        data={**fields, "title": "Fremde Sitzung", "scheduled_for": "2030-01-01"},
    )
    assert posted.status_code == 403
    assert head(platform) == before
    for path in (
        "/lenkungsgruppen/unbekannt/gruppen/" + "0" * 8 + "-0000-0000-0000-" + "0" * 12,
        "/lenkungsgruppen/aachen/sitzungen/keine-id",
        f"/lenkungsgruppen/{KS}/beschluesse/" + "1" * 8 + "-1111-1111-1111-" + "1" * 12,
    ):
        response = client.get(path)
        assert response.status_code in (403, 404), (path, response.status_code)
        assert '<html lang="de">' in response.text


def test_the_development_sign_in_refuses_a_subject_that_is_no_pseudonym(
    client: TestClient,
) -> None:
    found = forms(client.get("/anmelden").text)["/anmelden"]
    fields = {"tenant": "rheine", "role": "steering_member", "subject": "Frau K. aus Rheine"}
    refused = client.post("/anmelden", data={**found, **fields}, follow_redirects=False)
    assert refused.status_code == 422
    assert errors(refused.text)["f-subject"].startswith("Bitte nur Kleinbuchstaben")
