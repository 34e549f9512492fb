"""Fixtures: every suite runs on both stacks.

``embedded``: SQLite (one file per tenant) + in-process bus.
``production``: PostgreSQL (row-level security) + NATS JetStream.

Under ``CI=true`` a missing PostgreSQL or NATS fails the run; elsewhere those tests skip
with the reason.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.bus import Bus
from runtime.bus.memory import InMemoryBus
from runtime.bus.nats import NatsBus
from runtime.eventstore.base import EventLogStore
from runtime.eventstore.memory import MemoryEventLogStore
from runtime.eventstore.postgres import PostgresEventLogStore
from runtime.eventstore.sqlite import SqliteEventLogStore
from runtime.http.auth import mint_token
from runtime.keyring import KeyFile, create_key_file
from runtime.platform import Platform
from runtime.settings import Settings
from runtime.telemetry import add_exporter, setup_tracing
from tests.demo_snapshot import SCHEMA as DEMO_SCHEMA
from tests.demo_snapshot import DemoTemplates

PG_DSN = os.environ.get("KIM_TEST_PG_DSN", "postgresql://127.0.0.1:5432/test")
NATS_URL = os.environ.get("KIM_TEST_NATS_URL", "nats://127.0.0.1:4222")
IN_CI = os.environ.get("CI", "").lower() == "true"
# The suite drives each app from one TestClient address, far faster than a person: the edge's
# rate limits (runtime/http/limits.py) are generous here; tests/runtime/test_edge_*.py set
# low ones of their own.
for _name, _value in {
    "KIM_RATE_LIMIT": "100000/second",
    "KIM_ADDRESS_RATE_LIMIT": "100000/second",
    "KIM_AUTH_FAILURE_LIMIT": "100000/minute",
}.items():
    os.environ.setdefault(_name, _value)
TEST_SECRET = "kim-test-secret-0123456789abcdef0123456789"


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), 2
        ):
            return True
    except OSError:
        return False


def require(service: str, url: str, port: int) -> None:
    if _reachable(url, port):
        return
    message = f"{service} is not reachable at {url}"
    if IN_CI:
        pytest.fail(f"{message}; under CI=true it must be running")
    pytest.skip(f"{message}; start it to run the production-stack tests")


STACKS = ["embedded", "production"]
SPANS = InMemorySpanExporter()


@pytest.fixture(scope="session", autouse=True)
def tracing() -> None:
    setup_tracing("kim-test")
    add_exporter(SPANS)


@pytest.fixture
def spans() -> InMemorySpanExporter:
    SPANS.clear()
    return SPANS


@pytest.fixture(params=STACKS)
def stack(request: pytest.FixtureRequest) -> str:
    name = str(request.param)
    if name == "production":
        require("PostgreSQL", PG_DSN, 5432)
        require("NATS", NATS_URL, 4222)
    return name


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


def copies_demo(request: pytest.FixtureRequest) -> bool:
    """Does this test start from a copy of the demo (``tests/demo_snapshot``)? Every test
    using ``platform`` does, unless marked ``fresh_demo``."""
    return (
        "platform" in request.fixturenames and request.node.get_closest_marker("fresh_demo") is None
    )


@pytest.fixture(scope="session")
def demo_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoTemplates]:
    templates = DemoTemplates(tmp_path_factory.mktemp("demo-templates"), PG_DSN, load_template)
    yield templates
    templates.close()


@pytest.fixture
def settings(
    stack: str,
    tmp_path: Path,
    unique: str,
    request: pytest.FixtureRequest,
    demo_templates: DemoTemplates,
) -> Iterator[Settings]:
    """Each test's platform has its own key file (key-encryption keys, ADR 0006) and its own
    store: empty, or a copy of the demo for a test that uses ``platform``."""
    key_file = str(create_key_file(tmp_path / "kim-keys" / "kek.json"))
    if stack == "embedded":
        found = Settings(
            event_store=f"sqlite:///{tmp_path / 'kim-data'}",
            bus="memory",
            jwt_secret=TEST_SECRET,
            key_file=key_file,
        )
    else:
        found = Settings(
            event_store=PG_DSN,
            pg_schema=f"t_{unique}",
            pg_max_connections=10,
            bus=NATS_URL,
            nats_stream=f"KIMT_{unique}",
            jwt_secret=TEST_SECRET,
            key_file=key_file,
        )
    if not copies_demo(request):
        yield found
        return
    copied = demo_templates.copy(found, unique)
    yield copied
    demo_templates.drop_copy(copied)


def make_store(settings: Settings) -> EventLogStore:
    """The store of ``settings``, bound to their key file."""
    store: EventLogStore
    if settings.event_store.startswith("sqlite"):
        store = SqliteEventLogStore(Path(settings.event_store[len("sqlite:///") :]))
    else:
        store = PostgresEventLogStore(
            settings.event_store,
            schema=settings.pg_schema,
            max_connections=settings.pg_max_connections,
        )
    if settings.key_file:
        store.use_key_encryption_keys(KeyFile(settings.key_file))
    return store


def make_bus(settings: Settings, unique: str) -> Bus:
    if settings.bus == "memory":
        return InMemoryBus(prefix=f"kimt{unique}")
    return NatsBus(settings.bus, stream=settings.nats_stream, prefix=f"kimt{unique}")


async def delete_stream(settings: Settings) -> None:
    import nats

    nc = await nats.connect(settings.bus)
    try:
        await nc.jetstream().delete_stream(settings.nats_stream)
    except Exception:  # noqa: S110 - the stream may not exist when a test failed early
        pass
    finally:
        await nc.close()


@pytest.fixture
def store(settings: Settings) -> Iterator[EventLogStore]:
    s = make_store(settings)
    yield s
    if isinstance(s, PostgresEventLogStore) and settings.pg_schema != DEMO_SCHEMA:
        s.drop_schema()  # a copy of the demo is a database of its own, dropped whole
    s.close()


@pytest.fixture
def pg_store(unique: str) -> Iterator[PostgresEventLogStore]:
    """A PostgreSQL store on its own schema, for tests of PostgreSQL itself."""
    require("PostgreSQL", PG_DSN, 5432)
    s = PostgresEventLogStore(PG_DSN, schema=f"t_{unique}", max_connections=10)
    yield s
    s.drop_schema()
    s.close()


@pytest.fixture
def bus_factory(settings: Settings, unique: str) -> Iterator[Callable[[], Bus]]:
    """Unconnected buses; NATS streams are deleted after the test."""
    yield lambda: make_bus(settings, unique)
    if settings.bus != "memory":
        asyncio.run(delete_stream(settings))


@pytest.fixture
async def bus(bus_factory: Callable[[], Bus]) -> AsyncIterator[Bus]:
    b = bus_factory()
    await b.connect()
    yield b
    await b.close()


@pytest.fixture
def platform(
    settings: Settings,
    store: EventLogStore,
    bus_factory: Callable[[], Bus],
    request: pytest.FixtureRequest,
) -> Iterator[Platform]:
    """The demo's platform, not started: a copy of the demo (``tests/demo_snapshot``), or,
    for a test marked ``fresh_demo``, the demo loaded now (its events not yet relayed)."""
    p = Platform(settings, store=store, bus=bus_factory())
    if not copies_demo(request):
        load_demo(p)
    yield p
    p.close_read()


def load_template(settings: Settings, unique: str) -> None:
    """The demo into the store of ``settings``, every consumer level, the platform stopped."""
    store = make_store(settings)
    platform = Platform(settings, store=store, bus=make_bus(settings, unique))
    try:
        load_demo(platform)
        with TestClient(build_app(settings, platform=platform)):
            settle(platform)
    finally:
        platform.close_read()
        store.close()
        if settings.bus != "memory":
            asyncio.run(delete_stream(settings))


@pytest.fixture
def client(settings: Settings, platform: Platform) -> Iterator[TestClient]:
    app = build_app(settings, platform=platform)
    with TestClient(app, raise_server_exceptions=False) as c:
        settle(platform)
        yield c


def settle(platform: Platform, timeout: float = 60.0) -> None:
    """Wait until the consumers have applied the demo: its positions reached case management
    and every consumer (the read models' too) is level with every log it follows.

    Tests compare heads before and after a refused command, and read the read models
    without ``atPosition``; background consumers still catching up with the demo must not
    move them meanwhile, nor leave them behind. The bound is generous: the suite's other
    workers share the machine.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        types = {r.event_type for r in platform.store.read_log("rheine", "case_management")}
        if "KnownPositionSupervisionNoted" in types and not any(
            lag.behind for lag in platform.lag.lags()
        ):
            return
        time.sleep(0.02)
    behind = [lag for lag in platform.lag.lags() if lag.behind]
    raise AssertionError(f"the consumers did not apply the demo in time: {behind[:5]}")


@pytest.fixture
def token(settings: Settings) -> Callable[..., str]:
    def make(
        tenant: str,
        *roles: str,
        subject: str | None = None,
        position: uuid.UUID | None = None,
        mandate: list[str] | None = None,
    ) -> str:
        return mint_token(
            settings,
            tenant=tenant,
            roles=list(roles),
            subject=subject,
            position=position,
            mandate=mandate,
        )

    return make


@pytest.fixture
def auth(token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def make(
        tenant: str,
        *roles: str,
        position: uuid.UUID | None = None,
        mandate: list[str] | None = None,
    ) -> dict[str, str]:
        bearer = token(tenant, *roles, position=position, mandate=mandate)
        return {"Authorization": f"Bearer {bearer}"}

    return make


@pytest.fixture
def admin(auth: Callable[..., dict[str, str]]) -> dict[str, str]:
    """Headers of a platform administrator (of the state programme's tenant)."""
    return auth("nrw", "platform_admin")


@pytest.fixture
def memory_store() -> Iterator[MemoryEventLogStore]:
    """A fresh in-memory store (no files, no server) for domain and application tests."""
    s = MemoryEventLogStore()
    yield s
    s.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` first: the workers start them at once and share the rest."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
