"""A person moves: the origin hands the case over, the destination takes it over."""

from __future__ import annotations

from datetime import date
from uuid import UUID

import pytest

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case, CaseState, ClosureReason, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault
from services.case_management.consumers import TransferIntake
from tests.case_support import all_cases

DATA = {"name": "Lina S.", "languages": ["uk"]}


@pytest.fixture
def apps(store: EventLogStore) -> tuple[CaseManagementApplication, CaseManagementApplication]:
    vault = StoreVault(store)
    return (
        CaseManagementApplication("rheine", store.recorder, vault),
        CaseManagementApplication("kreis-steinfurt", store.recorder, vault),
    )


def open_case(app: CaseManagementApplication) -> tuple[UUID, UUID]:
    (rec,) = app.register_person(DATA, date(2022, 4, 1))
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
        given_on=date(2022, 5, 1),
    )  # fmt: skip
    case_rec, *_ = app.open_case(
        person_id, referral_source=ReferralSource.IMMIGRATION_OFFICE, opened_on=date(2022, 5, 2)
    )
    case_id = case_rec.domain_event.originator_id
    app.assess(case_id, needs={"language": "high", "housing": "medium"}, on=date(2022, 5, 9))
    app.agree_goals(case_id, goals={"language": "a2-course"}, on=date(2022, 5, 16))
    return person_id, case_id


def test_without_consent_to_the_transfer_nothing_moves(
    apps: tuple[CaseManagementApplication, CaseManagementApplication], store: EventLogStore
) -> None:
    rheine, _ = apps
    _, case_id = open_case(rheine)
    before = store.heads()
    with pytest.raises(DomainError) as refused:
        rheine.hand_over(case_id, to_tenant="kreis-steinfurt", on=date(2022, 9, 1))
    assert refused.value.rule == "consent-missing"
    assert store.heads() == before


def deliver(store: EventLogStore, *apps: CaseManagementApplication) -> TransferIntake:
    """Run the transfer consumer over Rheine's log, as the bus would deliver it."""
    by_tenant = {a.tenant: a for a in apps}
    intake = TransferIntake(store, lambda tenant: by_tenant[tenant])
    for record in store.read_log("rheine", "case_management"):
        intake.process(record)
    return intake


def test_a_transfer_copies_the_summary_but_personal_data_only_with_its_own_consent(
    apps: tuple[CaseManagementApplication, CaseManagementApplication], store: EventLogStore
) -> None:
    rheine, kreis = apps
    person_id, case_id = open_case(rheine)
    rheine.give_consent(
        person_id, purpose=ConsentPurpose.TRANSFER, recipient="kreis-steinfurt",
        given_on=date(2022, 8, 20),
    )  # fmt: skip
    handed, *_ = rheine.hand_over(case_id, to_tenant="kreis-steinfurt", on=date(2022, 9, 1))
    event = handed.domain_event
    assert isinstance(event, Case.HandedOver)
    assert event.sealed_for_destination is None
    # The goals go with the case (transfer consent), sealed under the transit key only.
    assert event.summary["needs"] == {"language": "high", "housing": "medium"}
    assert event.summary["goals"]["language"].startswith("kimv1:")
    assert deliver(store, rheine, kreis).taken_over == 1
    origin = rheine.get_case(case_id)
    assert origin.closure == (ClosureReason.TRANSFERRED, date(2022, 9, 1))
    assert origin.transferred_to == "kreis-steinfurt"
    (new_case,) = [c for c in all_cases(kreis) if c.transferred_from == ("rheine", case_id)]
    assert new_case.state == CaseState.GOAL_AGREEMENT
    assert set(new_case.goals) == {"language"}  # sealed under the new person's own key
    assert kreis.open_text(new_case.person_id, new_case.goals["language"]) == "a2-course"
    assert kreis.personal_data(new_case.person_id) == {}
    for tenant in ("rheine", "kreis-steinfurt"):
        assert not [r for r in store.read_log(tenant, "case_management") if b"a2-course" in r.state]
    # Each tenant's log holds its own part; a redelivery takes nothing over twice.
    types = [r.event_type for r in store.read_log("kreis-steinfurt", "case_management")]
    assert {"PersonRegistered", "CaseOpened", "CaseTakenOver"} <= set(types)
    assert "CaseHandedOver" in {r.event_type for r in store.read_log("rheine", "case_management")}
    assert deliver(store, rheine, kreis).taken_over == 0
    assert [r.event_type for r in store.read_log("kreis-steinfurt", "case_management")] == types


def test_with_consent_to_hand_over_data_the_destination_holds_it_under_its_own_key(
    apps: tuple[CaseManagementApplication, CaseManagementApplication], store: EventLogStore
) -> None:
    rheine, kreis = apps
    person_id, case_id = open_case(rheine)
    for purpose in (ConsentPurpose.TRANSFER, ConsentPurpose.DATA_HANDOVER):
        rheine.give_consent(
            person_id, purpose=purpose, recipient="kreis-steinfurt", given_on=date(2022, 8, 20)
        )
    handed, *_ = rheine.hand_over(case_id, to_tenant="kreis-steinfurt", on=date(2022, 9, 1))
    event = handed.domain_event
    assert isinstance(event, Case.HandedOver)
    assert event.sealed_for_destination is not None
    assert "Lina" not in event.sealed_for_destination
    deliver(store, rheine, kreis)
    (new_case,) = all_cases(kreis)
    assert kreis.personal_data(new_case.person_id) == {**DATA, "arrival_on": "2022-04-01"}
    # The transit key is gone: the sealed copy in Rheine's log no longer opens anywhere.
    assert (
        kreis.vault.open("kreis-steinfurt", event.transfer_id, event.sealed_for_destination) is None
    )
    # Erasing the person in Rheine does not reach the copy Kreis Steinfurt now holds lawfully.
    rheine.erase_person(person_id, date(2023, 1, 1))
    assert rheine.personal_data(person_id) is None
    assert kreis.personal_data(new_case.person_id) == {**DATA, "arrival_on": "2022-04-01"}
