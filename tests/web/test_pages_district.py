"""The district coordinator's dashboard in Chromium: funding per notice (chart and table),
month by month, caseload per position, regional areas, the needs of open cases by life
dimension per town; no personal data, and 0 serious axe findings."""

from __future__ import annotations

from tests.web.conftest import Pages, Served
from tests.web.emsdetten import TOWN, emsdetten


def _table(pages: Pages, caption: str) -> dict[str, list[str]]:
    """A table's rows by their header cell: {row header: [cells]}."""
    table = pages.page.locator("table", has=pages.page.locator("caption", has_text=caption))
    rows: dict[str, list[str]] = {}
    for row in table.first.locator("tbody tr").all():
        rows[row.locator("th").inner_text().strip()] = [
            c.strip() for c in row.locator("td").all_inner_texts()
        ]
    return rows


def test_a_district_coordinator_reads_the_dashboard_of_the_district_and_its_towns(
    web_page: Pages, web_server: Served
) -> None:
    town = emsdetten(web_server)
    case_id = town.open_case("Ada N.")
    town.assessed(case_id, {"language": "high", "housing": "medium"})
    town.projected(
        lambda: any(
            int(r.doc.get("dim:language", 0)) > 0
            for r in web_server.platform.read.rows("case_management", [TOWN], "Summary")
        ),
        "the assessment in Emsdetten's figures",
    )
    page = web_page.page
    web_page.sign_in("district_coordinator", "kreis-steinfurt")
    page.get_by_role("link", name="Kreisübersicht").first.click()
    page.get_by_label("Monat", exact=True).fill("2021-10")
    page.get_by_role("button", name="Anzeigen").click()
    page.wait_for_url("**/kreis?monat=2021-10")
    main = page.inner_text("main")
    assert "Oktober 2021" in main

    chart = page.locator("svg[role=img]#foerderung-monat")
    assert (
        chart.locator("title").first.text_content() == "Förderung je Bescheid im Oktober 2021 (VZÄ)"
    )
    funding = _table(web_page, "Förderung je Bescheid im Oktober 2021 (VZÄ)")
    # Baustein 2: 9 FTE granted, 1.9 forwarded to Lernen fördern and filled (demo, 2021)
    assert funding["KIM-B2-2021-05566"] == ["9", "1,9", "1,9"]
    detail = _table(web_page, "Förderbescheide im Oktober 2021")
    assert detail["KIM-B2-2021-05566"][:2] == ["Kreis Steinfurt", "2"]
    assert page.locator("svg[role=img]#foerderung-jahr").count() == 1

    caseload = _table(web_page, "Offene Fälle je Case-Management-Stelle")
    assert "Case Management Lernen fördern e.V., RB Rheine" in caseload
    assert any(cells[0] == "Stadt Emsdetten" for cells in caseload.values())
    areas = _table(web_page, "Regionalbereiche des Kreises")
    assert areas["RB Rheine"][0] == "Rheine, Neuenkirchen"

    needs = _table(web_page, "Bedarfe offener Fälle je Lebensdimension")
    assert int(needs["Sprache"][-1]) >= 1  # the sum column over the towns
    assert page.locator("svg[role=img]#lebensdimensionen").count() == 1
    assert "Ada N." not in page.content()  # figures only, no personal data
    web_page.check("district-dashboard")

    answer = web_page.goto("/kreis?monat=2021-13")  # no month: a German error page
    assert answer is not None
    assert answer.status == 404
    assert "ungültige Angabe" in page.inner_text("main")
