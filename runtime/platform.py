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
from runtime.bus.catch_up import CatchUp
from runtime.bus.consumer import TrackedConsumer
from runtime.bus.lag import LagMonitor, lag_gauges
from runtime.bus.memory import InMemoryBus
from runtime.bus.relay import LogRelay
from runtime.eventstore import PLATFORM_TENANT, DbTimeouts, EventLogStore, open_store
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
        return PostgresReadStore(
            store.dsn, store.schema, timeouts=store.timeouts, ready=store.ready
        )
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
            timeouts=DbTimeouts.of(settings),
        )
        self.bus = bus or open_bus(
            settings.bus,
            stream=settings.nats_stream,
            replicas=settings.nats_replicas,
            ack_timeout=settings.bus_ack_timeout,
            request_timeout=settings.bus_request_timeout,
        )
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
        self._relay_running = False
        # Readiness and the lag gauges: how far relay and consumers are behind the heads.
        self.lag = LagMonitor(
            self.store,
            prefix=self.bus.prefix,
            relay=lambda: self.relay if self._relay_running else None,
            consumers=lambda: list(self._consumers),
            max_lag=settings.ready_max_lag,
            stall_seconds=settings.ready_stall_seconds,
        )
        # A consumer behind a head with nothing arriving reads the rest from the log, well
        # before readiness would call it stalled (``runtime.bus.catch_up``).
        stall = settings.ready_stall_seconds
        self.catch_up = CatchUp(
            self.lag,
            lambda: list(self._consumers),
            idle=max(0.5, min(5.0, stall / 3)) if stall else 5.0,
            interval=max(0.2, min(2.0, stall / 6)) if stall else 2.0,
        )
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
        """Returns at once, whatever the bus does: the bus connects in the background (with
        retries), the relay publishes once it is there, and the consumers subscribe once it
        is there (and again after the bus lost them). Readiness says when all is up."""
        await self.bus.start()
        if relay:
            await self.relay.start()
            self._relay_running = True
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
        lag_gauges().add(self.lag)
        if self._consumers:
            self.catch_up.start()
        self.started = True

    def _refresh_directory(self, record: LogRecord) -> None:
        self._directory = self.tenancy.directory()

    async def stop(self) -> None:
        """Stop consumers, relay and bus within ``KIM_STOP_TIMEOUT`` seconds in all.

        Consumers finish the message in hand, the relay its batch and saves its positions;
        a step that does not finish in its share of the time is abandoned (what it had not
        acknowledged is delivered or published again after the restart).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.stop_timeout
        lag_gauges().discard(self.lag)
        subscriptions, self._subscriptions = self._subscriptions, []
        relay_running, self._relay_running = self._relay_running, False

        async def consumers() -> None:
            await asyncio.gather(*(sub.stop() for sub in subscriptions), return_exceptions=True)
            for consumer in self._consumers:
                if consumer.flush is None:
                    continue
                try:
                    await asyncio.to_thread(consumer.flush)
                except Exception as e:  # a store that is down: the tail is repeated later
                    log.warning("shutdown: saving %s's positions failed (%s)", consumer.name, e)

        async def relay() -> None:
            if relay_running:
                await self.relay.stop(timeout=max(0.1, (deadline - loop.time()) * 0.8))

        steps = [
            ("catch-up", self.catch_up.stop()),
            ("consumers", consumers()),
            ("relay", relay()),
            ("bus", self.bus.close()),
            ("key watch", asyncio.to_thread(self.key_watch.stop)),
        ]
        for name, step in steps:
            try:
                async with asyncio.timeout(max(0.1, deadline - loop.time())):
                    await step
            except TimeoutError:
                log.warning("shutdown: %s did not stop in time; abandoned", name)
            except Exception:
                log.exception("shutdown: stopping %s failed", name)
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
        checks["bus"] = "ok" if self.bus.ready else f"unavailable: {self.bus.problem}".rstrip(": ")
        checks.update(await self._lag_checks(store_ok=checks["event_store"] == "ok"))
        return checks

    async def _lag_checks(self, *, store_ok: bool) -> dict[str, str]:
        """``relay`` and ``consumer:<name>``: behind or stalled (``runtime.bus.lag``)."""
        names = ["relay"] if self._relay_running else []
        names += [f"consumer:{c.name}" for c in self._consumers]
        if not names or not self.started:
            return {}
        if not store_ok:
            return {}  # no heads to compare with; the event store's check says why
        try:
            checks = self.lag.checks(await asyncio.to_thread(self.lag.lags), names)
        except Exception as e:
            return {name: f"unknown: {type(e).__name__}" for name in names}
        if self._relay_running and self.relay.outage.failing and checks["relay"] == "ok":
            checks["relay"] = f"failing: {self.relay.outage.error}"
        return checks
