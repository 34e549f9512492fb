"""The detector of obvious personal data in texts meant to carry none (``contexts.shared``)."""

from __future__ import annotations

import pytest

from contexts.shared.errors import DomainError
from contexts.shared.personal_data import check_no_personal_data, find_personal_data

FOUND = [
    # phone numbers
    ("phone", "Rückruf unter 05971 123456 erbeten"),
    ("phone", "erreichbar unter 05971/123456"),
    ("phone", "erreichbar unter 05971 / 12 34 56"),
    ("phone", "Handy 0171-123 45 67"),
    ("phone", "mobil: 0171 1234567"),
    ("phone", "(05971) 80 12 34 nach 14 Uhr"),
    ("phone", "Nummer +49 5971 123456"),
    ("phone", "Nummer +49 (0) 5971 123456"),
    ("phone", "+491711234567"),
    ("phone", "0049 171 1234567"),
    ("phone", "Tel. 123456"),
    ("phone", "Telefon: 80 12 34"),
    ("phone", "WhatsApp 1234567"),
    ("phone", "030 12345678"),
    # e-mail addresses
    ("email", "schreibt an lina.sorokina@example.de"),
    ("email", "Kontakt: o.k+kim@web-mail.de"),
    ("email", "olena(at)gmx.de"),
    ("email", "an info @ beispiel.org schicken"),
    # dates of birth
    ("date_of_birth", "geb. 12.03.1985"),
    ("date_of_birth", "geboren am 1.3.85"),
    ("date_of_birth", "Geburtsdatum: 1985-03-12"),
    ("date_of_birth", "Geburtstag 12/03/1985"),
    ("date_of_birth", "* 12.03.1985 in Charkiw"),
    ("date_of_birth", "geb. 1985"),
    ("date_of_birth", "Geboren 1990 in Aleppo"),
    ("date_of_birth", "born 1988"),
    ("date_of_birth", "Jahrgang: 03.04.2016"),
    # postal addresses
    ("address", "wohnt in der Musterstraße 12"),
    ("address", "Bahnhofstr. 5a, 2. OG"),
    ("address", "Mühlenweg 3"),
    ("address", "Karl-Marx-Platz 1"),
    ("address", "Rheiner Straße 12"),
    ("address", "Alter Markt 5"),
    ("address", "Hohe Straße 7b"),
    ("address", "Lindenallee 20"),
    ("address", "48431 Rheine"),
    ("address", "D-48431 Rheine"),
    ("address", "in 48282 Emsdetten gemeldet"),
    ("address", "52062 Aachen-Mitte"),
    # names
    ("name", "Herr Yilmaz wartet auf einen Kursplatz"),
    ("name", "Frau Sorokina hat keinen Platz"),
    ("name", "Termin mit Fr. Kovalenko"),
    ("name", "Hr. Haddad"),
    ("name", "Familie Haddad sucht eine Wohnung"),
    ("name", "Frau Dr. Meier vom Gesundheitsamt"),
    ("name", "Herrn al-Hassan"),
    ("name", "geb. Müller"),
    ("name", "Lina Sorokina wartet"),
    ("name", "für Omar K. kein Platz"),
    ("name", "Sprachkurs Olena Kovalenko"),
    ("name", "Mohammed Al-Hassan"),
    ("name", "Ahmad al Hassan"),
    ("name", "Zeynep Yıldız braucht eine Kita"),
    ("name", "Mr. Smith"),
]

CLEAN = [
    "Kein Sprachkurs mit Kinderbetreuung in Rheine",
    "No B1 course with childcare in the area",
    "Wartezeit auf einen Integrationskurs über 6 Monate",
    "Kurs beginnt erst am 01.09.2022",
    "Kurse ab 2022-09-01 voll",
    "Kita-Plätze für Jahrgang 2019 fehlen",
    "Kinder, die 2019 geboren sind, finden keinen Platz",
    "Wohnungsmarkt 2023 angespannt",
    "Arbeitsweg 30 Minuten mit dem Bus",
    "Schulweg 5 km ohne Busverbindung",
    "12000 Euro fehlen im Haushalt",
    "15000 Neuzugewanderte im Kreis",
    "Kosten 1.200 Euro pro Monat",
    "0,5 VZÄ unbesetzt",
    "SGB II und SGB III",
    "Beratung von 08:00 bis 12:00 Uhr",
    "Frauen ohne Kinderbetreuung finden keinen Kurs",
    "eine Frau mit drei Kindern",
    "Familie mit fünf Kindern ohne Wohnung",
    "Der Weg 3 Kilometer zur Schule",
    "Termine nur dienstags, 2 Stunden",
    "Lernen fördern e.V.",
    "Caritas Rheine",
    "Fachbereich Kinder, Jugend und Schule",
    "Jobcenter Kreis Steinfurt",
    "B1-Kurs mit 25 Plätzen",
    "Kursbeginn: 3. Quartal",
    "Plätze 1 bis 20 vergeben",
    "Anträge seit 2021 unbearbeitet",
    "Raum 012 im Rathaus",
    "Paragraph 45a AufenthG",
]


@pytest.mark.parametrize(("kind", "text"), FOUND)
def test_obvious_personal_data_is_found(kind: str, text: str) -> None:
    assert kind in {f.kind for f in find_personal_data(text)}, text


@pytest.mark.parametrize("text", CLEAN)
def test_texts_without_personal_data_pass(text: str) -> None:
    assert find_personal_data(text) == []
    assert check_no_personal_data(text, "description") == text


def test_the_refusal_names_rule_field_kind_and_position_not_the_text() -> None:
    with pytest.raises(DomainError) as refused:
        check_no_personal_data("Kein Kurs; Rückruf 0171 1234567", "description")
    error = refused.value
    assert error.rule == "personal-data-in-text"
    assert error.facts == {"field": "description", "kind": "phone", "position": 20}
    assert "a phone number" in error.detail
    assert "1234567" not in error.detail


def test_the_first_finding_is_named_and_kinds_can_be_chosen() -> None:
    text = "Frau Sorokina, Tel. 0171 1234567"
    assert find_personal_data(text)[0].kind == "name"
    assert {f.kind for f in find_personal_data(text, kinds={"phone"})} == {"phone"}
    assert check_no_personal_data("Herr Yilmaz", "name", kinds={"phone", "email"})


@pytest.mark.parametrize(("kind", "text"), FOUND)
def test_the_cheap_tests_before_the_patterns_hold_for_every_example(kind: str, text: str) -> None:
    """The detector skips the digit kinds in a text without a digit and the e-mail patterns
    in a text without an at sign; their patterns, run without that shortcut, agree."""
    from contexts.shared import personal_data as pd

    without_digits = "".join("x" if c.isdigit() else c for c in text)
    without_at = text.replace("@", " ").replace("(at)", " ").replace("[at]", " ")
    for k, pattern, _check in pd._PATTERNS:
        if k in pd._NEED_A_DIGIT:
            assert pattern.search(without_digits) is None, (k, without_digits)
        if k == "email":
            assert pattern.search(without_at) is None, without_at
    assert kind in {f.kind for f in find_personal_data(text)}
