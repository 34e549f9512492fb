"""Coordination's part of the demo: Kreis Steinfurt, Rheine and Aachen as the council papers
describe them (2021): organisations, funding notices, forwarding contracts, positions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from uuid import UUID

from eventsourcing.utils import get_topic

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation, OrganisationKind
from contexts.coordination.funding import AmountRule, FundingNotice, PositionType, RecipientKind
from contexts.coordination.positions import COORDINATION_POSITIONS_IN
from runtime import context as request_context
from runtime.platform import Platform

COORD = PositionType.COORDINATION
ASSIST = PositionType.ASSISTANCE
CM = PositionType.CASE_MANAGEMENT
ABH = PositionType.IMMIGRATION_OFFICE
# The rates per FTE and year the demo's notices state (fachbezogene Pauschale 2020/2021).
RATES = {COORD: Decimal("55000"), ASSIST: Decimal("45000"), CM: Decimal("55000"),
         ABH: Decimal("55000")}  # fmt: skip


def load_coordination_demo(platform: Platform) -> list[str]:
    with request_context.bound(actor="kim-demo"):
        return _coordination_demo(platform)


def _notice(
    app: CoordinationApplication,
    reference: str,
    baustein: int,
    start: date,
    grants: dict[PositionType, str],
    material: str = "0",
) -> tuple[UUID, bool]:
    """The notice with this reference, issued now if it is missing."""
    issued = app.recorder.select_notifications(
        start=None, limit=10_000, topics=[get_topic(FundingNotice.Issued)]
    )
    for n in issued:
        first = app.mapper.to_domain_event(n)  # the notice as issued, before any amendment
        if isinstance(first, FundingNotice.Issued) and first.reference == reference:
            return UUID(str(n.originator_id)), False
    (rec,) = app.issue_notice(
        grantor="Bezirksregierung Arnsberg",
        reference=reference,
        baustein=baustein,
        period_start=start,
        period_end=date(2022, 12, 31),
        grants={k: Decimal(v) for k, v in grants.items()},
        rates={k: RATES[k] for k in grants},
        material_costs_per_year=Decimal(material),
        issued_on=start,
    )
    return rec.domain_event.originator_id, True


def _organisation(app: CoordinationApplication, name: str, kind: OrganisationKind) -> UUID:
    registered = app.recorder.select_notifications(
        start=None, limit=10_000, topics=[get_topic(Organisation.Registered)]
    )
    for n in registered:
        org_id = UUID(str(n.originator_id))
        if app.get_organisation(org_id).name == name:
            return org_id
    (rec,) = app.register_organisation(name, kind)
    return rec.domain_event.originator_id


REGIONAL_AREAS = [  # Kreis Steinfurt, Vorlage 362/21: 9.0 case-management FTE over five areas
    (
        "RB Steinfurt",
        ["Steinfurt", "Horstmar", "Laer", "Metelen", "Nordwalde", "Wettringen"],
        "1.6",
    ),
    (
        "RB Ibbenbüren",
        ["Ibbenbüren", "Hopsten", "Hörstel", "Mettingen", "Recke", "Westerkappeln"],
        "1.6",
    ),
    ("RB Lengerich", ["Lengerich", "Ladbergen", "Lienen", "Lotte", "Tecklenburg"], "2.0"),
    ("RB Emsdetten/Greven", ["Emsdetten", "Greven", "Saerbeck", "Altenberge"], "1.9"),
    ("RB Rheine", ["Rheine", "Neuenkirchen"], "1.9"),
]


def rheine_coordination(ks: CoordinationApplication) -> UUID:
    """The "Koordinierungsstelle KIM Stadt Rheine": Kreis Steinfurt's log holds it (funded by
    the forwarding contract), it works in Rheine (from the index of coordination positions)."""
    (found,) = ks.indexes.index_members(COORDINATION_POSITIONS_IN, "rheine")
    return UUID(found)


def _positions_demo(ks: CoordinationApplication, notice_b2: UUID, lf: UUID) -> list[str]:
    """Regional areas, and the 1.9 FTE of Lernen fördern in Rheine under Rheine's post: the
    line runs from Rheine's coordination position (created before, with the B1 notice)."""
    areas = {}
    for name, towns, share in REGIONAL_AREAS:
        (rec,) = ks.define_regional_area(name=name, towns=towns, case_management_fte=Decimal(share))
        areas[name] = rec.domain_event.originator_id
    notice = ks.get_notice(notice_b2)
    contract_id = next(iter(notice.reservations))
    (rec,) = ks.create_position(
        title="Case Management Lernen fördern e.V., RB Rheine",
        position_type=CM,
        fte_share=Decimal("1.9"),
        employer_kind="provider",
        employer=str(lf),
        funding_kind="contract",
        funding_id=contract_id,
        work_tenant="rheine",
        regional_area_id=areas["RB Rheine"],
    )
    position = rec.domain_event.originator_id
    ks.start_staffing(
        position, staff_id="LF-CM-01", fte_share=Decimal("1.0"), start=date(2021, 9, 1)
    )
    ks.start_staffing(
        position, staff_id="LF-CM-02", fte_share=Decimal("0.9"), start=date(2021, 10, 1)
    )
    ks.assign_supervision(
        position,
        post_tenant="rheine",
        valid_from=date(2021, 9, 1),
        supervisor_position_id=rheine_coordination(ks),
    )
    for month, amount in LF_COSTS_2021.items():
        ks.record_staff_cost(position, month=month, amount=Decimal(amount))
    return [
        "Kreis Steinfurt: fünf Regionalbereiche (1,6 + 1,6 + 2,0 + 1,9 + 1,9 = 9,0 VZÄ)",
        "Lernen fördern e.V.: Stelle 1,9 VZÄ in Rheine, Fachaufsicht Koordinierungsstelle Rheine",
        RHEINE_VIEW,
    ]


# What `kim demo` shows a member town's staff: Rheine's view of the positions working in it,
# also those Kreis Steinfurt's log holds (the rule in contexts/coordination/README.md).
RHEINE_VIEW = (
    "Rheine sieht die Stellen, die in Rheine arbeiten, samt Vertrag, Besetzung und Kosten, auch"
    " die des Kreises (Lernen fördern e.V.): GET /coordination/tenants/rheine/positions/"
    'working-here oder GraphQL { positionsWorkingIn(tenant: "rheine") { holder title employer'
    " filledFte contract { recipient amountPerYear fte } } }"
)


# Actual staff cost per month in 2021 (EUR), as the employers reported it.
LF_COSTS_2021 = {"2021-09": "4600.00", "2021-10": "8740.00", "2021-11": "8740.00",
                 "2021-12": "8740.00"}  # fmt: skip
KS_COORDINATION_COSTS_2021 = {
    **{f"2021-{m:02d}": "9100.00" for m in (1, 2, 3)},
    "2021-04": "10600.00",
    **{f"2021-{m:02d}": "11350.00" for m in range(5, 13)},
}
KS_ASSISTANCE_COSTS_2021 = {f"2021-{m:02d}": "1850.00" for m in range(3, 13)}
RHEINE_COORDINATION_COSTS_2021 = {f"2021-{m:02d}": "4500.00" for m in range(5, 13)}


def _baustein1_positions(
    ks: CoordinationApplication, notice_b1: UUID, contract_rheine: UUID
) -> list[str]:
    """Kreis Steinfurt's own coordination (2.5 VZÄ) and assistance (0.5 VZÄ) from its B1
    notice, and Rheine's 1.0 VZÄ from the forwarding contract, with staffing and costs."""
    own = [
        ("Koordination KI Kreis Steinfurt", COORD, "2.5",
         [("KS-K-01", "1.0", date(2021, 1, 1)), ("KS-K-02", "1.0", date(2021, 1, 1)),
          ("KS-K-03", "0.5", date(2021, 4, 15))], KS_COORDINATION_COSTS_2021),
        ("Assistenz KI Kreis Steinfurt", ASSIST, "0.5",
         [("KS-A-01", "0.5", date(2021, 3, 1))], KS_ASSISTANCE_COSTS_2021),
    ]  # fmt: skip
    for title, kind, fte, staff, costs in own:
        (rec,) = ks.create_position(
            title=title, position_type=kind, fte_share=Decimal(fte), employer_kind="tenant",
            employer="kreis-steinfurt", funding_kind="notice", funding_id=notice_b1,
            work_tenant="kreis-steinfurt",
        )  # fmt: skip
        position = rec.domain_event.originator_id
        for staff_id, share, start in staff:
            ks.start_staffing(position, staff_id=staff_id, fte_share=Decimal(share), start=start)
        for month, amount in costs.items():
            ks.record_staff_cost(position, month=month, amount=Decimal(amount))
    (rec,) = ks.create_position(
        title="Koordinierungsstelle KIM Stadt Rheine", position_type=COORD,
        fte_share=Decimal("1.0"), employer_kind="tenant", employer="rheine",
        funding_kind="contract", funding_id=contract_rheine, work_tenant="rheine",
    )  # fmt: skip
    rheine_position = rec.domain_event.originator_id
    ks.start_staffing(
        rheine_position, staff_id="RH-K-01", fte_share=Decimal("1.0"), start=date(2021, 5, 1)
    )
    for month, amount in RHEINE_COORDINATION_COSTS_2021.items():
        ks.record_staff_cost(rheine_position, month=month, amount=Decimal(amount))
    # Rheine pays what the flat 50,000 EUR a year leave of its post's cost (8 months 2021).
    ks.record_contribution(
        rheine_position, year=2021, kind="own_funds", contributor="rheine",
        source="Haushalt Stadt Rheine 2021, Eigenanteil KIM", amount=Decimal("2666.67"),
    )  # fmt: skip
    return [
        "Kreis Steinfurt: Koordination 2,5 VZÄ und Assistenz 0,5 VZÄ mit Personalkosten 2021",
        "Rheine: Koordinierungsstelle 1,0 VZÄ ab 01.05.2021 mit Personalkosten 2021"
        " und Eigenanteil 2.666,67 €",
    ]


def _coordination_demo(platform: Platform) -> list[str]:
    """Kreis Steinfurt, Rheine and Aachen as the council papers describe them (2021)."""
    done: list[str] = []
    ks = platform.app(CoordinationApplication, "kreis-steinfurt")
    rheine = platform.app(CoordinationApplication, "rheine")
    aachen = platform.app(CoordinationApplication, "aachen")
    lf = _organisation(ks, "Lernen fördern e.V.", OrganisationKind.WELFARE_PROVIDER)
    _organisation(
        ks, "Kommunales Integrationszentrum Kreis Steinfurt", OrganisationKind.COORDINATION_POST
    )
    _organisation(
        rheine, "Koordinierungsstelle KIM Stadt Rheine", OrganisationKind.COORDINATION_POST
    )
    _organisation(
        aachen, "Kommunales Integrationszentrum Stadt Aachen", OrganisationKind.COORDINATION_POST
    )

    y2021 = date(2021, 1, 1)
    b1, new_b1 = _notice(ks, "KIM-B1-2021-05566", 1, y2021, {COORD: "3.5", ASSIST: "0.5"})
    b2, new_b2 = _notice(ks, "KIM-B2-2021-05566", 2, y2021, {CM: "9.0"})
    _notice(ks, "KIM-B3-2021-05566", 3, y2021, {ABH: "2.5"})
    if new_b1:
        concluded = ks.conclude_contract(
            notice_id=b1,
            recipient_kind=RecipientKind.TENANT,
            recipient="rheine",
            position_type=COORD,
            fte_share=Decimal("1.0"),
            amount_rule=AmountRule.FLAT,
            amount_per_year=Decimal("50000"),
            start=date(2021, 5, 1),
            end=date(2022, 12, 31),
            cooperation_agreement="Kooperationsvereinbarung KIM Kreis Steinfurt / Stadt Rheine",
        )
        done.append("Kreis Steinfurt: Bescheide Baustein 1-3, Weiterleitung 1,0 VZÄ an Rheine")
        contract_rheine = concluded[-1].domain_event.originator_id  # notice first, then contract
        done += _baustein1_positions(ks, b1, contract_rheine)
    if new_b2:
        ks.conclude_contract(
            notice_id=b2,
            recipient_kind=RecipientKind.PROVIDER,
            recipient=str(lf),
            position_type=CM,
            fte_share=Decimal("1.9"),
            amount_rule=AmountRule.FLAT,
            amount_per_year=Decimal("104500"),
            start=date(2021, 9, 1),
            end=date(2022, 12, 31),
            cooperation_agreement="Weiterleitungsvertrag Case Management RB Rheine",
        )
        done.append("Kreis Steinfurt: 1,9 VZÄ Case Management an Lernen fördern e.V. (RB Rheine)")
    if new_b2:
        done += _positions_demo(ks, b2, lf)
    if _notice(rheine, "KIM-B3-2020-05566076", 3, date(2020, 7, 1), {ABH: "1.5"})[1]:
        done.append("Rheine: eigener Bescheid Baustein 3 über 1,5 VZÄ Ausländerbehörde")
    new_a1 = _notice(
        aachen, "KIM-B1-2021-05334002", 1, y2021, {COORD: "2.5", ASSIST: "0.5"}, "83000"
    )[1]
    new_a2 = _notice(aachen, "KIM-B2-2021-05334002", 2, y2021, {CM: "5.0"})[1]
    if new_a1 or new_a2:
        done.append(
            "Aachen: 2,5 VZÄ Koordination, 0,5 Assistenz, 83.000 € Sachkosten,"
            " 5 VZÄ Case Management"
        )
    return done
