"""A detector for obvious personal data in free text that is meant to carry none.

Texts that leave a case for others (a gap for coordination, a topic for the steering group)
must not identify anyone. Sealing protects what is about a person; these texts are not
sealed, so the detector refuses what obviously is personal data before it is stored:

- ``phone``: German numbers (``+49 5971 123456``, ``0049 ...``, ``05971/123456``,
  ``0171-123 45 67``, ``(05971) 80 12 34``; at least 7 digits), and digits after ``Tel.``,
  ``Telefon``, ``Handy``, ``Mobil``, ``Fax``, ``WhatsApp``;
- ``email``: ``name@domain.de`` (also ``name(at)domain.de``);
- ``date_of_birth``: a date (``12.03.1985``, ``12.3.85``, ``1985-03-12``, ``12/03/1985``)
  or a year after a birth keyword (``geb.``, ``geboren``, ``Geburtsdatum``, ``Jahrgang``,
  ``Jg.``, ``born``, ``DOB``, ``*``);
- ``address``: a street with its number (``Musterstraße 12``, ``Bahnhofstr. 5a``,
  ``Mühlenweg 3``, ``Rheiner Straße 12``, ``Karl-Marx-Platz 1``) and a postal code with a
  town (``48431 Rheine``, ``D-48431 Rheine``);
- ``name``: a form of address with a name (``Herr Yilmaz``, ``Frau Sorokina``, ``Fr.
  Kovalenko``, ``Familie Haddad``, ``Dr. Meier``, ``geb. Müller``), and a common first name
  (German, Ukrainian, Russian, Arabic, Turkish, Kurdish, Persian/Dari, Tigrinya, Polish,
  Romanian, Bulgarian, Albanian: the languages of the people in KIM case management) followed
  by a capitalised word or an initial (``Lina Sorokina``, ``Omar K.``).

Limits, on purpose (it finds the obvious, it does not understand text): a plain date
without a birth keyword passes (a gap may say when a course starts); a surname alone, a
first name alone or a first name not in the list passes; a street without a number passes;
ages, nationalities, diagnoses and descriptions of circumstances pass. A false alarm (a
noun after "Frau" or "Familie", a town after a five-digit number that is not a postal
code) is rephrased by the writer. The detector never replaces the review by a person; it
refuses what no review should have let through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from contexts.shared.errors import DomainError

RULE = "personal-data-in-text"

KINDS: dict[str, str] = {
    "phone": "a phone number",
    "email": "an e-mail address",
    "date_of_birth": "a date of birth",
    "address": "a postal address",
    "name": "a person's name",
}


def _words(text: str) -> list[str]:
    return text.split()


FIRST_NAMES = frozenset(
    _words(
        """
    Anna Maria Sophie Sofia Emma Mia Hannah Lea Lena Lina Laura Julia Sarah Lisa Katharina
    Johanna Clara Marie Greta Ida Petra Sabine Monika Claudia Andrea Susanne Stefanie Nicole
    Alexander Maximilian Paul Lukas Jonas Leon Felix Elias Noah Ben Finn Luca Jan Tim Tobias
    Michael Thomas Andreas Stefan Peter Klaus Jürgen Wolfgang Markus Christian Daniel Sebastian
    Olena Oksana Iryna Tetiana Tetyana Natalia Nataliya Svitlana Yulia Yuliia Kateryna Olha
    Halyna Nadiya Viktoria Anastasia Daria Alina Marina Irina Tatjana Svetlana Ludmila
    Oleksandr Oleksii Andrii Dmytro Serhii Mykola Volodymyr Vasyl Ivan Yurii Bohdan Taras
    Dmitri Sergej Sergei Vladimir Nikolai Igor Oleg Artem Maksym Viktor
    Mohammed Mohammad Muhammad Mohamed Ahmad Ahmed Ali Omar Umar Hassan Hussein Husain Mahmoud
    Mustafa Khaled Khalid Yusuf Youssef Ibrahim Abdullah Abdul Karim Samir Tarek Walid Rami
    Bilal Hamza Amir Nour Noor Fatima Fatma Aisha Aischa Amina Mariam Maryam Leila Layla Zainab
    Zeynep Rana Rasha Hiba Huda Samira Yasmin Jasmin Dalia Reem Lamis
    Mehmet Mustafa Ahmet Hüseyin Hasan Emre Murat Burak Can Cem Deniz Elif Ayşe Ayse Emine
    Hatice Merve Esra Büşra Özlem Kemal Serkan Volkan Yasin Ömer Osman Recep
    Rojda Rojin Dilan Berivan Newroz Shirin Azad Baran Diyar Rezan Hevin
    Farid Farhad Hamid Javad Reza Mehdi Morteza Nasrin Parisa Soraya Zahra Fereshteh Habib
    Gul Gulalai Mursal Sediqa Wahid Zabihullah Najibullah
    Yonas Tesfaye Tekle Mehret Senait Abeba Filmon Yohannes Kidane Berhane Selam
    Agnieszka Katarzyna Małgorzata Magdalena Piotr Krzysztof Tomasz Paweł Marcin Grzegorz
    Andrei Ionut Mihai Gheorghe Elena Ioana Mihaela Georgi Dimitar Ivanka Desislava
    Arben Besnik Blerina Dritan Elira Fatmir Valbona
    """
    )
)

_STREET = (
    r"(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|pfad|chaussee|wall"
    r"|graben|steig|stiege)"
)
_STREET_WORD = r"(?:Straße|Strasse|Str\.|Weg|Platz|Allee|Gasse|Ring|Damm|Ufer|Markt)"
_ARTICLES = "Der|Die|Das|Den|Dem|Des|Ein|Eine|Einer|Einen|Kein|Keine|Keiner|Jeder|Jede|Dieser|Diese"
_COUNTED = "|".join(
    _words(
        """
    Euro EUR Personen Menschen Leute Plätze Platz Fälle Fällen Stunden Kinder Kindern
    Familien Einwohner Einwohnerinnen Einwohnende Neuzugewanderte Zugewanderte Zuwanderer
    Geflüchtete Flüchtlinge Haushalte Anträge Termine Teilnehmende Teilnehmer Jahre Tage
    Tagen Wochen Monate Minuten Kilometer Meter Wohnungen Betten Kurse Kursplätze Stellen
    Fachkräfte Schüler Schülerinnen Mal
    """
    )
)
_NOT_A_HOUSE_NUMBER = r"(?!\s*(?:km\b|m\b|min\b|Std\b|%|€|(?:" + _COUNTED + r")\b))"
_DATE = (
    r"(?:\d{1,2}\.\s?\d{1,2}\.\s?(?:\d{4}|\d{2})(?!\d)|\d{4}-\d{2}-\d{2}"
    r"|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})(?!\d))"
)
_BIRTH_DATE = (
    r"(?:(?<!\w)(?i:geb\.|geboren|geburtsdatum|geburtstag|geb\.-?datum|jahrgang|jg\.|born"
    r"|dob|date of birth)|\*)"
)
_BIRTH_YEAR = r"(?:(?<!\w)(?i:geb\.|geboren|born)|\*)"
_LOWER = r"a-zäöüßçğışéèáóúñ'’"
_CAPITALISED = rf"[A-ZÄÖÜ][{_LOWER}]+(?:-[A-ZÄÖÜ][{_LOWER}]+)?"
_PARTICLE = r"(?:(?:al|el|von|van|de|bin|ibn)[\s-])?"


def _first_names() -> str:
    return "|".join(sorted(FIRST_NAMES, key=lambda n: (-len(n), n)))


def _enough_digits(found: str) -> bool:
    return sum(c.isdigit() for c in found) >= 7


_PATTERNS: list[tuple[str, re.Pattern[str], Callable[[str], bool] | None]] = [
    (
        "email",
        re.compile(r"[\w.%+-]+\s?(?:@|\(at\)|\[at\])\s?[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}"),
        None,
    ),
    (  # +49 5971 123456, 0049 171 1234567, +49 (0) 5971 12345
        "phone",
        re.compile(
            r"(?<![\w.,/])(?:\+|00)\s?\d{2,3}[\s/-]?(?:\(0\)\s?)?\d(?:[\s/-]{0,3}\d){5,13}"
            r"(?![\d.,]\d)"
        ),
        None,
    ),
    (  # 05971/123456, 0171-123 45 67, (05971) 80 12 34
        "phone",
        re.compile(
            r"(?<![\w.,/])\(?0\d{2,5}\)?(?:\s?[/-]\s?|\s)?\d(?:[\s/-]?\d){3,10}(?![\d.,]\d)"
        ),
        _enough_digits,
    ),
    (  # Tel. 123456, Handy: 1234567
        "phone",
        re.compile(
            r"(?<!\w)(?i:tel|telefon|telefonnummer|handy|handynummer|mobil|mobilnummer|fax"
            r"|whatsapp|phone)\b\.?:?\s*\+?\d(?:[\s/-]?\d){4,}"
        ),
        None,
    ),
    ("date_of_birth", re.compile(_BIRTH_DATE + r"\s*(?:(?i:am|on)\s+|:\s*)?" + _DATE), None),
    (
        "date_of_birth",
        re.compile(_BIRTH_YEAR + r"\s*(?:(?i:im jahr|in)\s+|:\s*)?(?:19|20)\d{2}\b"),
        None,
    ),
    (  # Musterstraße 12, Bahnhofstr. 5a, Karl-Marx-Platz 1
        "address",
        re.compile(
            r"\b[A-ZÄÖÜ][\wäöüß-]*?(?i:"
            + _STREET
            + r")\s?\d{1,3}(?:\s?[a-zA-Z])?\b"
            + _NOT_A_HOUSE_NUMBER
        ),
        None,
    ),
    (  # Rheiner Straße 12, Alter Markt 5
        "address",
        re.compile(
            r"\b(?!(?:"
            + _ARTICLES
            + r")\b)[A-ZÄÖÜ][a-zäöüß]+(?:er|e|en)\s+"
            + _STREET_WORD
            + r"\s+\d{1,3}(?:\s?[a-zA-Z])?\b"
            + _NOT_A_HOUSE_NUMBER
        ),
        None,
    ),
    (  # 48431 Rheine, D-48431 Rheine (not: 12000 Euro)
        "address",
        re.compile(r"(?<![\d.,])(?:D-\s?)?\d{5}\s+(?!(?:" + _COUNTED + r")\b)" + _CAPITALISED),
        None,
    ),
    (  # Herr Yilmaz, Frau Dr. Meier, Familie Haddad, geb. Müller
        "name",
        re.compile(
            r"(?<!\w)(?:Herrn?|Frau|Hr\.|Fr\.|Familie|Fam\.|Dr\.|Mr\.?|Mrs\.?|Ms\.?|geb\.)\s+"
            r"(?:Dr\.\s+)?" + _PARTICLE + _CAPITALISED
        ),
        None,
    ),
    (  # Lina Sorokina, Omar K.
        "name",
        re.compile(
            r"(?<!\w)(?:"
            + _first_names()
            + r")\s+"
            + _PARTICLE
            + r"(?:"
            + _CAPITALISED
            + r"|[A-ZÄÖÜ]\.)"
        ),
        None,
    ),
]


_DIGIT = re.compile(r"\d")
_NEED_A_DIGIT = frozenset({"phone", "date_of_birth", "address"})


@dataclass(frozen=True)
class Finding:
    """What looks like personal data: its kind and where it starts and ends in the text."""

    kind: str
    start: int
    end: int


def find_personal_data(text: str, kinds: Collection[str] = tuple(KINDS)) -> list[Finding]:
    """Everything in ``text`` that looks like personal data of ``kinds``, in text order."""
    found: list[Finding] = []
    # Cheap tests first: every match of those kinds holds a digit, every e-mail address an
    # at sign; most texts (names, titles, short notes) then skip most of the patterns.
    digits = _DIGIT.search(text) is not None
    at_sign = "@" in text or "(at)" in text or "[at]" in text
    for kind, pattern, check in _PATTERNS:
        if kind not in kinds or (kind == "email" and not at_sign):
            continue
        if not digits and kind in _NEED_A_DIGIT:
            continue
        for match in pattern.finditer(text):
            if check is None or check(match.group(0)):
                found.append(Finding(kind, match.start(), match.end()))
    found.sort(key=lambda f: (f.start, -f.end))
    return found


def check_no_personal_data(text: str, field: str, kinds: Collection[str] = tuple(KINDS)) -> str:
    """The text, or a ``personal-data-in-text`` refusal naming the kind and where it starts.

    The refusal does not repeat what was found: the problem response is logged and shown.
    """
    found = find_personal_data(text, kinds)
    if found:
        first = found[0]
        raise DomainError(
            RULE,
            f"{field} must carry no personal data: it contains what looks like"
            f" {KINDS[first.kind]} (at character {first.start + 1})",
            field=field,
            kind=first.kind,
            position=first.start + 1,
        )
    return text


def check_minimal(personal_data: Collection[str], allowed: Collection[str]) -> None:
    """Data are minimal: a person record takes only the fields its context needs
    (``allowed``); any other field is refused, naming it, before anything is sealed."""
    unknown = sorted(set(personal_data) - set(allowed))
    if unknown:
        raise DomainError(
            "not-minimal-data",
            f"fields beyond the minimum are not stored: {', '.join(unknown)}",
            field="personal_data",
        )
