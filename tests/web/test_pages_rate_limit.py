"""Staff signed in to the pages are rate-limited each on their own, not per address.

A district's staff often reach the platform through one proxy, one address: counting their
page requests by that address would let one busy colleague lock out the whole office. The
edge keys a page request by the principal its session holds (``token_of_scope``), as it
keys an API request by its bearer token; a visitor without a session is counted by address.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from services.web.session import token_of_scope
from tests.web.pages_support import embedded_settings, pages_client, sign_in

CASES = "/faelle"
COORDINATION = "/koordination"


def test_two_people_signed_in_from_one_address_have_a_budget_each(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = embedded_settings(
        tmp_path_factory.mktemp("limits"),
        rate_limit="5/minute",
        address_rate_limit="12/minute",
        auth_failure_limit="100/minute",
    )
    with pages_client(settings) as (first, _platform):
        sign_in(first, "case_manager", "rheine", position="Case Management")
        statuses = [first.get(CASES).status_code for _ in range(6)]
        assert statuses == [200] * 5 + [429]
        refused = first.get(CASES)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        # A browser asking for a page reads the refusal in German, the API client a problem.
        page = first.get(CASES, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 429
        assert page.headers["content-type"].startswith("text/html")
        assert '<html lang="de">' in page.text
        assert "Zu viele Anfragen" in page.text
        assert refused.headers["content-type"] == "application/problem+json"
        # A colleague at the same address (the test client's) still has a budget of their own.
        second = TestClient(first.app)
        sign_in(second, "coordinator", "rheine")
        assert [second.get(COORDINATION).status_code for _ in range(5)] == [200] * 5
        assert second.get(COORDINATION).status_code == 429


def test_a_forged_or_missing_session_cookie_names_no_principal(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = embedded_settings(tmp_path_factory.mktemp("cookies"))
    assert token_of_scope({"type": "http", "headers": []}, settings) is None
    forged = [(b"cookie", b"kim_session=eyJzaWQiOiJ4IiwidG9rZW4iOiJ5In0.forged.sig")]
    assert token_of_scope({"type": "http", "headers": forged}, settings) is None
    with pages_client(settings) as (client, _):
        sign_in(client, "case_manager", "rheine", position="Case Management")
        cookie = client.cookies.get("kim_session")
        assert cookie
        scope = {"type": "http", "headers": [(b"cookie", f"kim_session={cookie}".encode())]}
        assert token_of_scope(scope, settings)
