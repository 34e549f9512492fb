"""Who sees personal data: the assigned position's case manager and the supervising post."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

from fastapi.testclient import TestClient

from contexts.case_management.access import Supervisor
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import KnownPosition, ReferralSource
from contexts.case_management.known_position import SupervisionLine
from contexts.case_management.people import ConsentPurpose
from runtime.eventstore.base import EventLogStore
from runtime.platform import Platform
from runtime.vault import StoreVault
from tests.case_support import lf_position_record, rheine_coordination_position


def assigned_case(app: CaseManagementApplication, position: UUID) -> UUID:
    (rec,) = app.register_person({"name": "M."}, date(2021, 5, 1))
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient=app.tenant,
        given_on=date(2021, 9, 1),
    )  # fmt: skip
    case, *_ = app.open_case(
        person_id, referral_source=ReferralSource.SELF_REFERRAL, opened_on=date(2021, 9, 6)
    )
    case_id = case.domain_event.originator_id
    app.assign_case(case_id, position_id=position, on=date(2021, 9, 6))
    return case_id


def test_only_the_assigned_case_manager_and_the_supervising_post_may_see_personal_data(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    position, other_position = uuid4(), uuid4()
    app.note_position(position, Decimal("1.9"), "rheine")
    app.note_supervision(position, post_tenant="rheine", valid_from=date(2021, 9, 1), valid_to=None)
    app.note_supervision(position, post_tenant="rheine", valid_from=date(2021, 9, 1), valid_to=None)
    case_id = assigned_case(app, position)
    day = date(2021, 10, 1)

    def sees(tenant: str, roles: set[str], pos: UUID | None = None) -> bool:
        return app.may_see_personal_data(
            tenant=tenant, roles=roles, position=pos, case_id=case_id, on=day
        )

    assert sees("rheine", {"case_manager"}, position)
    assert not sees("rheine", {"case_manager"}, other_position)
    assert sees("rheine", {"coordinator"})
    assert not sees("kreis-steinfurt", {"district_coordinator"})
    assert not sees("kreis-steinfurt", {"coordinator"})
    assert not sees("rheine", {"auditor"})
    assert not sees("rheine", {"steering_member"})
    assert len(app.load(KnownPosition, position, "position").supervision) == 1  # noted once
    app.note_supervision(
        position, post_tenant="rheine", valid_from=None, valid_to=date(2021, 9, 30)
    )
    assert not sees("rheine", {"coordinator"})  # the line ended before the day asked about


def test_supervision_lines_reach_case_management_over_the_bus(
    client: TestClient, platform: Platform
) -> None:
    created = lf_position_record(platform)
    app = platform.app(CaseManagementApplication, "rheine", vault=platform.vault)
    deadline = time.monotonic() + 10
    lines: list[SupervisionLine] = []
    while time.monotonic() < deadline:
        if created.originator_id in app.repository:
            lines = app.load(KnownPosition, created.originator_id, "position").supervision
            if lines:
                break
        time.sleep(0.05)
    from_position = rheine_coordination_position(platform)
    assert lines == [SupervisionLine("rheine", from_position, date(2021, 9, 1), None)]


def test_a_line_from_a_coordination_position_shows_personal_data_to_its_coordinator_only(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    position, supervising, other = uuid4(), uuid4(), uuid4()
    app.note_position(position, Decimal("1.9"), "rheine")
    app.note_supervision(
        position, post_tenant="rheine", valid_from=date(2021, 9, 1), valid_to=None,
        supervisor_position_id=supervising,
    )  # fmt: skip
    case_id = assigned_case(app, position)

    def sees(pos: UUID | None) -> bool:
        return app.may_see_personal_data(
            tenant="rheine", roles={"coordinator"}, position=pos, case_id=case_id,
            on=date(2021, 10, 1),
        )  # fmt: skip

    assert sees(supervising)
    assert not sees(None)
    assert not sees(other)
    case = app.get_case(case_id)
    assert app.supervising_post(case, date(2021, 10, 1)) == Supervisor("rheine", supervising)


def test_a_supervision_noted_before_lines_named_a_position_is_read_as_the_whole_post(
    store: EventLogStore,
) -> None:
    app = CaseManagementApplication("rheine", store.recorder, StoreVault(store))
    position = uuid4()
    app.note_position(position, Decimal("1.0"), "rheine")
    app.note_supervision(position, post_tenant="rheine", valid_from=date(2021, 9, 1), valid_to=None)
    (stored,) = [
        r.to_stored_event()
        for r in store.read_log("rheine", "case_management")
        if r.event_type == "KnownPositionSupervisionNoted"
    ]
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["supervisor_position_id"]  # as version 1 stored it
    old = replace(stored, state=json.dumps(state).encode())
    event = app.mapper.to_domain_event(old)
    assert isinstance(event, KnownPosition.SupervisionNoted)
    assert event.supervisor_position_id is None
    line = app.load(KnownPosition, position, "position").supervision[0]
    assert (line.post, line.position) == ("rheine", None)
