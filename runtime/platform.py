"""The composition of one process: store, bus, relay, registry and context applications."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, TypeVar

from contexts.shared.application import TenantApplication
from contexts.tenancy.application import TenancyApplication
from contexts.tenancy.contracts import TenantDirectory, TenantInfo
from runtime.bus import Bus, BusSubscription, open_bus
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.memory import InMemoryBus
from runtime.bus.relay import LogRelay
from runtime.eventstore import PLATFORM_TENANT, EventLogStore, open_store
from runtime.eventstore.records import LogRecord
from runtime.http.problems import Problem
from runtime.key_epochs import EpochWatch, open_keys
from runtime.readstore import ReadStore
from runtime.readstore_postgres import PostgresReadStore
from runtime.readstore_sqlite import SqliteReadStore
from runtime.settings import Settings
from runtime.signing import open_signer
from runtime.vault import StoreVault


def open_read_store(store: EventLogStore) -> ReadStore:
    """Read models beside the events: a SQLite file next to the embedded store, or tables
    in the PostgreSQL store's schema."""
    from runtime.eventstore.postgres import PostgresEventLogStore
    from runtime.eventstore.sqlite import SqliteEventLogStore

    if isinstance(store, PostgresEventLogStore):
        return PostgresReadStore(store.dsn, store.schema)
    if isinstance(store, SqliteEventLogStore):
        if store.single_file:
            return SqliteReadStore(store.path.with_suffix(".read-models.db"))
        return SqliteReadStore(store.path / "read-models.db")
    return SqliteReadStore(":memory:")


log = logging.getLogger(__name__)
T = TypeVar("T", bound=TenantApplication)


class Platform:
    """Everything a service process shares; built once at start-up."""

    def __init__(
        self,
        settings: Settings,
        *,
        store: EventLogStore | None = None,
        bus: Bus | None = None,
        relay_contexts: list[str] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or open_store(
            settings.event_store,
            pg_schema=settings.pg_schema,
            pg_max_connections=settings.pg_max_connections,
        )
        self.bus = bus or open_bus(settings.bus, stream=settings.nats_stream)
        self._read: ReadStore | None = None
        self.projections: dict[str, Any] = {}  # name -> projection (the gateway's read side)
        self.tenancy = TenancyApplication(self.store.recorder)
        # Subject keys are wrapped under the key file's epochs (ADR 0006); the store keeps
        # them bound, so every vault on it (``StoreVault(store)``) uses the same keys.
        self.keys = open_keys(settings, self.store)
        self.store.use_key_encryption_keys(self.keys)
        self.vault = StoreVault(self.store, self.keys)
        self.key_watch = EpochWatch(
            self.store,
            lambda: self.keys,
            hours=settings.erasure_rotation_hours,
            interval=settings.key_check_interval,
        )
        self.relay = LogRelay(
            self.store,
            self.bus,
            contexts=relay_contexts,
            name="relay",
            poll_interval=settings.relay_poll_interval,
        )
        # Checkpoints signed with a key outside the database (ADR 0003).
        self.relay.signer = open_signer(settings, self.store)
        if self.relay.signer is None and self.store.kind == "postgresql":
            log.warning(
                "KIM_SIGNING_KEY_FILE is not set: checkpoints are not signed, an auditor"
                " cannot check the store against them (kim audit checkpoint --init-key)"
            )
        self._apps: dict[tuple[type[TenantApplication], str], TenantApplication] = {}
        self._apps_lock = threading.Lock()
        self._directory = TenantDirectory()
        self._subscriptions: list[BusSubscription] = []
        self._consumers: list[TrackedConsumer] = []
        self.started = False

    # -- applications ----------------------------------------------------------------------
    def app(self, cls: type[T], tenant: str, **deps: Any) -> T:
        """The application of ``cls``'s context bound to ``tenant`` (created once).

        ``deps`` are further constructor arguments (e.g. ``vault=platform.vault``).
        """
        key = (cls, tenant)
        with self._apps_lock:
            found = self._apps.get(key)
            if found is None:
                found = cls(tenant, self.store.recorder, **deps)
                self._apps[key] = found
        assert isinstance(found, cls)
        return found

    # -- tenants ---------------------------------------------------------------------------
    def directory(self, *, refresh: bool = False) -> TenantDirectory:
        if refresh or not self._directory.tenants:
            self._directory = self.tenancy.directory()
        return self._directory

    def tenant(self, key: str) -> TenantInfo:
        """The registered tenant, or a 404 problem naming the unknown key."""
        info = self.directory().get(key) or self.directory(refresh=True).get(key)
        if info is None:
            raise Problem(404, "unknown-tenant", f"tenant {key!r} is not registered", tenant=key)
        return info

    # -- lifecycle -------------------------------------------------------------------------
    def add_consumer(self, consumer: TrackedConsumer) -> None:
        """Subscribe ``consumer`` to the bus when the platform starts (durable, by name)."""
        if all(c.name != consumer.name for c in self._consumers):
            self._consumers.append(consumer)

    async def start(self, *, relay: bool = True) -> None:
        await self.bus.connect()
        if relay:
            await self.relay.start()
        for consumer in self._consumers:
            self._subscriptions.append(
                await self.bus.subscribe(consumer.name, consumer.subject, consumer)
            )
        # In one process, registry changes refresh the cached registry at once. Separate
        # processes refresh it on a lookup miss and on registry reads instead (a durable
        # NATS consumer per process would outlive the process).
        directory_consumer = TrackedConsumer(
            name=f"directory-{id(self)}",
            subject=f"{self.bus.prefix}.{PLATFORM_TENANT}.tenancy.>",
            process=self._refresh_directory,
            position=lambda t, c: self._directory.position,
            log_reader=lambda t, c, after, upto: self.store.read_log(t, c, after=after, upto=upto),
        )
        if isinstance(self.bus, InMemoryBus):
            self._subscriptions.append(
                await self.bus.subscribe(
                    directory_consumer.name, directory_consumer.subject, directory_consumer
                )
            )
        self.key_watch.start()  # the batch of erasures: a new key epoch when due
        self.started = True

    def _refresh_directory(self, record: LogRecord) -> None:
        self._directory = self.tenancy.directory()

    async def stop(self) -> None:
        """Stop consumers, relay and bus; a step that hangs is abandoned after 10 s."""
        steps = [*(sub.stop() for sub in self._subscriptions), self.relay.stop(), self.bus.close()]
        steps.append(asyncio.to_thread(self.key_watch.stop))
        self._subscriptions.clear()
        for step in steps:
            try:
                async with asyncio.timeout(10):
                    await step
            except TimeoutError:
                log.warning("shutdown step %s did not finish within 10 s", step)
        self.started = False

    @property
    def read(self) -> ReadStore:
        """The read models' store, opened on first use."""
        with self._apps_lock:
            if self._read is None:
                self._read = open_read_store(self.store)
            return self._read

    def use_read_store(self, read: ReadStore) -> None:
        """Build read models somewhere else (``kim replay --into``: as of a date)."""
        with self._apps_lock:
            self._read = read

    def close_read(self) -> None:
        with self._apps_lock:
            if self._read is not None:
                self._read.close()
                self._read = None

    def close(self) -> None:
        self.close_read()
        self.store.close()

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await asyncio.to_thread(self.store.ping)
            checks["event_store"] = "ok"
        except Exception as e:
            checks["event_store"] = f"unavailable: {type(e).__name__}"
        checks["bus"] = "ok" if self.bus.ready else "unavailable"
        return checks
