"""The immigration officer's pages over HTTP: the due list, the procedures, a procedure with
only the steps its state allows, refusals in German next to their fields with nothing
appended, idempotent submits, and the office's procedures closed to everyone else."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from contexts.immigration_office.states import State
from projections.immigration_office import application
from runtime.platform import Platform
from tests.web.pages_support import (
    embedded_settings,
    errors,
    forms,
    pages_client,
    post_form,
    sign_in,
)

TODAY = date.today().isoformat()
OFFICE = "/auslaenderbehoerde"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("office-pages"))) as found:
        yield found


@pytest.fixture
def client(served: tuple[TestClient, Platform]) -> Iterator[TestClient]:
    c, _ = served
    c.cookies.clear()
    yield c
    c.cookies.clear()
    assert all(r < 500 for r in STATUSES), STATUSES


@pytest.fixture
def platform(served: tuple[TestClient, Platform]) -> Platform:
    return served[1]


STATUSES: list[int] = []


def get(client: TestClient, path: str) -> str:
    response = client.get(path, follow_redirects=False)
    STATUSES.append(response.status_code)
    text: str = response.text
    assert response.status_code == 200, (path, response.status_code, text[:500])
    return text


def head(platform: Platform) -> int:
    return platform.store.head("rheine", "immigration_office")


def demo_procedure(platform: Platform, state: State) -> str:
    app = application(platform, "rheine")
    for item in app.due(date.today(), 731):
        if item.state == state:
            return str(item.procedure_id)
    raise AssertionError(f"no demo procedure in {state}")


def new_procedure(client: TestClient, name: str, basis: str = "stag_10") -> str:
    """Register a person and open a procedure through the pages; the procedure page's path."""
    response = post_form(
        client, f"{OFFICE}/personen/neu", f"{OFFICE}/personen/neu",
        {"name": name, "resident_since": "2015-01-01", "nationality": "syrisch"},
    )  # fmt: skip
    assert response.status_code == 303, response.text
    opening = str(response.headers["location"])
    assert opening.startswith(f"{OFFICE}/verfahren-eroeffnen?person=")
    fields = {"legal_basis": basis, "residence": "rheine", "opened_on": TODAY}
    response = post_form(client, opening, opening, fields)
    assert response.status_code == 303, response.text
    return str(response.headers["location"]).split("?")[0]


def step_actions(page: str, html: str) -> set[str]:
    return {a.rsplit("/", 1)[1] for a in forms(html) if a.startswith(f"{page}/schritt/")}


def take(client: TestClient, page: str, step: str, **fields: str) -> None:
    response = post_form(client, page, f"{page}/schritt/{step}", {"on": TODAY, **fields})
    STATUSES.append(response.status_code)
    assert response.status_code == 303, errors(response.text) or response.text[:800]


def test_the_officer_finds_the_office_pages_on_the_start_page(client: TestClient) -> None:
    assert "/anmelden?rolle=immigration_officer&amp;mandant=rheine" in get(client, "/")
    sign_in(client, "immigration_officer", "rheine")
    start = get(client, "/")
    for href in ("/auslaenderbehoerde/fristen", "/auslaenderbehoerde/verfahren",
                 "/auslaenderbehoerde/personen/neu"):  # fmt: skip
        assert f'href="{href}"' in start


def test_the_due_list_shows_the_demo_deadlines_linked_to_their_procedures(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "rheine")
    waiting = demo_procedure(platform, State.DOCUMENTS_REQUESTED)
    page = get(client, f"{OFFICE}/fristen")
    assert "Unterlagen fällig" in page
    assert f'href="{OFFICE}/verfahren/{waiting}"' in page
    assert 'name="tage" type="number" value="30"' in page  # the default number of days
    longer = get(client, f"{OFFICE}/fristen?tage=120")
    permit = demo_procedure(platform, State.GRANTED)
    assert "Erlaubnis endet" in longer
    assert longer.index(waiting) < longer.index(permit)  # the earlier one first
    refused = client.get(f"{OFFICE}/fristen?tage=-1")
    assert refused.status_code == 422
    assert errors(refused.text) == {"due-tage": "Bitte eine ganze Zahl von 0 bis 731 angeben."}
    assert "Unterlagen fällig" in refused.text  # the default's list below


def test_the_procedures_list_filters_by_state(client: TestClient, platform: Platform) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = get(client, f"{OFFICE}/verfahren")
    assert page.count(f'href="{OFFICE}/verfahren/') >= 3
    assert "Einbürgerung (StAG § 10)" in page
    assert "Chancen-Aufenthaltsrecht (§ 104c AufenthG)" in page
    granted = get(client, f"{OFFICE}/verfahren?stand=granted")
    assert demo_procedure(platform, State.GRANTED) in granted
    assert demo_procedure(platform, State.DOCUMENTS_REQUESTED) not in granted


def test_a_procedure_offers_exactly_its_allowed_steps_and_a_step_moves_it(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = new_procedure(client, "Demo-Person D. S.")
    html = get(client, page)
    assert "Demo-Person D. S." in html
    assert step_actions(page, html) == {"receive_application", "withdraw"}
    assert f"{page}/pruefungen" not in forms(html)  # no checks before the application
    take(client, page, "receive_application")
    html = get(client, page)
    assert "Antrag eingegangen" in html
    assert "stag_10@2024-06-27" in html  # the rule valid on the application date
    assert step_actions(page, html) == {"request_documents", "complete_documents", "withdraw"}
    assert f"{page}/pruefungen" in forms(html)


def test_a_refused_step_shows_the_german_error_and_appends_nothing(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = new_procedure(client, "Demo-Person E. R.")
    take(client, page, "receive_application")
    before = head(platform)
    response = post_form(client, page, f"{page}/schritt/request_documents",
                         {"on": TODAY, "due_on": "2020-01-01"})  # fmt: skip
    assert response.status_code == 422
    assert errors(response.text) == {
        "request-documents-due-on": "Die Frist liegt vor der Anforderung."
    }
    assert head(platform) == before
    response = post_form(client, page, f"{page}/schritt/complete_documents", {"on": ""})
    assert errors(response.text) == {"complete-documents-on": "Bitte ausfüllen."}
    assert 'aria-invalid="true"' in response.text
    take(client, page, "complete_documents")
    take(client, page, "start_checks")
    before = head(platform)
    response = post_form(client, page, f"{page}/schritt/grant", {"on": TODAY})
    assert response.status_code == 422
    (message,) = re.findall(r"Die Voraussetzungen sind nicht erfüllt: [^<]*", response.text)
    assert "Identität geklärt" in message
    assert "Sprachnachweis B1" in message
    assert head(platform) == before
    hidden = forms(get(client, page))[f"{page}/schritt/grant"]  # no form for it: posted anyway
    response = client.post(f"{page}/schritt/convert", data={**hidden, "on": TODAY})
    assert response.status_code == 409
    assert "im aktuellen Stand des Verfahrens nicht möglich" in response.text
    assert head(platform) == before
    STATUSES.append(response.status_code)


def test_a_check_is_recorded_and_a_language_check_needs_its_level(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = new_procedure(client, "Demo-Person F. N.")
    take(client, page, "receive_application")
    before = head(platform)
    response = post_form(client, page, f"{page}/pruefungen",
                         {"check": "language", "passed": "ja", "on": TODAY})  # fmt: skip
    assert response.status_code == 422
    assert "Sprachniveau" in errors(response.text).get("check-level", "")
    assert head(platform) == before
    fields = {"check": "language", "passed": "ja", "level": "B1", "on": TODAY}
    response = post_form(client, page, f"{page}/pruefungen", fields)
    assert response.status_code == 303
    html = get(client, page)
    assert re.search(r"Sprachnachweis \(B1\)</th><td[^>]*>Erfüllt", html)
    assert "Sprachnachweis B1" not in html.split("Offene Voraussetzungen")[1].split("</ul>")[0]


def test_a_repeated_submit_appends_once(client: TestClient, platform: Platform) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = new_procedure(client, "Demo-Person G. L.")
    action = f"{page}/schritt/receive_application"
    fields = {**forms(get(client, page))[action], "on": TODAY}
    before = head(platform)
    first = client.post(action, data=fields, follow_redirects=False)
    assert first.status_code == 303
    after = head(platform)
    assert after > before
    again = client.post(action, data=fields, follow_redirects=False)
    assert again.status_code == 303
    assert head(platform) == after


def test_a_referral_records_the_consent_and_the_referral(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "rheine")
    page = new_procedure(client, "Demo-Person H. B.")
    before = head(platform)
    response = post_form(client, page, f"{page}/verweisung", {"to_tenant": "rheine", "on": TODAY})
    assert response.status_code == 422
    assert "Einwilligung" in response.text
    assert head(platform) == before
    response = post_form(client, page, f"{page}/verweisung",
                         {"to_tenant": "rheine", "on": TODAY, "consent": "ja",
                          "given_on": TODAY})  # fmt: skip
    assert response.status_code == 303, errors(response.text) or response.text[:800]
    html = get(client, page)
    assert "an rheine: Angefragt" in html


def test_other_tenants_officers_and_case_managers_are_refused_in_german(
    client: TestClient, platform: Platform
) -> None:
    procedure = demo_procedure(platform, State.DOCUMENTS_REQUESTED)
    sign_in(client, "immigration_officer", "kreis-steinfurt")
    response = client.get(f"{OFFICE}/verfahren/{procedure}")
    assert response.status_code == 404
    assert "Nicht gefunden" in response.text
    client.cookies.clear()
    sign_in(client, "case_manager", "rheine", position="Case Management")
    for path in (f"{OFFICE}/verfahren/{procedure}", f"{OFFICE}/fristen", f"{OFFICE}/verfahren",
                 f"{OFFICE}/personen/neu"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Ihre Rolle darf das nicht." in response.text
    assert 'href="/auslaenderbehoerde/fristen"' not in client.get("/").text
    client.cookies.clear()
    assert client.get(f"{OFFICE}/fristen", follow_redirects=False).status_code == 303
    assert UUID(procedure)


def test_kreis_steinfurt_opens_procedures_for_emsdetten_and_not_for_rheine(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "immigration_officer", "kreis-steinfurt")
    response = post_form(
        client, f"{OFFICE}/personen/neu", f"{OFFICE}/personen/neu", {"name": "Demo-Person L. E."}
    )
    assert response.status_code == 303
    opening = str(response.headers["location"])
    before = platform.store.head("kreis-steinfurt", "immigration_office")
    fields = {"legal_basis": "aufenthg_9", "residence": "rheine", "opened_on": TODAY}
    refused = post_form(client, opening, opening, fields)
    assert refused.status_code == 422
    assert errors(refused.text) == {
        "f-residence": "Dafür ist eine andere Behörde zuständig (Wohnort)."
    }
    assert platform.store.head("kreis-steinfurt", "immigration_office") == before
    response = post_form(client, opening, opening, {**fields, "residence": "emsdetten"})
    assert response.status_code == 303, errors(response.text)
    html = get(client, str(response.headers["location"]).split("?")[0])
    assert "Niederlassungserlaubnis (§ 9 AufenthG)" in html
    assert 'name="to_tenant" type="text" value="emsdetten"' in html
