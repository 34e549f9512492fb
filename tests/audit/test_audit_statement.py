"""The Verwendungsnachweis of the demo's Kreis Steinfurt for 2021, against figures by hand.

The demo (kim/demo.py) holds for 2021: notice B1 (3.5 FTE coordination at 55,000 EUR,
0.5 FTE assistance at 45,000 EUR) with 1.0 FTE coordination forwarded to Rheine from
1 May (50,000 EUR a year, flat); Kreis Steinfurt's own coordination (2.5 FTE: 1.0 + 1.0 from
January, 0.5 from 15 April) and assistance (0.5 FTE from 1 March); notice B2 (9.0 FTE case
management) with 1.9 FTE forwarded to "Lernen fördern" from 1 September (104,500 EUR a year).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.statement import VacancyRule
from contexts.shared.errors import DomainError
from runtime import audit
from runtime.platform import Platform
from services.audit.report import build, prepare, to_csv, to_pdf
from tests.audit.pdf_text import pages

D = Decimal


def ks(platform: Platform) -> CoordinationApplication:
    return platform.app(CoordinationApplication, "kreis-steinfurt")


def test_baustein_1_of_2021_by_hand(platform: Platform) -> None:
    s, history = build(platform.store, ks(platform), "KIM-B1-2021-05566", 2021)
    assert {g.label: g.value for g in s.granted} == {
        "granted:assistance": D("22500.00"),  # 0.5 x 45,000
        "granted:coordination": D("192500.00"),  # 3.5 x 55,000
        "granted:material_costs": D("0.00"),
    }
    lines = {p.title: p for p in s.positions}
    coordination = lines["Koordination KI Kreis Steinfurt"]
    # Cap: 55,000 x (2.0 FTE x 3 months + 2.5 FTE x 9 months) / 12 (0.5 FTE from 15 April).
    # Costs: 3 x 9,100 + 10,600 + 8 x 11,350; never a month without staff.
    assert (coordination.vacant_months, coordination.cap) == (0, D("130625.00"))
    assert (coordination.actual_cost, coordination.grant_use) == (D("128700.00"),) * 2
    assistance = lines["Assistenz KI Kreis Steinfurt"]
    # January and February vacant: 45,000 x 0.5 x 10/12; costs 10 x 1,850.
    assert (assistance.vacant_months, assistance.cap) == (2, D("18750.00"))
    assert (assistance.actual_cost, assistance.grant_use) == (D("18500.00"),) * 2
    rheine = lines["Koordinierungsstelle KIM Stadt Rheine"]
    assert (rheine.funded_by, rheine.actual_cost) == ("rheine", D("36000.00"))  # 8 x 4,500
    assert rheine.grant_use is None  # a flat contract: its line carries the money
    (contract,) = s.contracts
    assert (contract.recipient, contract.months) == ("rheine", D("8.0000"))
    assert contract.forwarded == D("33333.33")  # 50,000 x 8/12
    assert contract.reported_cost == D("36000.00")
    by_month = {m.month: m for m in s.months}
    assert by_month["2021-01"].filled_fte == D("2.0000")
    assert by_month["2021-03"].filled_fte == D("2.5000")  # assistance from March
    assert by_month["2021-04"].filled_fte == D("2.7667")  # 0.5 x 16/30 days from 15 April
    assert by_month["2021-05"].filled_fte == D("4.0000")  # Rheine's post from May
    assert (by_month["2021-04"].forwarded_fte, by_month["2021-05"].forwarded_fte) == (
        D("0.0000"),
        D("1.0000"),
    )
    assert all(m.granted_fte == D("4.0000") for m in s.months)
    assert s.total("granted") == D("215000.00")
    assert s.total("recognised_staff_cost") == D("147200.00")
    assert s.total("forwarded") == D("33333.33")
    assert s.total("used") == D("180533.33")
    assert s.total("unused") == D("34466.67")
    # Staff cost 128,700 + 18,500 + 36,000; Rheine pays what the flat amount leaves, as its
    # own funds: 36,000 - 33,333.33.
    assert s.total("staff_cost") == D("183200.00")
    assert s.total("staff_grant_use") == D("180533.33")
    assert (s.total("own_funds"), s.total("uncovered")) == (D("2666.67"), D("0.00"))
    # Drill-down: the recognised cost rests on exactly the cost events of the own positions.
    cost_events = {
        event_id
        for aggregate_id in (coordination.position_id, assistance.position_id)
        for event_id, event in history.evidence[aggregate_id]
        if type(event).__name__ == "StaffCostRecorded"
    }
    assert len(cost_events) == 22
    recognised = next(t for t in s.totals if t.label == "recognised_staff_cost")
    assert cost_events <= set(recognised.events)
    stored = {r.event_id for r in platform.store.read_log("kreis-steinfurt", "coordination")}
    assert set(recognised.events) <= stored


def test_the_pro_rata_rule_counts_months_by_filled_fte(platform: Platform) -> None:
    s, _ = build(
        platform.store, ks(platform), "KIM-B1-2021-05566", 2021, rule=VacancyRule.PRO_RATA_FILLED
    )
    lines = {p.title: p for p in s.positions}
    # Coordination: 3 x 0.8 + (2 + 0.5 x 16/30)/2.5 + 8 = 11.30667 months of 2.5 FTE.
    assert lines["Koordination KI Kreis Steinfurt"].cap == D("129555.56")
    assert lines["Assistenz KI Kreis Steinfurt"].cap == D("18750.00")


def test_baustein_2_of_2021_by_hand(platform: Platform) -> None:
    s, _ = build(platform.store, ks(platform), "KIM-B2-2021-05566", 2021)
    assert s.total("granted") == D("495000.00")  # 9.0 x 55,000
    (contract,) = s.contracts
    assert contract.forwarded == D("34833.33")  # 104,500 x 4/12
    assert contract.reported_cost == D("30820.00")  # 4,600 + 3 x 8,740
    (position,) = s.positions
    assert position.cap == D("30708.33")  # 55,000 x (1.0 in September + 1.9 x 3) / 12
    assert s.total("used") == D("34833.33")
    assert s.total("unused") == D("460166.67")


def test_as_of_a_position_or_date_the_statement_shows_what_was_known(
    platform: Platform,
) -> None:
    full, history = build(platform.store, ks(platform), "KIM-B1-2021-05566", 2021)
    # Before the last cost was recorded, December of Rheine's post was not reported yet.
    (last_cost,) = [
        event_id
        for event_id, event in history.evidence[
            next(p.position_id for p in full.positions if p.funded_by == "rheine")
        ]
        if getattr(event, "month", "") == "2021-12"
    ]
    (record,) = [
        r for r in platform.store.read_log("kreis-steinfurt", "coordination")
        if r.event_id == last_cost
    ]  # fmt: skip
    earlier, _ = build(
        platform.store, ks(platform), "KIM-B1-2021-05566", 2021, upto=record.position - 1
    )
    assert earlier.contracts[0].reported_cost == D("31500.00")  # 7 x 4,500
    with pytest.raises(DomainError) as before_anything:
        build(
            platform.store, ks(platform), "KIM-B1-2021-05566", 2021,
            until=datetime(2020, 1, 1, tzinfo=UTC),
        )  # fmt: skip
    assert before_anything.value.rule == "unknown-notice"


def test_csv_and_pdf_carry_german_labels_and_event_ids(platform: Platform) -> None:
    s, head, story = prepare(platform.store, "kreis-steinfurt", "KIM-B1-2021-05566", 2021)
    text = to_csv(s, head, story=story)
    lines = text.splitlines()
    assert lines[:3] == [
        "Abschnitt;Posten;Wert;Ereignisse",
        "Kopf;Dokument;Verwendungsnachweis – zahlenmäßiger Nachweis 2021;",
        "Kopf;Status;VORLÄUFIG – Stichtag noch nicht abgeschlossen;",  # as of now
    ]
    for line in (
        "Kopf;Zuwendungsempfänger;Kreis Steinfurt;",
        "Kopf;AGS;05566;",
        "Kopf;Zuwendungsgeber;Bezirksregierung Arnsberg;",
        "Kopf;Baustein;1 – Strategische Koordinierung;",
        "Kopf;Bewilligungszeitraum;01.01.2021 – 31.12.2022;",
        "Kopf;Sachbericht umfasst;kreis-steinfurt, emsdetten, rheine;",
        "Satz;Koordination ab 01.01.2021 (KIM-B1-2021-05566);3,50 VZÄ × 55.000,00 je VZÄ und Jahr;",
        "Summe;Verwendet insgesamt;180.533,33;",
        "Summe;Nicht verwendet;34.466,67;",
    ):
        assert line in lines
    assert "Bewilligung;Bewilligt: Koordination;192.500,00;" in text
    assert "Summe;Personalkosten (Ist);183.200,00;" in text
    by_item = {row.split(";")[1]: row.split(";") for row in lines}
    cap = by_item["Koordination KI Kreis Steinfurt: Obergrenze"]
    assert (cap[0], cap[2]) == ("Stelle", "130.625,00")
    coordination = next(p for p in s.positions if p.title == "Koordination KI Kreis Steinfurt")
    assert cap[3].split() == coordination.events  # in full, every one
    assert by_item["Koordinierungsstelle KIM Stadt Rheine: finanziert durch"][2] == "Stadt Rheine"
    assert by_item["Koordinierungsstelle KIM Stadt Rheine: Zuwendung"][2] == (
        "über die Pauschale des Vertrags"
    )
    assert by_item["an Stadt Rheine: Zuwendung (weitergeleitet)"][2] == "33.333,33"
    assert by_item["an Stadt Rheine: Grenze"][2] == "33.333,33"
    assert by_item["2021-04: besetzt (VZÄ)"][2] == "2,7667"
    assert by_item["2021-05: weitergeleitet (VZÄ)"][2] == "1,00"
    assert '"' not in text  # no value needs quoting

    pdf = to_pdf(s, head, story=story)
    assert pdf.startswith(b"%PDF")
    shown = pages(pdf)
    assert len(shown) == 3  # two pages of statement, one of events
    assert [p.splitlines()[-1] for p in shown] == [f"Seite {n} von 3" for n in (1, 2, 3)]
    first = shown[0]
    for part in (
        "Verwendungsnachweis – zahlenmäßiger Nachweis 2021",
        "VORLÄUFIG – Stichtag noch nicht abgeschlossen",
        "Zuwendungsempfänger",
        "Kreis Steinfurt",
        "Mandant kreis-steinfurt, AGS 05566",
        "Anschrift",
        "Bezirksregierung Arnsberg",
        "KIM-B1-2021-05566 [A1]",
        "01.01.2021 – 31.12.2022",
        "1. Bewilligte Stellen und Sätze",
        "55.000,00",
        "2. Zahlenmäßiger Nachweis Baustein 1 für 2021",
        "192.500,00",
        "180.533,33",
        "C. Nicht verwendet – zurückzuzahlen (A – B)",
        "34.466,67",
    ):
        assert part in first, part
    body = "\n".join(shown)
    for part in (
        "3. Personalkosten und ihre Deckung",
        "183.200,00",
        "4. Stellen",
        "130.625,00",
        "Pauschale¹",
        "5. Weiterleitungsverträge",
        "Stadt Rheine",
        "6. Stellen je Monat 2021 (VZÄ)",
        "2,7667",
        "7. Statistik zum Sachbericht",
        "Rechtsverbindliche Unterschrift, Name, Funktion",
    ):
        assert part in body, part
    appendix = shown[-1]
    assert "Anlage: Ereignisse" in appendix
    assert all(event_id in appendix for event_id in coordination.events)  # 36 characters each
    assert "Personalkosten 2021-12: 11.350,00 €" in appendix
    assert "Die Ereignisse von [A5], [A6]." in appendix  # recognised = the own positions


def test_the_narrative_statistics_count_the_year_with_their_events(platform: Platform) -> None:
    from contexts.case_management.application import CaseManagementApplication
    from contexts.case_management.domain import ClosureReason, ReferralSource, Service
    from contexts.case_management.people import ConsentPurpose
    from contexts.coordination.gaps import LifeDimension
    from services.audit.narrative import narrative

    rheine = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)

    def case(opened: date) -> Any:
        (person,) = rheine.register_person({"name": "N."}, date(2021, 1, 1))
        pid = person.domain_event.originator_id
        for purpose, recipient in ((ConsentPurpose.CASE_MANAGEMENT, "rheine"),
                                   (ConsentPurpose.REFERRAL, "jmd-rheine")):  # fmt: skip
            rheine.give_consent(pid, purpose=purpose, recipient=recipient, given_on=opened)
        first, *_ = rheine.open_case(pid, referral_source=ReferralSource.SCHOOL, opened_on=opened)
        return first.domain_event.originator_id

    in_2021 = case(date(2021, 10, 1))
    rheine.assess(in_2021, needs={"language": "high", "work_and_livelihood": "low"},
                  on=date(2021, 10, 5))  # fmt: skip
    rheine.agree_goals(in_2021, goals={"language": "B1"}, on=date(2021, 10, 10))
    rheine.start_linking(in_2021, on=date(2021, 10, 15))
    rheine.propose_referral(in_2021, service=Service.JMD, recipient="jmd-rheine",
                            on=date(2021, 10, 20))  # fmt: skip
    rheine.answer_referral(in_2021, index=0, accepted=True, on=date(2021, 10, 25))
    rheine.close_case(in_2021, reason=ClosureReason.MOVED_AWAY, on=date(2021, 12, 1))
    case(date(2022, 1, 10))  # another year
    ks(platform).record_gap(
        life_dimension=LifeDimension("education"), description="Keine Kita-Plätze",
        reported_on=date(2021, 11, 3),
    )  # fmt: skip

    story = narrative(
        platform.store, ["kreis-steinfurt", "rheine", "emsdetten"], "kreis-steinfurt", 2021
    )
    assert story.counts() == {
        "cases:closed:moved_away": 1,
        "cases:opened": 1,
        "gap:education": 1,
        "life_dimension:language": 1,
        "life_dimension:work_and_livelihood": 1,
        "referral:jmd:accepted": 1,
    }
    (opened,) = [
        r.event_id
        for r in platform.store.read_log("rheine", "case_management")
        if r.event_type == "CaseOpened" and r.originator_id == in_2021
    ]
    assert story.figures["cases:opened"].events == [opened]
    s, history = build(platform.store, ks(platform), "KIM-B2-2021-05566", 2021)
    text = to_csv(s, "kreis-steinfurt", history.position, story)
    assert f"Sachbericht;Fälle eröffnet;1;{opened}" in text
    assert "Sachbericht;Verweisung an Jugendmigrationsdienst (JMD): angenommen;1;" in text
    assert "Sachbericht;Fälle abgeschlossen: verzogen;1;" in text
    assert "Sachbericht;Bedarf in Lebensdimension: Sprache;1;" in text
    # Erasing the person changes no figure and no event behind it; the chains stay intact.
    before = {k: (f.count, f.events) for k, f in story.figures.items()}
    statement_before = s
    rheine.erase_person(rheine.get_case(in_2021).person_id, date(2025, 1, 1))
    after = narrative(
        platform.store, ["kreis-steinfurt", "rheine", "emsdetten"], "kreis-steinfurt", 2021
    )
    assert {k: (f.count, f.events) for k, f in after.figures.items()} == before
    assert build(platform.store, ks(platform), "KIM-B2-2021-05566", 2021)[0] == statement_before
    assert audit.verify(platform.store).intact
