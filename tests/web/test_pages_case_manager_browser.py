"""The case manager's main path in Chromium: from intake to closure, axe on every page, a
refusal shown next to its field, and one path by keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import Pages, Served

pytestmark = pytest.mark.timeout(90)


def STATE(page: Page) -> Locator:  # noqa: N802 - reads as the badge it finds
    """The case's state badge."""
    return page.locator(".kern-badge--info").first


def _error_next_to(pages: Pages, field_id: str) -> str:
    """The German error message rendered for the field (``aria-describedby`` names it)."""
    field = pages.page.locator(f"#{field_id}")
    expect(field).to_have_attribute("aria-invalid", "true")  # the page rendered again
    described = field.get_attribute("aria-describedby") or ""
    error_id = next(i for i in described.split() if i.endswith("-error"))
    return pages.page.locator(f"#{error_id}").inner_text()


def test_a_case_manager_takes_a_case_from_intake_to_closure(
    web_page: Pages, web_server: Served
) -> None:
    pages, page = web_page, web_page.page
    pages.goto("/")
    pages.check("start-signed-out")
    pages.goto("/anmelden?rolle=case_manager&mandant=rheine")
    pages.check("sign-in-development")
    pages.sign_in("case_manager", "rheine", position="Case Management")
    expect(page.get_by_role("heading", name="Kommunales Integrationsmanagement")).to_be_visible()
    pages.check("start-case-manager")

    page.get_by_role("link", name="Meine Fälle").first.click()
    expect(page.get_by_role("heading", name="Fallzahl der Stelle")).to_be_visible()
    pages.check("my-cases")

    page.get_by_role("navigation").get_by_role("link", name="Person aufnehmen").click()
    page.get_by_role("button", name="Person registrieren").click()  # without a name
    assert _error_next_to(pages, "f-name") == "Bitte ausfüllen."
    pages.check("register-person-refused")
    page.fill("#f-name", "Olena K.")
    page.fill("#f-arrival-on", "2024-03-01")
    page.fill("#f-languages", "uk, ru")
    page.get_by_role("button", name="Person registrieren").click()

    expect(page.get_by_role("heading", name="Fall eröffnen (Erstberatung)")).to_be_visible()
    pages.check("open-case")
    page.select_option("#f-referral-source", "job_centre")
    page.get_by_role("button", name="Fall eröffnen").click()
    expect(page.locator("h1")).to_have_text(re.compile(r"^Fall \w{8}: Olena K\.$"))
    pages.shot("case-intake")  # axe: the same page with a refusal, below
    head = web_server.platform.store.head("rheine", "case_management")

    page.get_by_role("button", name="Bestandsaufnahme speichern").click()  # no need named
    expect(page.locator("#assess-needs-error")).to_have_text(
        "Bitte mindestens eine Lebensdimension angeben."
    )
    assert web_server.platform.store.head("rheine", "case_management") == head
    pages.check("case-assessment-refused")
    page.select_option("#assess-needs-language", "high")
    page.select_option("#assess-needs-work-and-livelihood", "medium")
    page.get_by_role("button", name="Bestandsaufnahme speichern").click()
    expect(STATE(page)).to_have_text("Bestandsaufnahme")

    page.fill("#goals-goals-language", "B1-Kurs mit Kinderbetreuung")
    page.fill("#goals-goals-work-and-livelihood", "Anerkennung des Berufsabschlusses")
    page.get_by_role("button", name="Ziele vereinbaren").click()
    expect(STATE(page)).to_have_text("Zielvereinbarung")
    for step, state in (("Leistungssteuerung", "Leistungssteuerung"),
                        ("Monitoring", "Monitoring")):  # fmt: skip
        page.get_by_role("button", name=f"{step} beginnen").click()
        expect(STATE(page)).to_have_text(state)
        expect(page.get_by_role("button", name="Ziele vereinbaren")).to_have_count(0)
        expect(page.get_by_text("Gespeichert.")).to_be_visible()
    pages.check("case-monitoring")
    page.set_viewport_size({"width": 768, "height": 1024})  # a tablet, upright
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    pages.shot("case-monitoring-tablet")
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(page.get_by_role("button", name="Leistungssteuerung beginnen")).to_have_count(0)

    page.select_option("#close-reason", "goals_reached")
    page.get_by_role("button", name="Fall abschließen").click()
    expect(STATE(page)).to_have_text("Abgeschlossen")
    expect(page.get_by_text("Der Fall ist abgeschlossen")).to_be_visible()
    expect(page.locator("form[action$='/abschluss']")).to_have_count(0)
    pages.check("case-closed")

    case_id = page.url.split("/faelle/")[1].split("?")[0]
    page.goto(pages.base + "/faelle?zustand=closed")
    expect(page.locator(f"a[href='/faelle/{case_id}']")).to_have_count(1)


def test_a_repeated_submit_appends_nothing(web_page: Pages, web_server: Served) -> None:
    pages, page = web_page, web_page.page
    pages.sign_in("case_manager", "rheine", position="Case Management")
    pages.goto("/personen/neu")
    page.fill("#f-name", "Amir H.")
    page.fill("#f-arrival-on", "2025-01-10")
    form = page.locator("form[action='/personen/neu']")
    values = {
        name: form.locator(f"input[name='{name}']").get_attribute("value")
        for name in ("csrf_token", "idempotency_key")
    }
    page.get_by_role("button", name="Person registrieren").click()
    expect(page.locator("h1")).to_have_text("Fall eröffnen (Erstberatung)")
    head = web_server.platform.store.head("rheine", "case_management")
    again = page.request.post(
        pages.base + "/personen/neu",
        form={**{k: v or "" for k, v in values.items()}, "name": "Amir H.",
              "arrival_on": "2025-01-10"},
        max_redirects=0,
    )  # fmt: skip
    assert again.status == 303
    assert web_server.platform.store.head("rheine", "case_management") == head


def test_the_way_to_a_new_person_works_by_keyboard_alone(web_page: Pages) -> None:
    pages, page = web_page, web_page.page
    pages.goto("/anmelden?rolle=case_manager&mandant=rheine")
    pages.tab_to("Zum Inhalt springen")
    pages.tab_to("Stadt Rheine")  # the tenant, chosen by the link
    pages.tab_to("Case Management")  # the role
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "f-position"
    for _ in range(3):  # the case-management position of Rheine is the third of the demo
        page.keyboard.press("ArrowDown")
    assert "Case Management" in page.evaluate(
        "document.activeElement.selectedOptions[0].textContent"
    )
    pages.tab_to("Anmelden")
    page.keyboard.press("Enter")
    page.wait_for_url(pages.base + "/")
    pages.tab_to("Person aufnehmen")
    page.keyboard.press("Enter")
    page.wait_for_url(pages.base + "/personen/neu")
    pages.tab_to("Name")
    page.keyboard.type("Sara M.")
    pages.tab_to("Ankunft in Deutschland")
    page.keyboard.type("01022025")
    pages.tab_to("Person registrieren")
    page.keyboard.press("Enter")
    page.wait_for_url("**/faelle/neu?person=*")
    pages.tab_to("Zugang über")
    page.keyboard.press("ArrowDown")
    pages.tab_to("Fall eröffnen")
    page.keyboard.press("Enter")
    page.wait_for_url("**/faelle/*?erledigt=eroeffnet")
    expect(page.locator("h1")).to_have_text(re.compile(r"^Fall \w{8}: Sara M\.$"))
    pages.shot("case-by-keyboard")  # axe checked this page in the main path
