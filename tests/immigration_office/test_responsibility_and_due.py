"""Responsibility follows residence, and the due list of an office (from its index)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from contexts.immigration_office.domain import Procedure
from contexts.immigration_office.responsibility import WrongTenant, responsible_office
from contexts.immigration_office.states import Check, LegalBasis, Level, State, Step
from contexts.shared.errors import DomainError
from runtime.eventstore.memory import MemoryEventLogStore
from tests.immigration_office.support import directory, office, person, procedure


@pytest.mark.parametrize(
    ("residence", "responsible"),
    [
        ("rheine", "rheine"),  # its own office
        ("05566076", "rheine"),
        ("emsdetten", "kreis-steinfurt"),  # the district holds Emsdetten's office
        ("05566012", "kreis-steinfurt"),  # Greven: no tenant of its own, in the district
        ("aachen", "staedteregion-aachen"),  # the region holds Aachen's offices
        ("05334002", "staedteregion-aachen"),
    ],
)
def test_the_responsible_office_follows_the_registry(residence: str, responsible: str) -> None:
    assert responsible_office(directory(), residence) == responsible


def test_an_unknown_municipality_is_refused() -> None:
    for residence in ("bielefeld", "09162000", "nrw"):
        with pytest.raises(DomainError) as refused:
            responsible_office(directory(), residence)
        assert refused.value.rule == "unknown-residence"


def test_opening_where_another_office_is_responsible_names_it_and_appends_nothing(
    memory_store: MemoryEventLogStore,
) -> None:
    app = office(memory_store, "kreis-steinfurt")
    pid = person(app)
    head = memory_store.head("kreis-steinfurt", "immigration_office")
    with pytest.raises(WrongTenant) as refused:
        procedure(app, LegalBasis.STAG_10, pid, residence="rheine")
    assert refused.value.rule == "wrong-tenant"
    assert refused.value.responsible == "rheine"
    assert memory_store.head("kreis-steinfurt", "immigration_office") == head
    assert procedure(app, LegalBasis.STAG_10, pid, residence="05566012")  # Greven: its own


def test_a_104c_permit_with_requirements_open_is_on_the_due_list_until_converted(
    memory_store: MemoryEventLogStore,
) -> None:
    """Granted 01.08.2025, the permit ends 31.01.2027; language A2 and livelihood for § 25b
    are still open. Converting it takes it off the list; the follow-up is its own procedure."""
    app = office(memory_store)
    who = person(app, resident_since="2017-01-01")
    pid = procedure(app, LegalBasis.AUFENTHG_104C, who, opened_on=date(2025, 5, 2))
    app.take_step(pid, Step.RECEIVE_APPLICATION, on=date(2025, 5, 2))
    for check in (Check.IDENTITY, Check.NO_CONVICTIONS, Check.COMMITMENT):
        app.record_check(pid, check=check, passed=True, on=date(2025, 5, 20))
    app.take_step(pid, Step.COMPLETE_REQUIREMENTS_CHECK, on=date(2025, 5, 21))
    app.take_step(pid, Step.GRANT, on=date(2025, 8, 1), aims_at=LegalBasis.AUFENTHG_25B)
    other = procedure(app, LegalBasis.STAG_10, person(app))
    app.take_step(other, Step.RECEIVE_APPLICATION, on=date(2026, 11, 2))
    app.take_step(other, Step.REQUEST_DOCUMENTS, on=date(2026, 11, 3), due_on=date(2026, 12, 10))

    today = date(2026, 12, 1)
    assert [i.procedure_id for i in app.due(today, 30)] == [other]
    (documents, permit) = app.due(today, 90)
    assert (documents.what, documents.open_requirements) == ("documents", ["documents"])
    assert permit.procedure_id == pid
    assert permit.due_on == date(2027, 1, 31)
    assert permit.what == "permit_end"
    assert permit.open_requirements == ["language:A2", "livelihood", "passport", "test"]
    assert [i.procedure_id for i in app.due(date(2027, 2, 15), 0)] == [other, pid]  # overdue

    with pytest.raises(DomainError) as refused:
        app.take_step(pid, Step.CONVERT, on=date(2026, 12, 2))
    assert refused.value.rule == "rule-not-met"
    for check in (Check.LIVELIHOOD, Check.PASSPORT, Check.TEST):
        app.record_check(pid, check=check, passed=True, on=date(2026, 12, 2))
    app.record_check(pid, check=Check.LANGUAGE, passed=True, on=date(2026, 12, 2), level=Level.A2)
    assert app.due(today, 90)[1].open_requirements == []
    app.take_step(pid, Step.CONVERT, on=date(2026, 12, 3))
    assert [i.procedure_id for i in app.due(today, 90)] == [other]
    converted = app.get_procedure(pid)
    follow_up = app.get_procedure(converted.follow_up_id)  # type: ignore[arg-type]
    assert converted.state == State.CONVERTED
    assert (follow_up.legal_basis, follow_up.state) == (
        LegalBasis.AUFENTHG_25B,
        State.APPLICATION_RECEIVED,
    )
    assert follow_up.converted_from == pid
    assert app.get_person(who).procedures == [pid, follow_up.id]


def test_the_due_list_reads_the_index_not_every_procedure(
    memory_store: MemoryEventLogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = office(memory_store)
    for _ in range(20):  # procedures without a deadline
        procedure(app, LegalBasis.STAG_10, person(app))
    due = procedure(app, LegalBasis.STAG_10, person(app))
    app.take_step(due, Step.RECEIVE_APPLICATION, on=date(2025, 2, 1))
    app.take_step(due, Step.REQUEST_DOCUMENTS, on=date(2025, 2, 1), due_on=date(2025, 3, 1))
    loaded: list[UUID] = []
    original = app.get_procedure

    def counting(procedure_id: UUID) -> Procedure:
        loaded.append(procedure_id)
        return original(procedure_id)

    monkeypatch.setattr(app, "get_procedure", counting)
    assert [i.procedure_id for i in app.due(date(2025, 2, 1), 60)] == [due]
    assert loaded == [due]
    app.take_step(due, Step.COMPLETE_DOCUMENTS, on=date(2025, 2, 20))
    assert app.due(date(2025, 2, 1), 60) == []
    assert app.due(date(2025, 2, 1) - timedelta(days=1), 0) == []


def test_a_step_racing_a_consumed_achievement_is_retried_once_unless_a_version_was_named(
    memory_store: MemoryEventLogStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Case management's answers and achievements reach a procedure while its officer works on
    it: a step without ``expected_version`` that loses the race is taken on the procedure as
    it now is; with one, the conflict is the client's (409, nothing appended)."""
    from eventsourcing.persistence import IntegrityError

    app, consumer_side = office(memory_store), office(memory_store)
    pid = procedure(app, LegalBasis.STAG_10, person(app))
    app.take_step(pid, Step.RECEIVE_APPLICATION, on=date(2025, 2, 1))
    original, raced = app.save, list[bool]()

    def save_after_a_concurrent_write(*objs: Any, **kwargs: Any) -> Any:
        if not raced:
            raced.append(True)
            consumer_side.record_check(pid, check=Check.IDENTITY, passed=True, on=date(2025, 2, 2))
        return original(*objs, **kwargs)

    monkeypatch.setattr(app, "save", save_after_a_concurrent_write)
    app.take_step(pid, Step.COMPLETE_DOCUMENTS, on=date(2025, 2, 3))
    done = app.get_procedure(pid)
    assert done.state == State.DOCUMENTS_COMPLETE
    assert [c.check for c in done.checks] == [Check.IDENTITY]

    raced.clear()
    version = done.version
    with pytest.raises(IntegrityError):
        app.take_step(pid, Step.START_CHECKS, on=date(2025, 2, 4), expected_version=version)
    assert app.get_procedure(pid).state == State.DOCUMENTS_COMPLETE
