"""The demo's immigration offices: Rheine's own office with a few procedures (pseudonymous,
no real names), and the registry's record that Kreis Steinfurt's office serves Emsdetten.

Running it again changes nothing: the procedures are written once, into an empty log.
"""

from __future__ import annotations

import logging
from datetime import date
from uuid import UUID

from contexts.immigration_office.states import Check, LegalBasis, Level, Step
from contexts.tenancy.contracts import Office
from projections.immigration_office import application
from runtime import context as request_context
from runtime.keyring import KeyFileProblem
from runtime.platform import Platform

log = logging.getLogger(__name__)
TENANT = "rheine"
PEOPLE = [  # initials and years only: no real person
    ("Demo-Person A. K.", "1990-04-01", "syrisch", "2016-03-01"),
    ("Demo-Person B. M.", "1988-09-15", "ukrainisch", "2018-06-01"),
    ("Demo-Person C. T.", "1999-01-20", "afghanisch", "2015-11-01"),
]


def load_office_demo(platform: Platform) -> list[str]:
    done: list[str] = []
    with request_context.bound(actor="kim-demo"):
        emsdetten = platform.directory(refresh=True).get("emsdetten")
        if emsdetten is not None and Office.IMMIGRATION_OFFICE not in emsdetten.offices_held_by:
            platform.tenancy.assign_offices(
                "emsdetten", "kreis-steinfurt", [Office.IMMIGRATION_OFFICE]
            )
            platform.directory(refresh=True)
            done.append("Kreis Steinfurt führt die Ausländerbehörde für Emsdetten")
        if platform.directory().get(TENANT) is None:
            return done
        if platform.store.head(TENANT, "immigration_office") > 0:
            return done
        try:
            done += _procedures(platform)
        except KeyFileProblem as e:  # no key file: no personal data, so no demo people
            log.warning("Ausländerbehörde Rheine: Demo-Verfahren übersprungen (%s)", e)
    return done


def _procedures(platform: Platform) -> list[str]:
    app = application(platform, TENANT)
    people: list[UUID] = []
    for name, born, nationality, since in PEOPLE:
        data = {"name": name, "date_of_birth": born, "nationality": nationality,
                "resident_since": since}  # fmt: skip
        (rec,) = app.register_person(data)
        people.append(UUID(str(rec.notification.originator_id)))

    def opened(person: UUID, basis: LegalBasis, on: date) -> UUID:
        recs = app.open_procedure(person, legal_basis=basis, residence=TENANT, opened_on=on)
        return UUID(str(recs[0].notification.originator_id))

    # A naturalisation granted under the 2024 rule (5 years), certificate handed over.
    nat = opened(people[0], LegalBasis.STAG_10, date(2025, 1, 15))
    app.take_step(nat, Step.RECEIVE_APPLICATION, on=date(2025, 2, 3))
    app.take_step(nat, Step.COMPLETE_DOCUMENTS, on=date(2025, 3, 10))
    app.take_step(nat, Step.START_CHECKS, on=date(2025, 3, 12))
    for check in (Check.IDENTITY, Check.TEST, Check.LIVELIHOOD, Check.SECURITY_ENQUIRY,
                  Check.NO_CONVICTIONS, Check.COMMITMENT):  # fmt: skip
        app.record_check(nat, check=check, passed=True, on=date(2025, 4, 1))
    app.record_check(nat, check=Check.LANGUAGE, passed=True, on=date(2025, 4, 1), level=Level.B1)
    app.take_step(nat, Step.GRANT, on=date(2025, 6, 2))
    app.take_step(nat, Step.HAND_OVER_CERTIFICATE, on=date(2025, 6, 20))
    # A naturalisation waiting for documents.
    waiting = opened(people[1], LegalBasis.STAG_10, date(2026, 10, 1))
    app.take_step(waiting, Step.RECEIVE_APPLICATION, on=date(2026, 11, 2))
    app.take_step(waiting, Step.REQUEST_DOCUMENTS, on=date(2026, 11, 20), due_on=date(2026, 12, 18))
    # An opportunity residence (§ 104c) running towards § 25b: language and livelihood open.
    chance = opened(people[2], LegalBasis.AUFENTHG_104C, date(2025, 5, 2))
    app.take_step(chance, Step.RECEIVE_APPLICATION, on=date(2025, 5, 2))
    for check in (Check.IDENTITY, Check.NO_CONVICTIONS, Check.COMMITMENT):
        app.record_check(chance, check=check, passed=True, on=date(2025, 5, 20))
    app.take_step(chance, Step.COMPLETE_REQUIREMENTS_CHECK, on=date(2025, 5, 21))
    app.take_step(chance, Step.GRANT, on=date(2025, 8, 1), aims_at=LegalBasis.AUFENTHG_25B)
    return [
        "Ausländerbehörde Rheine: 3 Personen (pseudonym) und 3 Verfahren angelegt"
        " (Einbürgerung erteilt, Einbürgerung mit Unterlagenanforderung, § 104c bis 31.01.2027)"
    ]
