"""The auditor's statement page shows every figure of the statement (granted, totals,
positions, forwarding contracts, FTE per month), each leading to the ids of its events: the
same ids the API's statement names."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from runtime.http.auth import mint_token
from runtime.platform import Platform
from tests.web.pages_support import embedded_settings, pages_client, sign_in

NOTICE, YEAR = "KIM-B2-2021-05566", 2021
PAGE = f"/pruefung/kreis-steinfurt/nachweis?bescheid={NOTICE}&jahr={YEAR}"
LF = "Case Management Lernen fördern e.V., RB Rheine"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Platform]]:
    with pages_client(embedded_settings(tmp_path_factory.mktemp("audit"))) as found:
        sign_in(found[0], "auditor", "nrw")
        yield found


def api_statement(client: TestClient, platform: Platform) -> dict[str, object]:
    token = mint_token(platform.settings, tenant="nrw", roles=["auditor"])
    answer = client.get(
        f"/audit/tenants/kreis-steinfurt/statements/{NOTICE}",
        params={"year": YEAR},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 200, answer.text
    found: dict[str, object] = answer.json()
    return found


def events_on(client: TestClient, link: str) -> list[str]:
    page = client.get(html.unescape(link))
    assert page.status_code == 200, page.text
    return re.findall(r'<code class="kim-event-id">([0-9a-f-]{36})</code>', page.text)


def test_positions_contracts_and_months_are_shown_with_their_events(
    served: tuple[TestClient, Platform],
) -> None:
    client, platform = served
    page = client.get(PAGE)
    assert page.status_code == 200
    text = page.text
    for heading in ("Stellen", "Weiterleitungsverträge", "Stellenanteile je Monat"):
        assert f">{heading}</h2>" in text
    assert LF in text
    assert "30.820,00 €" in text  # the position's actual costs of 2021
    assert "September 2021" in text
    statement = api_statement(client, platform)
    for group in ("positions", "contracts", "months"):
        lines = statement[group]
        assert isinstance(lines, list)
        index = next(i for i, line in enumerate(lines) if line["events"])
        link = re.search(rf'href="([^"]*zahl={group}-{index})"', text)
        assert link is not None, group
        assert events_on(client, link.group(1)) == lines[index]["events"]


def test_a_figure_the_statement_does_not_have_is_a_german_404(
    served: tuple[TestClient, Platform],
) -> None:
    client, _ = served
    missing = client.get(
        f"/pruefung/kreis-steinfurt/nachweis/belege?bescheid={NOTICE}&jahr={YEAR}"
        "&zahl=positions-999"
    )
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    wrong = client.get(
        f"/pruefung/kreis-steinfurt/nachweis/belege?bescheid={NOTICE}&jahr={YEAR}&zahl=cases-1"
    )
    assert wrong.status_code == 404
