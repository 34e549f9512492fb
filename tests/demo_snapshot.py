"""The demo, loaded once per test process and stack, copied for each test that needs it.

Most tests start from the demo (``platform`` and ``client`` in ``tests/conftest.py``).
Loading it runs some 130 commands, and on the production stack the consumers then pass
its events over NATS: about 0.8 s a test, half of the suite's setup. So each worker
process loads it once per stack into a *template*, with everything the platform derives
from it (read models, the consumers' effects, the relay's and consumers' saved
positions), stops that platform cleanly, and every test gets a copy:

- embedded: the template's data folder (one SQLite file per tenant and the read models)
  is copied file by file;
- production: the template is a database of its own; PostgreSQL copies it with
  ``CREATE DATABASE ... TEMPLATE`` (the same schema name in every copy, roles and
  row-level security policies included), and the copy is dropped after the test.

The key file (key-encryption keys, ADR 0006) is copied with it: the subject keys in the
store are wrapped under it. The test's bus is new and empty (its own NATS stream); every
consumer is already level with every log, so nothing needs to pass over it. A test that
must see the demo arrive live (over the bus, through the relay) is marked
``fresh_demo`` and loads it itself, as before.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import psycopg
from psycopg import sql

from runtime.settings import Settings

Build = Callable[[Settings, str], None]
"""Loads the demo into the store of ``settings`` (bus prefix and stream from the id) and
stops the platform cleanly."""
SCHEMA = "kim_demo"


def database_dsn(dsn: str, database: str) -> str:
    return urlparse(dsn)._replace(path=f"/{database}").geturl()


@dataclass
class DemoTemplates:
    base: Path
    """A folder of this test process for the embedded template."""
    pg_dsn: str
    build: Build
    embedded: Path | None = None
    database: str | None = None
    clones: set[str] = field(default_factory=set)

    # -- templates, on first use ----------------------------------------------------------
    def _embedded(self, settings: Settings) -> Path:
        if self.embedded is None:
            folder = self.base / "embedded"
            folder.mkdir(parents=True)
            shutil.copy(str(settings.key_file), folder / "kek.json")
            template = settings.model_copy(
                update={
                    "event_store": f"sqlite:///{folder / 'kim-data'}",
                    "key_file": str(folder / "kek.json"),
                }
            )
            self.build(template, f"tpl{uuid.uuid4().hex[:8]}")
            self.embedded = folder
        return self.embedded

    def _database(self, settings: Settings) -> str:
        if self.database is None:
            name = f"kimtpl_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(self.pg_dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            folder = self.base / "production"
            folder.mkdir(parents=True)
            shutil.copy(str(settings.key_file), folder / "kek.json")
            unique = uuid.uuid4().hex[:8]
            template = settings.model_copy(
                update={
                    "event_store": database_dsn(self.pg_dsn, name),
                    "pg_schema": SCHEMA,
                    "nats_stream": f"KIMTPL_{unique}",
                    "key_file": str(folder / "kek.json"),
                }
            )
            self.build(template, f"tpl{unique}")
            self.database = name
        return self.database

    # -- copies ---------------------------------------------------------------------------
    def copy(self, settings: Settings, unique: str) -> Settings:
        """``settings`` pointed at a fresh copy of the demo (their key file overwritten)."""
        if settings.event_store.startswith("sqlite"):
            folder = self._embedded(settings)
            target = Path(settings.event_store[len("sqlite:///") :])
            shutil.copytree(folder / "kim-data", target)
            shutil.copy(folder / "kek.json", str(settings.key_file))
            return settings
        template = self._database(settings)
        name = f"kimt_{unique}"
        with psycopg.connect(self.pg_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(template)
                )
            )
        self.clones.add(name)
        shutil.copy(self.base / "production" / "kek.json", str(settings.key_file))
        return settings.model_copy(
            update={"event_store": database_dsn(self.pg_dsn, name), "pg_schema": SCHEMA}
        )

    def drop_copy(self, settings: Settings) -> None:
        name = urlparse(settings.event_store).path.lstrip("/")
        if name in self.clones:
            self._drop(name)
            self.clones.discard(name)

    def close(self) -> None:
        for name in [*self.clones, *([self.database] if self.database else [])]:
            self._drop(name)
        self.clones.clear()
        self.database = None

    def _drop(self, name: str) -> None:
        with psycopg.connect(self.pg_dsn, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
