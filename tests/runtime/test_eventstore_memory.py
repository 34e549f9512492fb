"""The in-memory store keeps the promises of the SQLite and PostgreSQL stores."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.domain import OPEN_CASES_OF_POSITION
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import OrganisationKind
from contexts.shared.indexes import IndexBound, IndexBoundExceeded, IndexChange
from runtime import audit
from runtime import context as request_context
from runtime.eventstore import LogNotEmpty, open_store
from runtime.eventstore.base import EventLogStore, IdempotencyKeyTaken
from runtime.eventstore.jsonl import export_tenant, import_jsonl
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.vault import StoreVault
from tests.audit import test_audit_chain as chain_tests
from tests.case_management import test_case_caseload as caseload_tests
from tests.case_management import test_case_caseload_index as index_tests
from tests.case_management.test_case_caseload import opened_cases
from tests.kim import test_export_import as export_tests
from tests.kim.test_export_import import fill
from tests.runtime import test_eventstore as store_tests
from tests.runtime.test_eventstore import register

T, C = "rheine", "coordination"
Behaviour = Callable[[EventLogStore], None]

# What the other stores are tested for, run as it is against the memory store.
SHARED: list[Behaviour] = [
    store_tests.test_each_tenant_log_numbers_its_own_positions_from_one,
    store_tests.test_a_log_can_be_read_from_any_position_and_up_to_any_position,
    store_tests.test_actor_and_correlation_are_stamped_from_the_request_context,
    store_tests.test_concurrent_appends_to_one_log_get_gapless_distinct_positions,
    store_tests.test_a_stale_aggregate_version_is_refused_and_nothing_is_appended,
    store_tests.test_one_tenant_cannot_load_another_tenants_aggregate,
    store_tests.test_invalid_log_addresses_are_refused,
    chain_tests.test_an_intact_log_verifies_and_every_event_is_chained,
    chain_tests.test_concurrent_appends_to_one_log_keep_one_chain,
    export_tests.test_export_holds_only_the_named_tenant,
    export_tests.test_import_into_a_log_that_holds_events_is_refused_and_changes_nothing,
    index_tests.test_the_index_follows_assignment_reassignment_and_closure,
    index_tests.test_reindex_rebuilds_the_entries_an_import_does_not_carry,
    index_tests.test_a_bound_refuses_inside_the_append_and_writes_nothing,
    index_tests.test_concurrent_assignments_at_the_limit_let_exactly_one_through,
    index_tests.test_index_entries_are_kept_per_tenant,
    caseload_tests.test_caseload_is_counted_per_fte_with_a_warning_above_target_and_a_limit,
    caseload_tests.test_an_unknown_position_cannot_take_cases,
]


@pytest.mark.parametrize("behaviour", SHARED, ids=lambda b: b.__name__.removeprefix("test_"))
def test_what_every_store_promises_holds_in_memory(
    behaviour: Behaviour, memory_store: MemoryEventLogStore
) -> None:
    behaviour(memory_store)


def event(aggregate: UUID, version: int, topic: str = "tests:Thing.Happened") -> StoredEvent:
    return StoredEvent(
        originator_id=aggregate, originator_version=version, topic=topic, state=b"{}"
    )


def test_appends_get_gapless_positions_and_read_back_by_position_and_by_aggregate(
    memory_store: MemoryEventLogStore,
) -> None:
    s, a, b = memory_store, uuid4(), uuid4()
    heard: list[tuple[str, str, int]] = []
    s.add_listener(lambda *appended: heard.append(appended))
    assert s.append(T, C, [event(a, 1), event(b, 1)]) == [1, 2]
    assert s.append(T, C, [event(a, 2, "tests:Thing.Changed"), event(a, 3)]) == [3, 4]
    assert s.append(T, C, []) == []
    assert heard == [(T, C, 2), (T, C, 4)]
    log = s.read_log(T, C)
    assert [(r.position, r.originator_id, r.originator_version) for r in log] == [
        (1, a, 1), (2, b, 1), (3, a, 2), (4, a, 3),
    ]  # fmt: skip
    assert [r.position for r in s.read_log(T, C, after=1, upto=3)] == [2, 3]
    assert [r.position for r in s.read_log(T, C, after=1, limit=2)] == [2, 3]
    assert [r.position for r in s.read_log(T, C, topics=["tests:Thing.Changed"])] == [3]
    assert s.read_log(T, C, after=4) == []
    versions = [e.originator_version for e in s.select_events(T, C, a)]
    assert versions == [1, 2, 3]
    assert [e.originator_version for e in s.select_events(T, C, a, desc=True, limit=2)] == [3, 2]
    assert [e.originator_version for e in s.select_events(T, C, a, gt=1, lte=2)] == [2]
    assert s.select_events(T, C, uuid4()) == []
    assert (s.head(T, C), s.head(T, "case_management")) == (4, 0)
    assert s.heads() == {(T, C): 4}


def test_a_taken_version_is_an_integrity_error_and_the_whole_batch_is_refused(
    memory_store: MemoryEventLogStore,
) -> None:
    s, a, b = memory_store, uuid4(), uuid4()
    s.append(T, C, [event(a, 1)])
    with pytest.raises(IntegrityError):
        s.append(T, C, [event(b, 1), event(a, 1)])  # the second event conflicts
    with pytest.raises(IntegrityError):
        s.append(T, C, [event(b, 1), event(b, 1)])  # a conflict within one batch
    assert [r.originator_id for r in s.read_log(T, C)] == [a]
    assert s.select_events(T, C, b) == []
    assert s.append(T, C, [event(b, 1)]) == [2]  # no position was used up
    assert audit.verify(s).intact


def test_an_idempotency_key_is_kept_with_the_events_and_taken_only_once(
    memory_store: MemoryEventLogStore,
) -> None:
    s, a = memory_store, uuid4()
    s.append(T, C, [event(a, 1)], idempotency=("key-1", "hash-1", 201))
    kept = s.find_idempotency(T, "key-1")
    assert kept is not None
    assert (kept.request_hash, kept.status, kept.outcome["position"]) == ("hash-1", 201, 1)
    assert kept.outcome["events"][0]["aggregate_id"] == str(a)
    with pytest.raises(IdempotencyKeyTaken):
        s.append(T, C, [event(uuid4(), 1)], idempotency=("key-1", "hash-2", 201))
    assert s.head(T, C) == 1
    again = s.find_idempotency(T, "key-1")
    assert again is not None
    assert again.request_hash == "hash-1"
    assert s.find_idempotency(T, "key-2") is None
    assert s.find_idempotency("aachen", "key-1") is None  # keys are per tenant
    assert s.append("aachen", C, [event(a, 1)], idempotency=("key-1", "hash-3", 201)) == [1]


def test_the_recorder_takes_the_idempotency_key_from_the_request_context(
    memory_store: MemoryEventLogStore,
) -> None:
    app = CoordinationApplication(T, memory_store.recorder)
    with request_context.bound(
        tenant=T, idempotency_key="key-9", request_hash="h", response_status=201
    ):
        register(memory_store, T)
        with pytest.raises(IdempotencyKeyTaken):
            app.register_organisation("Diakonie", OrganisationKind.WELFARE_PROVIDER)
    assert memory_store.head(T, C) == 1
    assert memory_store.find_idempotency(T, "key-9") is not None


def test_index_changes_are_written_with_the_events_and_a_bound_refuses_the_whole_append(
    memory_store: MemoryEventLogStore,
) -> None:
    s, a, b = memory_store, uuid4(), uuid4()
    bound = IndexBound("open", "p1", at_most=2)
    joins = [IndexChange("open", "p1", m, True) for m in ("c1", "c2", "c2")]
    assert s.append(T, C, [event(a, 1)], index_changes=joins, bounds=[bound]) == [1]
    assert (s.index_members(T, C, "open", "p1"), s.index_count(T, C, "open", "p1")) == (
        ["c1", "c2"], 2,
    )  # fmt: skip
    third = [IndexChange("open", "p1", "c3", True)]
    with pytest.raises(IndexBoundExceeded) as refused:
        s.append(T, C, [event(b, 1)], index_changes=third, bounds=[bound])
    assert (refused.value.bound, refused.value.count) == (bound, 3)
    assert s.head(T, C) == 1
    assert s.select_events(T, C, b) == []
    assert s.index_members(T, C, "open", "p1") == ["c1", "c2"]
    swap = [IndexChange("open", "p1", "c1", False), *third]
    assert s.append(T, C, [event(b, 1)], index_changes=swap, bounds=[bound]) == [2]
    assert s.index_members(T, C, "open", "p1") == ["c2", "c3"]
    s.replace_index(T, C, [("open", "p2", "c9"), ("open", "p2", "c9")])
    assert (s.index_count(T, C, "open", "p1"), s.index_count(T, C, "open", "p2")) == (0, 1)


def test_logs_and_index_entries_of_tenants_and_contexts_are_kept_apart(
    memory_store: MemoryEventLogStore,
) -> None:
    s, a = memory_store, uuid4()
    s.append(T, C, [event(a, 1)], index_changes=[IndexChange("i", "k", "m", True)])
    assert s.index_count("aachen", C, "i", "k") == 0
    assert s.index_members(T, "case_management", "i", "k") == []
    assert s.read_log("aachen", C) == []
    assert s.select_events("aachen", C, a) == []
    assert s.append("aachen", C, [event(a, 1)]) == [1]  # the same version in another log
    s.replace_index("aachen", C, [])
    assert s.index_members(T, C, "i", "k") == ["m"]
    assert s.heads() == {(T, C): 1, ("aachen", C): 1}
    assert s.tenants() == ["aachen", T]


def test_verify_finds_a_changed_event_and_a_deleted_tail_of_a_memory_log(
    memory_store: MemoryEventLogStore,
) -> None:
    fill(memory_store)
    result = audit.verify(memory_store)
    assert (result.intact, result.logs, result.events) == (True, 2, 6)
    records = memory_store.read_log(T, C)
    changed = MemoryEventLogStore()
    changed.import_records(replace(r, actor="mallory") if r.position == 3 else r for r in records)
    (finding,) = audit.verify(changed).findings
    assert finding.position == 3
    shortened = MemoryEventLogStore()
    shortened.add_checkpoint(T, C, 5, records[-1].hash or b"")
    shortened.import_records(records[:4])
    (finding,) = audit.verify(shortened).findings
    assert finding.position == 5


def test_an_export_imports_into_an_empty_memory_store_and_its_chain_goes_on(
    memory_store: MemoryEventLogStore,
) -> None:
    orgs = fill(memory_store)
    out = io.StringIO()
    assert export_tenant(memory_store, T, out) == 5
    target = open_store("memory://")
    assert isinstance(target, MemoryEventLogStore)
    assert target is not open_store("memory://")
    assert import_jsonl(target, out.getvalue().splitlines()) == 5
    assert target.read_log(T, C) == memory_store.read_log(T, C)
    CoordinationApplication(T, target.recorder).rename_organisation(orgs[2].id, "Diakonie R.")
    assert target.head(T, C) == 6
    assert audit.verify(target).intact
    with pytest.raises(ValueError, match="memory://"):
        open_store("memory://shared")


def test_import_records_refuses_a_log_that_holds_events_and_writes_nothing(
    memory_store: MemoryEventLogStore,
) -> None:
    fill(memory_store)
    records = memory_store.read_log(T, C) + memory_store.read_log("aachen", C)
    target = MemoryEventLogStore()
    register(target, "aachen")
    with pytest.raises(LogNotEmpty):
        target.import_records(records)
    assert target.heads() == {("aachen", C): 1}
    with pytest.raises(IntegrityError):
        MemoryEventLogStore().import_records([records[0], records[0]])
    assert MemoryEventLogStore().import_records(records) == 6


def test_subject_keys_relay_positions_and_checkpoints(memory_store: MemoryEventLogStore) -> None:
    s, subject = memory_store, uuid4()
    assert s.put_key(T, subject, 1, "kek", b"w" * 60) is None  # no key file bound yet
    assert s.bind_key_file("kek") == "kek" == s.bind_key_file("other")
    key = s.put_key(T, subject, 1, "kek", b"w" * 60)
    assert key is not None
    assert (key.epoch, key.key) == (1, b"w" * 60)
    assert s.put_key(T, subject, 1, "kek", b"x" * 60) == key == s.get_key(T, subject)
    assert s.get_key("aachen", subject) is None
    s.raise_key_floor(2)
    assert s.put_key("aachen", subject, 1, "kek", b"w" * 60) is None  # below the floor
    assert s.destroy_key(T, subject) is True
    assert s.destroy_key(T, subject) is False
    assert s.get_key(T, subject) is None
    assert s.key_state().pending == 1
    with pytest.raises(ValueError, match="tenant"):
        s.put_key("../etc", subject, 2, "kek", b"w" * 60)
    s.set_relay_position("bus", T, C, 5)
    s.set_relay_position("bus", T, C, 3)  # a relay position never moves back
    s.set_relay_positions("bus", {("aachen", C): 2})
    assert s.relay_positions("bus") == {(T, C): 5, ("aachen", C): 2}
    assert s.relay_positions("other") == {}
    s.add_checkpoint(T, C, 2, b"b")
    s.add_checkpoint(T, C, 1, b"a")
    s.add_checkpoint(T, C, 2, b"x")  # idempotent: the first hash stays
    assert s.checkpoints(T, C) == [(1, b"a"), (2, b"b")]
    assert s.checkpoints("aachen", C) == []
    s.ping()


def test_case_management_runs_on_the_memory_store(memory_store: MemoryEventLogStore) -> None:
    app = CaseManagementApplication(T, memory_store.recorder, StoreVault(memory_store))
    position = uuid4()
    app.note_position(position, Decimal("0.5"), T)
    cases = opened_cases(app, 3)
    for case_id in cases:
        app.assign_case(case_id, position_id=position, on=date(2021, 3, 2))
    assert app.caseload(position) == (3, Decimal("6.0"))
    members = memory_store.index_members(
        T, "case_management", OPEN_CASES_OF_POSITION, str(position)
    )
    assert members == sorted(str(c) for c in cases)
    memory_store.replace_index(T, "case_management", [])
    assert app.caseload(position) == (0, Decimal("0.0"))
    assert app.reindex() == 3 + 3  # each open case: its position and its person
    assert app.caseload(position) == (3, Decimal("6.0"))
    again = CaseManagementApplication(T, memory_store.recorder, StoreVault(memory_store))
    assert again.caseload(position) == (3, Decimal("6.0"))
    assert audit.verify(memory_store).intact
