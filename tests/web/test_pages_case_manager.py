"""The case manager's pages over HTTP: the start page, the development sign-in, CSRF, the
session cookie, the cycle's steps by state, refusals next to their fields, idempotent
submits, need to know and the access log, all through the API's own rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from contexts.audit.application import AuditApplication
from contexts.case_management.application import CaseManagementApplication
from runtime.platform import Platform
from tests.web.pages_support import (
    embedded_settings,
    errors,
    forms,
    new_case,
    pages_client,
    post_form,
    sign_in,
)

TODAY = date.today().isoformat()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("pages"))) as found:
        yield found


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
    return platform.store.head("rheine", "case_management")


def test_the_start_page_is_german_html_leading_each_demo_role_to_its_sign_in(
    client: TestClient,
) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="de">' in response.text
    assert "/anmelden?rolle=case_manager&amp;mandant=rheine" in response.text
    assert "/anmelden?rolle=district_coordinator&amp;mandant=kreis-steinfurt" in response.text
    sign_in(client, "case_manager", "rheine", position="Case Management")
    signed_in = client.get("/").text
    assert 'href="/faelle"' in signed_in
    assert "Abmelden" in signed_in


def test_a_post_without_the_csrf_token_is_refused_in_german(client: TestClient) -> None:
    client.get("/anmelden")
    response = client.post("/anmelden", data={"tenant": "rheine", "role": "coordinator"})
    assert response.status_code == 403
    assert "CSRF-Schutz" in response.text
    assert client.get("/faelle", follow_redirects=False).status_code == 303  # not signed in


def test_the_session_cookie_is_http_only_same_site_lax_and_secure_over_https(
    served: tuple[TestClient, Platform],
) -> None:
    app = served[0].app
    with TestClient(app, base_url="https://testserver") as secure:
        cookie = secure.get("/anmelden").headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert "secure" in cookie
    plain = served[0].get("/anmelden").headers.get("set-cookie", "").lower()
    assert "secure" not in plain


def test_pages_send_a_visitor_without_a_session_to_the_sign_in_and_back(
    client: TestClient,
) -> None:
    response = client.get("/faelle?zustand=intake", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/anmelden?weiter=/faelle%3Fzustand%3Dintake"


def test_signing_out_ends_the_session(client: TestClient) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    assert client.get("/faelle", follow_redirects=False).status_code == 200
    response = post_form(client, "/faelle", "/abmelden", {})
    assert response.status_code == 303
    assert client.get("/faelle", follow_redirects=False).status_code == 303


def test_a_case_page_offers_only_the_steps_its_state_allows(client: TestClient) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    case = new_case(client, "Nadia T.")
    actions = set(forms(client.get(case).text))
    assert {f"{case}/bestandsaufnahme", f"{case}/abschluss", f"{case}/kontakte"} <= actions
    for later in ("ziele", "leistungssteuerung", "monitoring", "re-assessment", "verweisungen"):
        assert f"{case}/{later}" not in actions
    done = post_form(client, case, f"{case}/bestandsaufnahme",
                     {"needs.language": "high", "on": TODAY})  # fmt: skip
    assert done.status_code == 303
    actions = set(forms(client.get(case).text))
    assert f"{case}/ziele" in actions
    assert f"{case}/bestandsaufnahme" not in actions


def test_a_refusal_is_shown_next_to_its_field_and_appends_nothing(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    case = new_case(client, "Jonas W.")
    before = head(platform)
    refused = post_form(client, case, f"{case}/bestandsaufnahme", {"on": TODAY})
    assert refused.status_code == 422
    needs = "Bitte mindestens eine Lebensdimension angeben."
    assert errors(refused.text) == {"assess-needs": needs}
    dated = post_form(client, case, f"{case}/bestandsaufnahme",
                      {"needs.housing": "low", "on": "2000-01-01"})  # fmt: skip
    assert dated.status_code == 422
    before_last = "Das Datum liegt vor dem letzten Schritt des Falls."
    assert errors(dated.text) == {"assess-on": before_last}
    assert head(platform) == before


def test_a_repeated_submit_with_the_same_key_appends_nothing(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    case = new_case(client, "Mira L.")
    hidden = forms(client.get(case).text)[f"{case}/kontakte"]
    fields = {**hidden, "on": TODAY, "channel": "phone", "life_dimensions": ["language"]}
    first = client.post(f"{case}/kontakte", data=fields, follow_redirects=False)
    assert first.status_code == 303
    after_first = head(platform)
    again = client.post(f"{case}/kontakte", data=fields, follow_redirects=False)
    assert again.status_code == 303
    assert head(platform) == after_first
    assert client.get(case).text.count("Telefon (Sprache)") == 1


def test_another_case_manager_gets_not_found_and_nothing_about_the_case(
    client: TestClient,
) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    case = new_case(client, "Pavel R.")
    client.cookies.clear()
    sign_in(client, "case_manager", "rheine", position="Koordinierungsstelle")
    response = client.get(case)
    assert response.status_code == 404
    assert "Pavel" not in response.text


def test_reading_the_case_page_is_recorded_in_the_access_log_as_the_api_records_it(
    client: TestClient, platform: Platform
) -> None:
    sign_in(client, "case_manager", "rheine", position="Case Management")
    case = new_case(client, "Ilse B.")
    audit = AuditApplication("rheine", platform.store.recorder)
    case_id = UUID(case.rsplit("/", 1)[-1])
    app = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    person = app.get_case(case_id).person_id
    before = audit.count_reads_of(person)
    assert "Ilse B." in client.get(case).text
    reads = audit.reads_of(person)
    assert len(reads) > before
    latest = reads[-1]
    assert "name" in latest.fields
    assert latest.purpose == "case"
    assert str(latest.case_id) == str(case_id)


def test_the_development_sign_in_is_off_in_production(tmp_path: Path) -> None:
    secrets = {
        "jwt_secret": "a-production-jwt-secret-0123456789abcdef",
        "audit_pseudonym_secret": "a-production-pseudonym-secret-0123456789",
        "idempotency_secret": "a-production-idempotency-secret-012345678",
        "jwks_url": "http://127.0.0.1:9/jwks",
    }
    settings = embedded_settings(tmp_path, **secrets)
    with pages_client(settings) as (c, _):
        start = c.get("/")
        assert "Demo ausprobieren" not in start.text
        page = c.get("/anmelden")
        assert page.status_code == 503  # no issuer configured
        assert "nicht eingerichtet" in page.text
        hidden = {"csrf_token": "x"}
        refused = c.post("/anmelden", data={**hidden, "tenant": "rheine", "role": "auditor"})
        assert refused.status_code == 403
