"""The case page's integration achievements in Chromium: a refusal next to its field and
a recorded achievement, axe on both pages."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from tests.web.conftest import Pages, Served

pytestmark = pytest.mark.timeout(90)


def test_a_case_manager_records_an_achievement_after_a_refusal(
    web_page: Pages, web_server: Served
) -> None:
    pages, page = web_page, web_page.page
    pages.sign_in("case_manager", "rheine", position="Case Management")
    pages.goto("/personen/neu")
    page.fill("#f-name", "Dilan A.")
    page.fill("#f-arrival-on", "2024-03-01")
    page.get_by_role("button", name="Person registrieren").click()
    page.select_option("#f-referral-source", "school")
    page.get_by_role("button", name="Fall eröffnen").click()
    expect(page.get_by_role("heading", name="Integrationsleistungen")).to_be_visible()
    head = web_server.platform.store.head("rheine", "case_management")

    page.select_option("#achievement-kind", "language_certificate")
    page.fill("#achievement-achieved-on", date.today().isoformat())
    page.get_by_role("button", name="Integrationsleistung erfassen").click()
    field = page.locator("#achievement-level")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#achievement-level-error")).to_contain_text("braucht sein Niveau")
    assert web_server.platform.store.head("rheine", "case_management") == head
    pages.check("case-achievement-refused")

    page.select_option("#achievement-level", "B1")
    page.get_by_role("button", name="Integrationsleistung erfassen").click()
    expect(page.get_by_text("Nur im Fall erfasst")).to_be_visible()
    expect(page.get_by_role("cell", name="Sprachzertifikat (B1)")).to_be_visible()
    pages.check("case-achievement-recorded")
