"""The immigration officer's main path in Chromium: the due list, a procedure, a new
person and procedure, a step taken and one refused next to its field, axe on every page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Pages, Served

pytestmark = pytest.mark.timeout(60)


def test_an_officer_works_through_the_due_list_and_a_procedure(
    web_page: Pages, web_server: Served
) -> None:
    pages, page = web_page, web_page.page
    pages.sign_in("immigration_officer", "rheine")
    pages.check("office-start")

    page.get_by_role("navigation").get_by_role("link", name="Fristen").click()
    expect(page.get_by_role("heading", name="Fällig in den nächsten 30 Tagen")).to_be_visible()
    pages.check("office-due")
    page.locator("main a[href^='/auslaenderbehoerde/verfahren/']").first.click()  # overdue first
    expect(page.locator(".kern-badge--info")).to_have_text("Unterlagen angefordert")
    expect(page.get_by_role("button", name="Unterlagen vollständig")).to_be_visible()
    expect(page.get_by_role("button", name="Bewilligen")).to_have_count(0)
    pages.check("office-procedure")

    page.get_by_role("navigation").get_by_role("link", name="Verfahren").click()
    expect(page.get_by_role("heading", name="Verfahren der Behörde")).to_be_visible()
    pages.check("office-procedures")

    page.get_by_role("navigation").get_by_role("link", name="Person registrieren").click()
    page.fill("#f-name", "Demo-Person K. W.")
    page.fill("#f-resident-since", "2016-05-01")
    page.get_by_role("button", name="Person registrieren").click()
    expect(page.get_by_role("heading", name="Verfahren eröffnen (Beratung)")).to_be_visible()
    pages.check("office-procedure-new")
    page.select_option("#f-legal-basis", "stag_10")
    page.get_by_role("button", name="Verfahren eröffnen").click()
    expect(page.locator(".kern-badge--info")).to_have_text("Beratung")

    head = web_server.platform.store.head("rheine", "immigration_office")
    page.fill("#receive-application-on", "")
    page.get_by_role("button", name="Antragseingang eintragen").click()
    expect(page.locator("#receive-application-on-error")).to_have_text("Bitte ausfüllen.")
    expect(page.locator("#receive-application-on")).to_have_attribute("aria-invalid", "true")
    assert web_server.platform.store.head("rheine", "immigration_office") == head
    pages.check("office-step-refused")
    page.fill("#receive-application-on", date.today().isoformat())
    page.get_by_role("button", name="Antragseingang eintragen").click()
    expect(page.locator(".kern-badge--info")).to_have_text("Antrag eingegangen")
    expect(page.get_by_text("Gespeichert.")).to_be_visible()
    expect(page.get_by_role("button", name="Unterlagen anfordern")).to_be_visible()
    pages.check("office-procedure-applied")
