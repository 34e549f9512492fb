"""The database roles (deploy/README.md, "Database roles"): a plain database owner without
CREATEROLE is told, in German, what is missing and the SQL to run; after the DBA's SQL from
the documentation the same command succeeds. Against a cluster of the module's own (roles
belong to a cluster)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from runtime.eventstore import DbTimeouts
from runtime.eventstore.postgres_roles import startup_check
from runtime.keyring import create_key_file
from tests.faults import OwnPostgres, free_port, own_postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster() -> Iterator[OwnPostgres]:
    with own_postgres("kimroles") as server:
        yield server


def as_superuser(cluster: OwnPostgres, *statements: str, database: str = "postgres") -> None:
    dsn = cluster.dsn.rsplit("/", 1)[0] + f"/{database}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement.encode())


def owner(cluster: OwnPostgres, role: str) -> str:
    """A login role owning a database of its own, without CREATEROLE; its DSN."""
    as_superuser(cluster, f"CREATE ROLE {role} LOGIN", f"CREATE DATABASE {role}db OWNER {role}")
    return f"postgresql://{role}@127.0.0.1:{cluster.port}/{role}db"


def documented_sql() -> list[str]:
    """The DBA's statements from deploy/README.md, section "Database roles"."""
    text = (ROOT / "deploy" / "README.md").read_text(encoding="utf-8")
    section = text.split("## Database roles", 1)[1]
    block = re.search(r"```sql\n(.*?)```", section, re.S)
    assert block is not None, "the section gives the SQL to run"
    return [line.strip() for line in block.group(1).splitlines() if line.strip()]


def kim(dsn: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    key_file = tmp_path / "keys" / "kek.json"
    if not key_file.exists():
        create_key_file(key_file)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KIM_EVENT_STORE": dsn,
        "KIM_PG_SCHEMA": "kim",
        "KIM_BUS": "memory",
        "KIM_KEY_FILE": str(key_file),
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "kim.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_database_owner_without_createrole_gets_the_sql_and_succeeds_after_it(
    cluster: OwnPostgres, tmp_path: Path
) -> None:
    dsn = owner(cluster, "kim")

    refused = kim(dsn, tmp_path, "demo")
    assert refused.returncode == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    message = " ".join(refused.stderr.split())
    assert "Die Rolle kim_tenant fehlt" in message
    assert "CREATEROLE" in message
    sql = documented_sql()
    assert sql == ["CREATE ROLE kim_tenant NOLOGIN;", "GRANT kim_tenant TO kim;"]
    for statement in sql:  # the message names the documented SQL
        assert statement in message

    as_superuser(cluster, *sql)
    loaded = kim(dsn, tmp_path, "demo")
    assert loaded.returncode == 0, loaded.stderr
    assert "Traceback" not in loaded.stderr
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT count(*) > 0 FROM kim.events").fetchone() == (True,)


def test_a_tenant_role_not_granted_to_the_dsn_role_is_named(cluster: OwnPostgres) -> None:
    as_superuser(
        cluster,
        "DO $$ BEGIN CREATE ROLE kim_tenant NOLOGIN;"
        " EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    dsn = owner(cluster, "kim_other")

    found = startup_check(dsn, "kim", DbTimeouts())
    assert found is not None
    code, message = found
    assert code == 2
    assert "kim_tenant ist der Rolle „kim_other“ der Datenbankverbindung nicht zugewiesen" in (
        message
    )
    assert "GRANT kim_tenant TO kim_other;" in message
    assert "CREATE ROLE" not in message  # it exists: only the grant is missing

    as_superuser(cluster, "GRANT kim_tenant TO kim_other")
    assert startup_check(dsn, "kim", DbTimeouts()) is None


def test_an_unreachable_database_is_a_warning_not_a_refusal() -> None:
    """``kim serve`` starts while PostgreSQL is down; the roles are checked by the store's
    first statement then."""
    dsn = f"postgresql://kim@127.0.0.1:{free_port()}/kimdb"  # nothing listens there
    found = startup_check(dsn, "kim", DbTimeouts(connect=2))
    assert found is not None
    assert found[0] == 0
    assert "nicht erreichbar" in found[1]
