"""The steering group's pages in Chromium: Kreis Steinfurt's coordination post opens its
group, schedules a meeting, puts an item on the agenda, invites, records the attendance and
puts a resolution to the vote; the groups, group, meeting and resolution pages pass axe."""

from __future__ import annotations

from tests.web.conftest import Pages, Served


def test_the_post_runs_a_meeting_of_its_group_and_the_pages_pass_axe(
    web_page: Pages, web_server: Served
) -> None:
    page = web_page.page
    web_page.sign_in("district_coordinator", "kreis-steinfurt")
    page.get_by_role("navigation").get_by_role("link", name="Lenkungsgruppen").first.click()
    page.wait_for_url("**/lenkungsgruppen")
    assert "Ihre Koordinierungsstelle führt diese Gruppe." in page.inner_text("main")
    web_page.check("steering-groups")

    page.get_by_role("link", name="Lenkungsgruppe KIM Kreis Steinfurt").click()
    page.get_by_label("Titel der Sitzung").fill("4. Sitzung der Lenkungsgruppe")
    page.get_by_label("Termin").fill("2030-03-01")
    web_page.check("steering-group")
    page.get_by_role("button", name="Sitzung planen").click()
    page.wait_for_url("**/sitzungen/*?erledigt=geplant")
    assert "Die Sitzung ist geplant." in page.inner_text("main")

    page.get_by_label("Thema des Tagesordnungspunkts").fill("Sprachkurse mit Kinderbetreuung")
    page.get_by_role("button", name="Punkt aufnehmen").click()
    page.wait_for_url("**?erledigt=punkt")
    page.get_by_label("Versandt am").fill("2030-02-01")
    page.get_by_role("button", name="Einladung mit Tagesordnung versenden").click()
    page.wait_for_url("**?erledigt=eingeladen")
    for box in page.locator("input[name=present]").all():
        box.check()
    page.get_by_role("button", name="Anwesenheit erfassen").click()
    page.wait_for_url("**?erledigt=gehalten")
    main = page.inner_text("main")
    assert "Beschlussfähig." in main
    assert "Sprachkurse mit Kinderbetreuung" in main
    web_page.check("steering-meeting")

    page.get_by_label("Wortlaut der Beschlussempfehlung").fill("Kurse mit Betreuung ausbauen")
    page.get_by_role("button", name="Zur Abstimmung stellen").click()
    page.wait_for_url("**/beschluesse/*?erledigt=vorgelegt")
    assert "zur Abstimmung" in page.inner_text("main")
    web_page.check("steering-resolution")
