"""The case page's integration achievements over HTTP: the section lists what was
recorded with its German label and dates; the form records one through the REST handler
and says it was recorded on the case only when no office may receive it; a refusal shows
its German message next to its field and appends nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from contexts.case_management.contracts import ACHIEVEMENT_KINDS
from runtime.platform import Platform
from services.web import labels
from tests.web.pages_support import (
    embedded_settings,
    errors,
    forms,
    new_case,
    pages_client,
    post_form,
    sign_in,
)

TODAY = date.today()
RECORDED_ONLY = "Nur im Fall erfasst: keine Einwilligung zur Weitergabe an eine Ausländerbehörde"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("achievements"))) as found:
        yield found


@pytest.fixture
def client(served: tuple[TestClient, Platform]) -> Iterator[TestClient]:
    c, _ = served
    c.cookies.clear()
    sign_in(c, "case_manager", "rheine", position="Case Management")
    yield c
    c.cookies.clear()


def head(platform: Platform) -> int:
    return platform.store.head("rheine", "case_management")


def german(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def test_an_achievement_is_recorded_listed_and_said_to_be_recorded_only(
    client: TestClient, served: tuple[TestClient, Platform]
) -> None:
    case = new_case(client, "Samira K.")
    page = client.get(case).text
    assert "Integrationsleistungen" in page
    assert "Noch keine Integrationsleistungen." in page
    assert 'for="achievement-kind"' in page
    assert 'for="achievement-level"' in page
    before = head(served[1])
    achieved = TODAY - timedelta(days=30)
    fields = {"kind": "language_certificate", "level": "B1",
              "achieved_on": achieved.isoformat(), "on": TODAY.isoformat()}  # fmt: skip
    done = post_form(client, case, f"{case}/integrationsleistungen", fields)
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith(f"{case}?erledigt=achievement")
    assert head(served[1]) > before
    shown = client.get(done.headers["location"]).text
    assert "Sprachzertifikat (B1)" in shown
    assert german(achieved) in shown
    assert RECORDED_ONLY in shown
    assert "Noch keine Integrationsleistungen." not in shown


def test_a_language_certificate_without_level_is_refused_next_to_the_field(
    client: TestClient, served: tuple[TestClient, Platform]
) -> None:
    case = new_case(client, "Omar F.")
    before = head(served[1])
    fields = {"kind": "language_certificate", "level": "",
              "achieved_on": TODAY.isoformat(), "on": TODAY.isoformat()}  # fmt: skip
    refused = post_form(client, case, f"{case}/integrationsleistungen", fields)
    assert refused.status_code == 422
    level = (
        "Ein Sprachzertifikat braucht sein Niveau (A1 bis C2); die anderen Leistungen haben keines."
    )
    assert errors(refused.text) == {"achievement-level": level}
    assert 'aria-invalid="true"' in refused.text
    assert head(served[1]) == before
    assert "Noch keine Integrationsleistungen." in client.get(case).text


def test_an_achievement_after_the_day_it_is_recorded_is_refused_at_its_date(
    client: TestClient, served: tuple[TestClient, Platform]
) -> None:
    case = new_case(client, "Lena P.")
    before = head(served[1])
    fields = {"kind": "employment", "achieved_on": (TODAY + timedelta(days=3)).isoformat(),
              "on": TODAY.isoformat()}  # fmt: skip
    refused = post_form(client, case, f"{case}/integrationsleistungen", fields)
    assert refused.status_code == 422
    future = "Das Datum der Leistung liegt nach dem Tag der Erfassung."
    assert errors(refused.text) == {"achievement-achieved-on": future}
    assert head(served[1]) == before


def test_the_done_message_names_the_offices_it_was_shared_with_and_nothing_else(
    client: TestClient,
) -> None:
    case = new_case(client, "Yusuf D.")
    shared = client.get(f"{case}?erledigt=achievement&weitergegeben=abh-steinfurt").text
    assert "Weitergegeben an die Ausländerbehörde: abh-steinfurt" in shared
    assert RECORDED_ONLY not in shared
    forged = client.get(f"{case}?erledigt=achievement&weitergegeben=%3Cb%3Ex%3C/b%3E").text
    assert "<b>x</b>" not in forged
    assert RECORDED_ONLY in forged


def test_an_achievement_on_a_case_closed_meanwhile_is_refused_in_german(
    client: TestClient, served: tuple[TestClient, Platform]
) -> None:
    case = new_case(client, "Rana S.")
    hidden = forms(client.get(case).text)[f"{case}/integrationsleistungen"]
    closed = post_form(client, case, f"{case}/abschluss",
                       {"reason": "ended_by_person", "on": TODAY.isoformat()})  # fmt: skip
    assert closed.status_code == 303, closed.text
    before = head(served[1])
    hidden.pop("expected_version")  # else the stale version answers first
    fields = {**hidden, "kind": "employment", "achieved_on": TODAY.isoformat(),
              "on": TODAY.isoformat()}  # fmt: skip
    refused = client.post(f"{case}/integrationsleistungen", data=fields, follow_redirects=False)
    assert refused.status_code in {409, 422}
    assert "Der Fall ist abgeschlossen." in refused.text
    assert head(served[1]) == before


def test_an_achievement_recorded_before_the_case_opened_is_refused_at_that_date(
    client: TestClient, served: tuple[TestClient, Platform]
) -> None:
    case = new_case(client, "Elif G.")  # opened today
    before = head(served[1])
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    fields = {"kind": "qualification", "achieved_on": yesterday, "on": yesterday}
    refused = post_form(client, case, f"{case}/integrationsleistungen", fields)
    assert refused.status_code == 422
    opening = "Das Datum liegt vor der Eröffnung des Falls."
    assert errors(refused.text) == {"achievement-on": opening}
    assert head(served[1]) == before


def test_every_achievement_kind_of_the_contract_has_a_german_label() -> None:
    assert tuple(labels.ACHIEVEMENT_KINDS) == ACHIEVEMENT_KINDS
