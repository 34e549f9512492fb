"""Message DB (Eventide's PostgreSQL event store) as a peer in ``python -m bench write``.

The benchmark installs it itself: ``npm pack`` fetches the published package from the npm
registry into a temporary directory, and its SQL install files run through psycopg, in the
order of its own install scripts, into a database of its own (Message DB's functions name
the schema ``message_store`` and find each other through the search path, so a database
keeps two runs apart). Its role and grants are left out: the benchmark connects as the
owner. The database is dropped afterwards.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow

from bench.writers import PAYLOAD, Result, on_connections

PACKAGE = "@eventide/message-db@1.3.1"
_SQL_FILE = re.compile(r"\$base/([\w/-]+\.sql)")


class MessageDbUnavailable(Exception):
    """npm or the registry is not reachable: the benchmark runs without the peer."""


def fetch(into: Path) -> Path:
    """The package's ``database`` folder, unpacked from ``npm pack`` under ``into``."""
    npm = shutil.which("npm")
    if npm is None:
        raise MessageDbUnavailable("npm is not installed")
    try:
        done = subprocess.run(
            [npm, "pack", PACKAGE, "--silent"],
            cwd=into,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as e:
        raise MessageDbUnavailable(f"npm pack {PACKAGE} failed: {e}") from e
    tarball = into / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as tar:
        tar.extractall(into, filter="data")
    return into / "package" / "database"


def install_files(database: Path) -> list[Path]:
    """The SQL files Message DB's install script runs, in its order, without the role, the
    database, the views and the privileges."""
    files = [
        "schema/message-store.sql",
        "extensions/pgcrypto.sql",
        "tables/messages.sql",
    ]
    for script in ("install-functions.sh", "install-indexes.sh"):
        files += _SQL_FILE.findall((database / script).read_text(encoding="utf-8"))
    return [database / f for f in files]


def install(dsn: str, database: Path) -> str:
    """Create a database of its own with Message DB in it; returns its connection string."""
    name = f"kim_bench_mdb_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    target = make_conninfo(dsn, dbname=name)
    try:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            for path in install_files(database):
                text = path.read_text(encoding="utf-8").encode()
                if path.name == "pgcrypto.sql":
                    try:  # only for gen_random_uuid(), built in since PostgreSQL 13
                        conn.execute(text)
                    except psycopg.errors.Error:
                        continue
                else:
                    conn.execute(text)
    except BaseException:
        drop(dsn, target)
        raise
    return target


def drop(dsn: str, target: str) -> None:
    name = psycopg.conninfo.conninfo_to_dict(target)["dbname"]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(str(name)))
        )


@contextmanager
def message_db(dsn: str) -> Iterator[str]:
    """Message DB installed for the duration of a block; yields its connection string."""
    with tempfile.TemporaryDirectory(prefix="kim-bench-mdb-") as tmp:
        target = install(dsn, fetch(Path(tmp)))
    try:
        yield target
    finally:
        drop(dsn, target)


WRITE = b"SELECT message_store.write_message(%s, %s, 'Registered', %s::jsonb, %s::jsonb, %s)"


def category_of(tenant: str) -> str:
    """One category per tenant (a category name holds no '-': it ends at the first one)."""
    return "organisation_" + tenant.replace("-", "_")


def write_messages(target: str, writers: int, per_writer: int, tenants: list[str]) -> Result:
    """``write_message`` into a new stream per command (one per aggregate, as the
    platform's command creates one), with the expected version checked (-1: the stream
    must not exist) under Message DB's advisory lock per category."""
    data = PAYLOAD.decode()
    categories = {t: category_of(t) for t in tenants}

    def work(conn: psycopg.Connection[TupleRow], w: int, tenant: str) -> None:
        stream = f"{categories[tenant]}-{uuid.uuid4().hex}"
        metadata = f'{{"actor": "bench", "correlationId": "{uuid.uuid4()}"}}'
        row = conn.execute(
            WRITE, (str(uuid.uuid4()), stream, data, metadata, -1), prepare=True
        ).fetchone()
        assert row is not None
        assert row[0] == 0, row  # the first message of its stream

    name = "Message DB write_message (expected version)"
    session = "SET search_path = message_store, public"
    return on_connections(name, target, writers, per_writer, tenants, work, session=session)


def count_messages(target: str) -> int:
    with psycopg.connect(target, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM message_store.messages").fetchone()
    return int(row[0]) if row else 0
