"""The auditor's pages in Chromium: from a figure of a Verwendungsnachweis to the ids of its
events (the same as the API's), the chain verification, and the record of their queries
(every page view among them, recorded before it was shown)."""

from __future__ import annotations

import httpx

from runtime.http.auth import mint_token
from tests.web.conftest import Pages, Served

NOTICE = "KIM-B2-2021-05566"


def test_an_auditor_drills_from_a_figure_to_its_event_ids_and_reads_their_queries(
    web_page: Pages, web_server: Served
) -> None:
    page = web_page.page
    web_page.sign_in("auditor", "kreis-steinfurt")
    page.get_by_role("link", name="Verwendungsnachweise prüfen").click()
    web_page.check("audit-start")
    page.get_by_role("link", name=f"Verwendungsnachweis {NOTICE} für 2021").click()
    assert f"Verwendungsnachweis {NOTICE} (2021)" in page.inner_text("h1")
    web_page.check("audit-statement")

    granted = page.get_by_role("row").filter(has_text="Bewilligt insgesamt").first
    shown_amount = granted.locator("td").first.inner_text()
    granted.get_by_role("link").click()
    assert page.inner_text("h1") == "Belege: Bewilligt insgesamt"
    ids = page.locator("#belege code").all_inner_texts()
    web_page.check("audit-evidence")

    token = mint_token(web_server.settings, tenant="kreis-steinfurt", roles=["auditor"])
    api = httpx.get(
        f"{web_server.base}/audit/tenants/kreis-steinfurt/statements/{NOTICE}",
        params={"year": 2021},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    ).json()
    (line,) = [g for g in api["totals"] if g["label"] == "granted"]
    assert ids == line["events"]
    assert ids  # the notice's own events
    assert shown_amount.replace(".", "").replace(",", ".").removesuffix(" €") == line["value"]

    # the chains verified, then the record of the auditor's own queries
    web_page.goto("/pruefung/kreis-steinfurt/kette")
    shown = page.inner_text("main")
    # No finding; the auditor's own recorded queries lie after the last signed head, so
    # the page does not call the store unchanged, as kim audit verify does not.
    assert "Keine Abweichung in 3 Protokollen" in shown
    assert "Unverändert" not in shown
    assert "Prüfprotokoll bis Position" in shown
    web_page.check("audit-verification")
    web_page.goto("/pruefung/kreis-steinfurt/abfragen")
    rows = page.locator("table tbody tr").all_inner_texts()
    views = [r.split("\t")[1] for r in rows]
    assert "Prüfung der Hash-Ketten" in views
    assert "Verwendungsnachweis" in views
    assert any(f"notice: {NOTICE}" in r and "year: 2021" in r for r in rows)
    assert views[-1] == "Abfragen"  # this view itself, recorded before it was shown
    web_page.check("audit-queries")
