"""Free text in the application: sealed under the person's key, older clear text still
loads (upcast), and gaps reach coordination with a description only once released."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import Case, ReferralSource
from contexts.case_management.people import ConsentPurpose
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.gaps import SystemGap, gap_id_for_report
from contexts.shared.errors import DomainError
from runtime.eventstore.base import EventLogStore
from runtime.vault import StoreVault
from services.coordination.consumers import GapIntake


@pytest.fixture
def app(store: EventLogStore) -> CaseManagementApplication:
    return CaseManagementApplication("rheine", store.recorder, StoreVault(store))


def open_case(app: CaseManagementApplication) -> tuple[UUID, UUID]:
    (rec,) = app.register_person({"name": "Lina Sommer"}, date(2022, 4, 1))
    person_id = rec.domain_event.originator_id
    app.give_consent(
        person_id, purpose=ConsentPurpose.CASE_MANAGEMENT, recipient="rheine",
        given_on=date(2022, 5, 1),
    )  # fmt: skip
    case_rec, *_ = app.open_case(
        person_id, referral_source=ReferralSource.SCHOOL, opened_on=date(2022, 5, 2)
    )
    return person_id, case_rec.domain_event.originator_id


def append_v1_gap_report(app: CaseManagementApplication, case_id: UUID, description: str) -> None:
    """A gap report as case management stored it before gap ids: description in clear."""
    case = app.get_case(case_id)
    fields: dict[str, Any] = {
        "gap_id": None, "life_dimension": "language", "description": description,
        "reported_on": "2022-05-10",
    }  # fmt: skip
    event = Case.GapReported(
        originator_id=case_id,
        originator_version=case.version + 1,
        timestamp=datetime.now(UTC),
        **fields,
    )
    stored = app.mapper.to_stored_event(event)
    state = json.loads(stored.state)
    assert state.pop("class_version") == 2
    del state["gap_id"]
    old = StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    app.recorder.insert_events([old])


def test_texts_are_sealed_in_the_case_and_open_for_the_application_until_erasure(
    app: CaseManagementApplication,
) -> None:
    person_id, case_id = open_case(app)
    app.assess(case_id, needs={"language": "high"}, on=date(2022, 5, 3))
    app.agree_goals(case_id, goals={"language": "B1 mit Kinderbetreuung"}, on=date(2022, 5, 4))
    app.report_gap(
        case_id, life_dimension="language", description="kein Kurs am Abend", on=date(2022, 5, 5)
    )
    case = app.get_case(case_id)
    sealed_goal, sealed_gap = case.goals["language"], case.gaps[0]["description"]
    assert str(sealed_goal).startswith("kimv1:")
    assert str(sealed_gap).startswith("kimv1:")
    texts = app.case_texts(case)
    assert texts(sealed_goal) == "B1 mit Kinderbetreuung"
    assert texts(sealed_gap) == "kein Kurs am Abend"
    with pytest.raises(DomainError) as refused:
        app.agree_goals(case_id, goals={"language": " "}, on=date(2022, 5, 6))
    assert refused.value.rule == "goal-empty"
    app.erase_person(person_id, date(2022, 6, 1))
    assert texts(sealed_goal) is None
    with pytest.raises(DomainError) as erased:
        app.seal_text(app.get_person(person_id), "written after the erasure")
    assert erased.value.rule == "person-erased"


def test_a_gap_report_of_version_1_loads_with_its_clear_description_as_released(
    app: CaseManagementApplication,
) -> None:
    _, case_id = open_case(app)
    append_v1_gap_report(app, case_id, "Kein Sprachkurs mit Kinderbetreuung")
    (gap,) = app.get_case(case_id).gaps
    assert gap["gap_id"] is None
    assert gap["released"] == gap["description"] == "Kein Sprachkurs mit Kinderbetreuung"
    assert app.open_text(UUID(int=0), "Kein Sprachkurs mit Kinderbetreuung") == gap["released"]
    with pytest.raises(DomainError) as refused:
        app.release_gap(case_id, index=0, description="Kein Kurs", on=date(2022, 5, 11))
    assert refused.value.rule == "gap-already-released"


def test_coordination_records_the_gap_bare_and_the_released_description_once(
    app: CaseManagementApplication, store: EventLogStore
) -> None:
    _, case_id = open_case(app)
    append_v1_gap_report(app, case_id, "Kein Sprachkurs mit Kinderbetreuung")
    app.report_gap(
        case_id, life_dimension="education", description="kein Kita-Platz", on=date(2022, 5, 12)
    )
    coordination = CoordinationApplication("rheine", store.recorder)
    intake = GapIntake(store, lambda tenant: coordination)

    def deliver() -> list[SystemGap]:
        for record in store.read_log("rheine", "case_management"):
            intake.process(record)
        recorded = store.read_log("rheine", "coordination", topics=[get_topic(SystemGap.Recorded)])
        return [coordination.get_gap(r.originator_id) for r in recorded]

    old, new = deliver()
    assert (old.life_dimension, old.description) == (
        "language",
        "Kein Sprachkurs mit Kinderbetreuung",
    )
    assert (new.life_dimension, new.description, new.source) == (
        "education",
        None,
        "case_management",
    )
    gap_id = app.get_case(case_id).gaps[1]["gap_id"]
    assert new.id == gap_id_for_report(str(gap_id))
    with pytest.raises(DomainError) as refused:
        app.release_gap(
            case_id, index=1, description="Kita: Tel. 05971 123456", on=date(2022, 5, 13)
        )
    assert (refused.value.rule, refused.value.facts["kind"]) == ("personal-data-in-text", "phone")
    with pytest.raises(DomainError) as early:
        app.release_gap(case_id, index=1, description="Kein Kita-Platz", on=date(2022, 5, 11))
    assert early.value.rule == "date-before-report"
    app.release_gap(
        case_id, index=1, description="Kein  Kita-Platz\nim Ortsteil", on=date(2022, 5, 13)
    )
    heads = store.heads()
    intake.positions.clear()  # a redelivery of everything changes nothing more than once
    _, released = deliver()
    assert released.description == "Kein Kita-Platz im Ortsteil"
    assert released.released_on == date(2022, 5, 13)
    intake.positions.clear()
    deliver()
    assert store.heads()[("rheine", "coordination")] == heads.get(("rheine", "coordination"), 0) + 1
