"""An erasure with ``now`` is final on the storage engine too (ADR 0006, deletion concept).

After erasing a person through the API, no copy of their key that any storage layer kept
opens their data again: neither the tables nor their raw pages and files, the WAL, a
``pg_dump`` (on SQLite: the database files, their WAL and a copy taken before), the bus's
messages, a ``kim export`` nor the logs hold the person's values or their unwrapped key,
and every wrapped copy of the key (a backup made before the erasure has one) no longer
unwraps with any key in the key file.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import re
import subprocess
from datetime import date
from pathlib import Path
from uuid import UUID

import psycopg
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi.testclient import TestClient

from kim.cli import main
from runtime.bus.memory import InMemoryBus
from runtime.eventstore.keys import StoredKey
from runtime.keyring import aad
from runtime.platform import Platform
from runtime.settings import Settings, get_settings
from tests.case_support import CM, demo_position, ok, register_person, rheine_coordination_position
from tests.conftest import NATS_URL
from tests.support import Auth, wait_for

RHEINE = CM.format(tenant="rheine")
SEALED = re.compile(rb"kimv1:[A-Za-z0-9+/=]+")


def forms(raw: bytes) -> list[bytes]:
    """The ways a key could be written down: bytes, hex (as pg_dump writes bytea), base64."""
    return [raw, raw.hex().encode(), base64.b64encode(raw), base64.b64encode(raw)[:40]]


def unwraps(key_file: Path, stored: StoredKey) -> bool:
    """Whether any key in the key file unwraps ``stored``, under any epoch it names."""
    data = json.loads(key_file.read_text())
    epochs = {int(e) for e in data["keys"]} | {stored.epoch}
    for kek in data["keys"].values():
        cipher = AESGCM(base64.b64decode(kek))
        for label in epochs:
            try:
                cipher.decrypt(
                    stored.key[:12], stored.key[12:], aad(stored.tenant, stored.key_id, label)
                )
                return True
            except InvalidTag:
                continue
    return False


def opens(raw: bytes, person: UUID, sealed: bytes) -> bool:
    blob = base64.b64decode(sealed[len(b"kimv1:") :])
    try:
        AESGCM(raw).decrypt(blob[:12], blob[12:], f"kim:rheine:{person}".encode())
        return True
    except InvalidTag:
        return False


# -- what each stack keeps -----------------------------------------------------------------
def bus_messages(platform: Platform, settings: Settings) -> list[bytes]:
    """Every message the bus holds, as bytes (JetStream: the stream's stored messages)."""
    if isinstance(platform.bus, InMemoryBus):
        return [
            json.dumps(record.to_json()).encode() + record.state
            for record, _headers in platform.bus._retained
        ]

    async def fetch() -> list[bytes]:
        import nats

        nc = await nats.connect(NATS_URL)
        try:
            js = nc.jetstream()
            info = await js.stream_info(settings.nats_stream)
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                msg = await js.get_msg(settings.nats_stream, seq)
                found.append(bytes(msg.data or b""))
            return found
        finally:
            await nc.close()

    return asyncio.run(fetch())


def sqlite_files(settings: Settings) -> dict[str, bytes]:
    data = Path(settings.event_store[len("sqlite:///") :])
    return {p.name: p.read_bytes() for p in sorted(data.iterdir()) if p.is_file()}


def pg_dump(settings: Settings) -> bytes:
    done = subprocess.run(
        ["/usr/bin/pg_dump", "--dbname", settings.event_store, "--schema", settings.pg_schema],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


class Postgres:
    """The cluster's own copies: raw pages (pageinspect), table files and WAL segments."""

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg.connect(dsn, autocommit=True)  # the store's own database
        with contextlib.suppress(psycopg.errors.UniqueViolation):  # made concurrently
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS pageinspect")
        row = self.conn.execute("SHOW data_directory").fetchone()
        assert row is not None
        self.data = Path(row[0])
        self.start = self.wal_file()

    def wal_file(self) -> str:
        row = self.conn.execute("SELECT pg_walfile_name(pg_current_wal_insert_lsn())").fetchone()
        assert row is not None
        return str(row[0])

    def raw_pages(self, table: str) -> bytes:
        row = self.conn.execute("SELECT pg_relation_size(%s) / 8192", (table,)).fetchone()
        assert row is not None
        pages = [
            bytes(self.conn.execute("SELECT get_raw_page(%s, %s)", (table, n)).fetchone()[0])  # type: ignore[index]
            for n in range(int(row[0]))
        ]
        return b"".join(pages)

    def all_raw_pages(self, schema: str) -> bytes:
        """The raw pages of every table and index in the schema (read models included)."""
        rows = self.conn.execute(
            "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n"
            " ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relkind IN ('r', 'i')",
            (schema,),
        ).fetchall()
        return b"".join(self.raw_pages(str(r[0])) for r in rows)

    def table_file(self, table: str) -> bytes:
        self.conn.execute("CHECKPOINT")  # the pages on disk as the buffers hold them
        row = self.conn.execute("SELECT pg_relation_filepath(%s)", (table,)).fetchone()
        assert row is not None
        return (self.data / str(row[0])).read_bytes()

    def wal(self) -> tuple[bytes, bool]:
        """The WAL segments written since the test began, and whether all of them are still
        there (a checkpoint of the shared cluster, busy with other tests, may have recycled
        the first ones: then the search covers what is left)."""
        end = self.wal_file()
        names = sorted(
            p.name
            for p in (self.data / "pg_wal").iterdir()
            if len(p.name) == 24 and self.start[:8] == p.name[:8] and self.start <= p.name <= end
        )
        assert names, "no WAL segment found"
        data = b"".join((self.data / "pg_wal" / n).read_bytes() for n in names)
        return data, names[0] == self.start

    def close(self) -> None:
        self.conn.close()


# -- the test --------------------------------------------------------------------------------
def test_after_an_erasure_with_now_no_copy_of_the_key_opens_the_person_again(
    client: TestClient,
    platform: Platform,
    settings: Settings,
    auth: Auth,
    unique: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    postgres = None if settings.event_store.startswith("sqlite") else Postgres(settings.event_store)
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    post = auth("rheine", "coordinator", position=rheine_coordination_position(platform))
    name = f"Zofia Quarantotto-{unique}"
    person = register_person(client, cm, name=name)
    kept = register_person(client, cm, name=f"Bleibt Lesbar-{unique}")
    wait_for(
        lambda: any(name.encode() not in m and str(person).encode() in m for m in
                    bus_messages(platform, settings)),
        "the person's events on the bus",
    )  # fmt: skip
    stored = platform.store.get_key("rheine", person)
    assert stored is not None
    assert stored.epoch == 1
    raw = platform.vault.unwrap(stored)
    key_file = Path(str(settings.key_file))
    assert unwraps(key_file, stored)  # the check below would see a key that still opens
    backup = b"".join(sqlite_files(settings).values()) if postgres is None else pg_dump(settings)
    assert stored.key in backup or stored.key.hex().encode() in backup  # the backup holds it

    erased = client.post(
        f"{RHEINE}/people/{person}/erasure",
        json={"on": date.today().isoformat(), "now": True},
        headers=post,
    )
    ok(erased)
    assert erased.headers["KIM-Key-Epoch"] == "2"
    wait_for(
        lambda: sum(str(person).encode() in m for m in bus_messages(platform, settings)) >= 2,
        "PersonErased on the bus",
    )

    # The key's row is gone, the erasure is final (no pending rotation), others still open.
    assert platform.store.get_key("rheine", person) is None
    state = platform.store.key_state()
    assert (state.pending, state.floor) == (0, 2)
    assert json.loads(key_file.read_text())["keys"].keys() == {"2"}
    assert ok(client.get(f"{RHEINE}/people/{person}", headers=cm))["personal_data"] is None
    assert ok(client.get(f"{RHEINE}/people/{kept}", headers=cm))["personal_data"] is not None

    # Every place that keeps bytes: the person's values and the unwrapped key are nowhere.
    places: dict[str, bytes] = {"backup taken before the erasure": backup}
    if postgres is None:
        places |= {f"file {n}": b for n, b in sqlite_files(settings).items()}
    else:
        table = f"{settings.pg_schema}.subject_keys"
        wal, whole = postgres.wal()  # before table_file's CHECKPOINT may recycle segments
        places |= {
            "WAL since the test began": wal,
            "raw pages of subject_keys": postgres.raw_pages(table),
            "raw pages of every table and index": postgres.all_raw_pages(settings.pg_schema),
            "file of subject_keys": postgres.table_file(table),
            "pg_dump after the erasure": pg_dump(settings),
        }
        if whole:  # the search sees the insert (unless the cluster recycled its segment)
            assert stored.key in wal
    places["key file"] = key_file.read_bytes()
    messages = bus_messages(platform, settings)
    places["bus messages"] = b"\n".join(messages)
    export = tmp_path / "rheine.jsonl"
    monkeypatch.setenv("KIM_EVENT_STORE", settings.event_store)
    monkeypatch.setenv("KIM_PG_SCHEMA", settings.pg_schema)
    monkeypatch.setenv("KIM_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    try:
        assert main(["export", "--tenant", "rheine", "--out", str(export)]) == 0
    finally:
        get_settings.cache_clear()
    places["kim export"] = export.read_bytes()
    out = capsys.readouterr()
    places["logs"] = "\n".join(
        [r.getMessage() for r in caplog.records] + [out.out, out.err]
    ).encode()
    for where, content in places.items():
        assert name.encode() not in content, where
        for form in forms(raw):
            assert form not in content, f"the unwrapped key in {where}"

    # Wrapped copies (old pages, WAL, the backup) do not unwrap with any key there is now.
    assert not unwraps(key_file, stored)
    # The sealed texts in the bus messages and the export opened with the key; without it
    # they no longer open, and the vault finds no key.
    texts = {t for m in messages if str(person).encode() in m for t in SEALED.findall(m)}
    texts |= {
        t for line in places["kim export"].splitlines() if str(person).encode() in line
        for t in SEALED.findall(line)
    }  # fmt: skip
    assert texts
    assert all(opens(raw, person, t) for t in texts)  # they were the person's data
    assert all(platform.vault.open("rheine", person, t.decode()) is None for t in texts)
    if postgres is not None:
        postgres.close()
