"""The steering group's pages in Chromium: Kreis Steinfurt's coordination post opens its
group, schedules a meeting, puts an item on the agenda, invites, records the attendance and
puts a resolution to the vote; the groups, group, meeting and resolution pages pass axe.
Then the resolution is carried out and evaluated with the indicator counted from case
management (life dimension, service, two periods): an inverted period is refused next to
its field, appending nothing; the page then shows the counted indicator."""

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

    main_text = _carry_out(web_page)
    assert "Evaluieren mit der Kennzahl aus dem Case Management" in main_text
    assert "Indikator von Hand eintragen" in main_text
    periods = {
        "Von (vorher)": "2022-01-01", "Bis (vorher, einschließlich)": "2021-12-31",  # inverted
        "Von (nachher)": "2023-01-01", "Bis (nachher, einschließlich)": "2023-12-31",
    }  # fmt: skip
    form = page.locator("form[action$='/evaluation']")
    form.get_by_label("Datum der Evaluation").fill("2030-05-03")  # after "umgesetzt"
    form.get_by_label("Lebensbereich").select_option(label="Bildung")
    form.get_by_label("Dienst der Verweisung").select_option(label="Jugendamt (SGB VIII)")
    for label, value in periods.items():
        form.get_by_label(label).fill(value)
    web_page.check("steering-resolution-evaluation")
    store = web_server.platform.store
    before = store.head("kreis-steinfurt", "steering")
    page.get_by_role("button", name="Evaluation speichern").click()
    page.wait_for_load_state()
    refused = page.locator("#evaluate-before-to-error")
    assert refused.inner_text().strip() == "Das Ende des Zeitraums liegt vor seinem Beginn."
    assert page.locator("#evaluate-before-to").get_attribute("aria-invalid") == "true"
    assert store.head("kreis-steinfurt", "steering") == before
    web_page.check("steering-resolution-refused")

    form = page.locator("form[action$='/evaluation']")
    assert form.get_by_label("Lebensbereich").input_value() == "education"  # kept
    form.get_by_label("Bis (vorher, einschließlich)").fill("2022-12-31")
    form.get_by_label("Nachsteuerung nötig").check()
    page.get_by_role("button", name="Evaluation speichern").click()
    page.wait_for_url("**?erledigt=evaluiert")
    main_text = page.inner_text("main")
    assert "Die Evaluation ist gespeichert." in main_text
    assert "Verweisungen im Lebensbereich Bildung an Jugendamt (SGB VIII)" in main_text
    assert "Kennzahl aus dem Case Management kreis-steinfurt" in main_text
    assert store.head("kreis-steinfurt", "steering") == before + 1
    web_page.check("steering-resolution-evaluated")


def _carry_out(web_page: Pages) -> str:
    """On the resolution page: three votes for, the result, a task, implementation begun,
    the task done, implemented; the page's main text."""
    page = web_page.page
    for _ in range(3):
        page.get_by_role("radio", name="Ja").check()
        page.get_by_role("button", name="Stimme erfassen").click()
        page.wait_for_url("**?erledigt=stimme")
    page.get_by_role("button", name="Ergebnis feststellen").click()
    page.wait_for_url("**?erledigt=ergebnis")
    page.get_by_label("Auftrag", exact=True).fill("Kurse melden")
    page.get_by_label("Zuständige Institution").fill("Volkshochschule")
    page.get_by_label("Frist").fill("2030-06-30")
    page.get_by_role("button", name="Auftrag erteilen").click()
    page.wait_for_url("**?erledigt=auftrag")
    for status, on in (("in_implementation", "2030-04-01"), ("implemented", "2030-05-02")):
        if status == "implemented":
            page.get_by_label("Erledigt am (Auftrag 1: Kurse melden)").fill("2030-05-01")
            page.get_by_role("button", name="Als erledigt erfassen").click()
            page.wait_for_url("**?erledigt=erledigt")
        page.get_by_label("Neuer Stand").select_option(status)
        page.locator("form[action$='/stand']").get_by_label("Datum").fill(on)
        page.get_by_role("button", name="Stand speichern").click()
        page.wait_for_url("**?erledigt=stand")
    return page.inner_text("main")
