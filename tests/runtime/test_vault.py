"""Personal data sealed under one key per person; erasure destroys the key (crypto-shredding)."""

from __future__ import annotations

import io
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate, event

from contexts.shared.application import TenantApplication
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.jsonl import export_tenant
from runtime.vault import StoreVault

PERSON = {"name": "Amina Haddad", "born": "1990-04-02", "languages": ["ar", "fr"]}


class Person(Aggregate):
    class Registered(Aggregate.Created):
        sealed: str
        arrival_year: int

    @event(Registered)
    def __init__(self, sealed: str, arrival_year: int) -> None:
        self.sealed = sealed
        self.arrival_year = arrival_year


class People(TenantApplication):
    context = "case_management"


def test_sealed_personal_data_opens_only_for_its_person_and_tenant(store: EventLogStore) -> None:
    vault = StoreVault(store)
    amina, other = uuid4(), uuid4()
    sealed = vault.seal("rheine", amina, PERSON)
    assert "Amina" not in sealed
    assert vault.open("rheine", amina, sealed) == PERSON
    vault.seal("rheine", other, {"name": "x"})
    with pytest.raises(ValueError, match="does not belong"):
        vault.open("rheine", other, sealed)
    assert vault.open("aachen", amina, sealed) is None  # aachen holds no key for her


def test_erasing_a_person_makes_every_copy_unreadable_while_the_facts_replay(
    store: EventLogStore,
) -> None:
    vault = StoreVault(store)
    app = People("rheine", store.recorder)
    person_id = uuid4()
    person = Person(sealed=vault.seal("rheine", person_id, PERSON), arrival_year=2021)
    app.save(person)
    exported = io.StringIO()
    export_tenant(store, "rheine", exported, context="case_management")
    assert "Amina" not in exported.getvalue()  # the log and its exports hold only the sealed text

    assert vault.erase("rheine", person_id) is True
    assert vault.erase("rheine", person_id) is False
    replayed: Person = People("rheine", store.recorder).repository.get(person.id)
    assert replayed.arrival_year == 2021  # non-personal facts still replay
    assert vault.open("rheine", person_id, replayed.sealed) is None
    assert store.get_key("rheine", person_id) is None
