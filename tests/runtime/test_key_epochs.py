"""Subject keys wrapped under key epochs; a rotation makes every older copy useless (ADR 0006)."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.keys import KeyState, RotationBusy, StoredKey
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.key_epochs import (
    EpochWatch,
    check_keys,
    default_key_file,
    finish_erasures,
    open_keys,
    rotate,
    rotation_due,
)
from runtime.keyring import (
    EphemeralKeys,
    KeyFile,
    KeyFileProblem,
    MissingKeys,
    UnknownKeyEpoch,
    aad,
    create_key_file,
)
from runtime.settings import Settings
from runtime.vault import StoreVault
from tests.conftest import PG_DSN, require

T = "rheine"


def people(vault: StoreVault, count: int, tenant: str = T) -> dict[UUID, str]:
    sealed = {}
    for i in range(count):
        person = uuid4()
        sealed[person] = vault.seal(tenant, person, {"name": f"Person {i}"})
    return sealed


def all_open(vault: StoreVault, sealed: dict[UUID, str], tenant: str = T) -> bool:
    return all(vault.open(tenant, p, s) is not None for p, s in sealed.items())


def keys_of(store: EventLogStore, sealed: dict[UUID, str], tenant: str = T) -> list[StoredKey]:
    found = [store.get_key(tenant, p) for p in sealed]
    return [k for k in found if k is not None]


def unwraps_with_any(keys: KeyFile | EphemeralKeys, stored: StoredKey) -> bool:
    """Whether any epoch key the keys still hold unwraps ``stored`` (under any epoch label)."""
    for epoch in keys.epochs():
        cipher = keys._keys().cipher(epoch)
        assert cipher is not None
        for label in {epoch, stored.epoch}:
            try:
                cipher.decrypt(
                    stored.key[:12], stored.key[12:], aad(stored.tenant, stored.key_id, label)
                )
                return True
            except InvalidTag:
                continue
    return False


class Recorder:
    def __init__(self, stop_after: int | None = None) -> None:
        self.started: list[tuple[int, int]] = []
        self.done = 0
        self.stop_after = stop_after

    def start(self, epoch: int, total: int) -> None:
        self.started.append((epoch, total))

    def advance(self, count: int) -> None:
        self.done += count
        if self.stop_after is not None and self.done >= self.stop_after:
            raise KeyboardInterrupt("the rotation's process is killed")


# -- the key file ----------------------------------------------------------------------
def test_the_key_file_is_private_atomic_and_never_overwritten(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "keys" / "kek.json")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert (data["format"], data["current"], list(data["keys"])) == ("kim-kek/1", 1, ["1"])
    with pytest.raises(FileExistsError):
        create_key_file(path)
    keys = KeyFile(path)
    assert keys.begin_epoch() == 2
    assert keys.epochs() == [1, 2]
    assert keys.retire_epochs() == [1]
    assert keys.epochs() == [2]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["kek.json"]  # no temporary file left
    with pytest.raises(KeyFileProblem, match="fehlt"):
        KeyFile(tmp_path / "missing.json").epochs()
    (tmp_path / "broken.json").write_text('{"format": "kim-kek/1"}')
    with pytest.raises(KeyFileProblem, match="beschädigt"):
        KeyFile(tmp_path / "broken.json").epochs()


def test_a_wrapped_key_opens_only_for_its_tenant_subject_and_epoch(tmp_path: Path) -> None:
    keys = KeyFile(create_key_file(tmp_path / "kek.json"))
    subject, key = uuid4(), os.urandom(32)
    epoch, wrapped = keys.wrap(T, subject, key)
    assert (epoch, len(wrapped)) == (1, 12 + 32 + 16)
    assert key not in wrapped
    assert keys.unwrap(T, subject, epoch, wrapped) == key
    with pytest.raises(KeyFileProblem):
        keys.unwrap("aachen", subject, epoch, wrapped)
    with pytest.raises(KeyFileProblem):
        keys.unwrap(T, uuid4(), epoch, wrapped)
    with pytest.raises(UnknownKeyEpoch):
        keys.unwrap(T, subject, 7, wrapped)


def test_another_process_rotating_is_seen_at_the_next_use(tmp_path: Path) -> None:
    path = create_key_file(tmp_path / "kek.json")
    here, there = KeyFile(path), KeyFile(path)
    subject = uuid4()
    epoch, wrapped = here.wrap(T, subject, b"k" * 32)
    there.begin_epoch()
    assert here.wrap(T, subject, b"k" * 32)[0] == 2  # wraps under the new epoch at once
    there.retire_epochs()
    with pytest.raises(UnknownKeyEpoch):  # the destroyed epoch is gone here too
        here.unwrap(T, subject, epoch, wrapped)


# -- rotation on both stacks ---------------------------------------------------------------
def test_a_rotation_rewraps_every_key_and_old_copies_no_longer_unwrap(
    store: EventLogStore, settings: Settings
) -> None:
    keys = store.key_encryption_keys
    assert isinstance(keys, KeyFile)
    vault = StoreVault(store)
    sealed = people(vault, 5) | people(vault, 2, "emsdetten")
    before = keys_of(store, sealed)
    assert {k.epoch for k in before} == {1}
    erased = next(iter(sealed))
    assert vault.erase(T, erased)
    assert store.key_state().pending == 1

    rotation = rotate(store, keys, batch=2)

    assert rotation is not None
    assert (rotation.epoch, rotation.destroyed, rotation.rewrapped) == (2, [1], 6)
    assert rotation.erasures == 1
    assert keys.epochs() == [2]
    state = store.key_state()
    assert (state.floor, state.pending, state.keys, state.below_floor) == (2, 0, 6, 0)
    assert vault.open(T, erased, sealed[erased]) is None
    assert all_open(vault, {p: s for p, s in list(sealed.items())[1:5]})
    assert all_open(vault, {p: s for p, s in list(sealed.items())[5:]}, "emsdetten")
    for old in before:
        assert not unwraps_with_any(keys, old)  # a copy from old pages, WAL or a backup
        with pytest.raises(UnknownKeyEpoch):
            keys.unwrap(old.tenant, old.key_id, old.epoch, old.key)
    assert {k.epoch for k in keys_of(store, sealed)} == {2}
    assert {k.epoch for k in keys_of(store, sealed, "emsdetten")} == {2}


def test_an_interrupted_rotation_runs_again_and_finishes(store: EventLogStore) -> None:
    keys = store.key_encryption_keys
    vault = StoreVault(store)
    sealed = people(vault, 6)
    with pytest.raises(KeyboardInterrupt):
        rotate(store, keys, progress=Recorder(stop_after=2), batch=2)
    assert keys.epochs() == [1, 2]  # the old epoch is kept until every key moved
    assert sorted(k.epoch for k in keys_of(store, sealed)) == [1, 1, 1, 1, 2, 2]
    assert all_open(vault, sealed)  # mixed epochs open meanwhile
    people(vault, 1)  # a key stored meanwhile is wrapped under the new epoch

    recorder = Recorder()
    rotation = rotate(store, keys, progress=recorder, batch=2)

    assert rotation is not None
    assert rotation.destroyed == [1]
    assert recorder.started == [(2, 4)]  # finishes the interrupted one, no new epoch: none erased
    assert keys.epochs() == [2]
    assert {k.epoch for k in keys_of(store, sealed)} == {2}
    assert all_open(vault, sealed)


def test_an_erasure_during_a_rotation_waits_for_the_next_epoch(store: EventLogStore) -> None:
    keys = store.key_encryption_keys
    vault = StoreVault(store)
    sealed = people(vault, 4)
    first = min(sealed, key=str)  # re-wrapped in the first batch

    class EraseMidway(Recorder):
        def advance(self, count: int) -> None:
            super().advance(count)
            if self.done == 1:
                assert store.get_key(T, first).epoch == 2  # type: ignore[union-attr]
                vault.erase(T, first)  # its copy under epoch 2 is in the pages now

    rotation = rotate(store, keys, progress=EraseMidway(), batch=1)

    assert rotation is not None
    assert rotation.epoch == 2
    assert store.key_state().pending == 1  # epoch 2 still exists: not final yet
    again = finish_erasures(store, keys)
    assert again is not None
    assert (again.epoch, again.destroyed, again.erasures) == (3, [2], 1)
    assert store.key_state().pending == 0
    assert finish_erasures(store, keys) is None  # nothing pending: no new epoch
    assert all_open(vault, {p: s for p, s in sealed.items() if p != first})


def test_only_one_rotation_at_a_time(store: EventLogStore) -> None:
    keys = store.key_encryption_keys
    StoreVault(store).seal(T, uuid4(), {"name": "x"})
    with store.key_rotation_lock(0), pytest.raises(RotationBusy):
        rotate(store, keys, wait=0.2)
    assert rotate(store, keys) is not None


def test_the_store_refuses_a_key_below_its_floor_and_another_key_file(
    store: EventLogStore,
) -> None:
    vault = StoreVault(store)
    vault.seal(T, uuid4(), {"name": "x"})
    kek_id = store.key_encryption_keys.kek_id
    store.raise_key_floor(5)
    assert store.put_key(T, uuid4(), 4, kek_id, b"w" * 60) is None
    assert store.put_key(T, uuid4(), 5, "another-file", b"w" * 60) is None
    assert store.put_key(T, uuid4(), 5, kek_id, b"w" * 60) is not None
    assert store.bind_key_file("another-file") == kek_id
    with pytest.raises(KeyFileProblem, match="gehört nicht"):
        StoreVault(store, EphemeralKeys()).seal(T, uuid4(), {"name": "y"})
    with pytest.raises(KeyFileProblem, match="gehört nicht"):
        rotate(store, EphemeralKeys())


def test_raw_keys_from_before_epochs_open_and_the_first_rotation_wraps_them(
    store: EventLogStore,
) -> None:
    vault = StoreVault(store)
    vault.seal(T, uuid4(), {"name": "bind"})
    legacy, raw = uuid4(), os.urandom(32)
    assert store.put_key(T, legacy, 0, store.key_encryption_keys.kek_id, raw) is not None
    nonce = os.urandom(12)
    sealed = "kimv1:" + base64.b64encode(
        nonce + AESGCM(raw).encrypt(nonce, b'{"name": "Alt"}', f"kim:{T}:{legacy}".encode())
    ).decode("ascii")
    assert vault.open(T, legacy, sealed) == {"name": "Alt"}
    assert store.key_state().legacy == 1

    assert rotate(store, store.key_encryption_keys) is not None

    stored = store.get_key(T, legacy)
    assert stored is not None
    assert stored.epoch == 2
    assert raw not in stored.key
    assert vault.open(T, legacy, sealed) == {"name": "Alt"}
    assert store.key_state().legacy == 0


def test_a_sqlite_file_from_before_epochs_gets_the_column_and_its_keys_open(
    tmp_path: Path,
) -> None:
    data = tmp_path / "kim-data"
    data.mkdir()
    raw, person = os.urandom(32), uuid4()
    with sqlite3.connect(data / f"{T}.sqlite") as old:
        old.execute(
            "CREATE TABLE subject_keys (tenant TEXT NOT NULL, key_id TEXT NOT NULL,"
            " key BLOB NOT NULL, PRIMARY KEY (tenant, key_id))"
        )
        old.execute("INSERT INTO subject_keys VALUES (?, ?, ?)", (T, str(person), raw))
    store = SqliteEventLogStore(data)
    try:
        store.use_key_encryption_keys(KeyFile(create_key_file(tmp_path / "kek.json")))
        assert store.get_key(T, person) == StoredKey(T, person, 0, raw)
        assert StoreVault(store).unwrap(store.get_key(T, person)) == raw  # type: ignore[arg-type]
        assert rotate(store, store.key_encryption_keys) is not None
        assert store.get_key(T, person).epoch == 2  # type: ignore[union-attr]
        assert raw not in (data / f"{T}.sqlite").read_bytes()
    finally:
        store.close()


def test_a_postgresql_schema_from_before_epochs_gets_the_column(
    unique: str, tmp_path: Path
) -> None:
    require("PostgreSQL", PG_DSN, 5432)
    schema, person, raw = f"t_{unique}", uuid4(), os.urandom(32)
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(
            f"CREATE TABLE {schema}.subject_keys (tenant text NOT NULL, key_id uuid NOT NULL,"
            " key bytea NOT NULL, created_at timestamptz NOT NULL DEFAULT now(),"
            " PRIMARY KEY (tenant, key_id))"
        )
        conn.execute(f"INSERT INTO {schema}.subject_keys VALUES (%s, %s, %s)", (T, person, raw))
    store = PostgresEventLogStore(PG_DSN, schema=schema, max_connections=4)
    try:
        store.use_key_encryption_keys(KeyFile(create_key_file(tmp_path / "kek.json")))
        assert store.get_key(T, person) == StoredKey(T, person, 0, raw)
        rotation = rotate(store, store.key_encryption_keys)
        assert rotation is not None
        assert rotation.rewrapped == 1
        stored = store.get_key(T, person)
        assert stored is not None
        assert stored.epoch == 2
        assert StoreVault(store).unwrap(stored) == raw
    finally:
        store.drop_schema()
        store.close()


# -- the batch and where the key file comes from --------------------------------------
def state(**changes: object) -> KeyState:
    fields: dict[str, object] = dict(
        floor=2, kek_id="k", pending=0, oldest_pending=None, keys=3, below_floor=0, legacy=0
    )
    fields.update(changes)
    return KeyState(**fields)  # type: ignore[arg-type]


def test_the_batch_rotates_before_the_oldest_erasure_passes_the_deadline() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    due = {"hours": 24.0, "interval": 3600.0, "now": now}
    assert rotation_due(state(), [2], **due) is None  # type: ignore[arg-type]
    fresh = state(pending=2, oldest_pending=now - timedelta(hours=1))
    assert rotation_due(fresh, [2], **due) is None  # type: ignore[arg-type]
    late = state(pending=2, oldest_pending=now - timedelta(hours=23, minutes=1))
    assert rotation_due(late, [2], **due)  # type: ignore[arg-type]
    assert rotation_due(state(), [2, 3], **due)  # type: ignore[arg-type]
    assert rotation_due(state(legacy=1), [2], **due)  # type: ignore[arg-type]


def test_the_watch_of_kim_serve_rotates_what_is_due(memory_store: MemoryEventLogStore) -> None:
    keys = memory_store.key_encryption_keys
    vault = StoreVault(memory_store)
    sealed = people(vault, 3)
    watch = EpochWatch(memory_store, lambda: keys, hours=24, interval=3600)
    assert watch.check() is None  # nothing erased
    vault.erase(T, next(iter(sealed)))
    assert watch.check() is None  # the erasure is an hour old at most: not due yet
    lazy = EpochWatch(memory_store, lambda: keys, hours=0.5, interval=3600)
    rotation = lazy.check()
    assert rotation is not None
    assert rotation.erasures == 1
    watch.start()
    watch.stop()


def test_which_key_file(tmp_path: Path) -> None:
    data = tmp_path / "kim-data"
    embedded = Settings(event_store=f"sqlite:///{data}")
    assert default_key_file(data) == tmp_path / "kim-keys" / "kim-data.kek.json"
    created = check_keys(embedded)
    assert created is not None
    assert "neu angelegt" in created
    assert (tmp_path / "kim-keys" / "kim-data.kek.json").is_file()
    assert check_keys(embedded) is None  # there now
    production = Settings(event_store="postgresql://db.example/kim")
    assert isinstance(open_keys(production), MissingKeys)
    with pytest.raises(KeyFileProblem, match="KIM_KEY_FILE ist nicht gesetzt"):
        check_keys(production)
    mounted = Settings(event_store="postgresql://db.example/kim", key_file=str(tmp_path / "k"))
    with pytest.raises(KeyFileProblem, match="fehlt"):  # never made up when the mount is missing
        check_keys(mounted)
    assert isinstance(open_keys(embedded, MemoryEventLogStore()), EphemeralKeys)
