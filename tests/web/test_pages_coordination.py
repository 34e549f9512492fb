"""The coordination post's pages in Chromium: a closure waiting for approval is refused
without a reason (the error next to the field, nothing appended), then approved, and the
case is closed; the topics and positions pages pass axe."""

from __future__ import annotations

from tests.web.conftest import Pages, Served
from tests.web.emsdetten import TOWN, emsdetten


def test_a_coordinator_approves_a_closure_the_case_manager_asked_for(
    web_page: Pages, web_server: Served
) -> None:
    town = emsdetten(web_server)
    case_id = town.open_case("Mira K.")
    town.closure_requested(case_id)
    town.projected(
        lambda: any(
            r.doc.get("pending_approval") == "closure"
            for r in web_server.platform.read.rows("case_management", [TOWN], "Case")
            if r.key == str(case_id)
        ),
        "the closure request in the read model",
    )
    page = web_page.page
    web_page.sign_in("coordinator", TOWN)
    page.get_by_role("link", name="Fachaufsicht und Freigaben").click()
    card = page.locator(f"#fall-{case_id}")
    assert "Abschluss" in card.inner_text()
    web_page.check("coordination-approvals")

    heads = web_server.platform.store.heads()
    card.get_by_role("button", name="Ablehnen").click()
    card = page.locator(f"#fall-{case_id}")
    reason = card.get_by_label("Begründung")
    assert reason.get_attribute("aria-invalid") == "true"
    assert "Bitte einen Grund angeben." in card.inner_text()
    card.get_by_role("link", name="Bitte einen Grund angeben.").click()  # summary -> field
    assert page.evaluate("document.activeElement.name") == "reason"
    assert web_server.platform.store.heads() == heads  # the refusal appended nothing
    web_page.check("coordination-refusal-error")

    card.get_by_role("button", name="Abschluss freigeben").click()
    page.wait_for_url("**/koordination?erledigt=freigegeben*")
    assert "Entscheidung gespeichert: freigegeben" in page.inner_text("main")
    assert town.case(case_id)["state"] == "closed"
    assert page.locator(f"#fall-{case_id}").count() == 0


def test_topics_and_positions_pages_show_the_cycle_and_the_supervision_lines(
    web_page: Pages, web_server: Served
) -> None:
    emsdetten(web_server)
    web_page.sign_in("coordinator", "rheine")
    web_page.goto("/koordination/themen")
    assert "Regelkreis" in web_page.page.inner_text("main")
    web_page.check("coordination-topics")
    web_page.goto("/koordination/stellen")
    main = web_page.page.inner_text("main")
    assert "Case Management Lernen fördern e.V., RB Rheine" in main
    assert "Koordinierungsstelle KIM Stadt Rheine" in main  # the line's supervising position
    web_page.check("coordination-positions")
