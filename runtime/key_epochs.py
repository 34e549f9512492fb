"""Rotating key epochs: re-wrap every subject key under a new epoch, destroy the old one.

An erasure deletes the person's key row; copies of that row stay in old table pages, in
the write-ahead log and in backups, wrapped under the epoch of the time. The rotation that
destroys that epoch's key-encryption key makes them useless (ADR 0006). It runs

- at once: ``kim keys rotate``, ``kim erase --now``, the erasure endpoint with ``now``;
- in a batch: ``kim serve`` checks every ``KIM_KEY_CHECK_INTERVAL`` seconds and rotates
  when the oldest pending erasure would otherwise pass ``KIM_ERASURE_ROTATION_HOURS``.

Steps, each safe to repeat after a crash (rows carry their epoch):

1. a new epoch key is added to the key file (the old ones stay);
2. the store's floor is raised to it: no key below it can be stored any more;
3. every key below the floor is unwrapped and re-wrapped under the new epoch, in batches;
4. the key file is rewritten with the new epoch's key alone (the old ones are destroyed);
5. the pending erasures of the destroyed epochs are cleared.

A key file that still holds older epochs means an interrupted rotation: the next rotation
finishes it (steps 2-5) first.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.keys import KeyState, RotationBusy, StoredKey
from runtime.keyring import (
    LEGACY_EPOCH,
    EphemeralKeys,
    KeyEncryptionKeys,
    KeyFile,
    KeyFileProblem,
    MissingKeys,
)
from runtime.settings import Settings

log = logging.getLogger(__name__)
BATCH = 1000
"""Keys re-wrapped per transaction."""

__all__ = [
    "KeyFileProblem",
    "Rotation",
    "RotationBusy",
    "default_key_file",
    "finish_erasures",
    "open_keys",
    "rotate",
    "rotation_due",
]


class Progress(Protocol):
    def start(self, epoch: int, total: int) -> None:
        """Re-wrapping ``total`` keys under ``epoch`` begins."""
        ...

    def advance(self, count: int) -> None: ...


@dataclass(frozen=True)
class Rotation:
    epoch: int
    """The current epoch afterwards."""
    destroyed: list[int]
    """Epochs whose key-encryption key was destroyed."""
    rewrapped: int
    erasures: int
    """Pending erasures made final."""
    seconds: float


# -- which key file ---------------------------------------------------------------------
def default_key_file(store_path: Path) -> Path:
    """The embedded default: ``./kim-keys/kim-data.kek.json`` beside ``./kim-data`` (never
    inside the store's files, so a copy of the data is no copy of the keys)."""
    return store_path.parent / "kim-keys" / f"{store_path.name}.kek.json"


def _sqlite_path(url: str) -> Path | None:
    if urlparse(url).scheme != "sqlite":
        return None
    raw = unquote(url[len("sqlite://") :])
    return Path(raw[1:] if raw.startswith("/") else raw)


def key_file_of(settings: Settings, store: EventLogStore | None = None) -> tuple[Path | None, bool]:
    """The key file to use and whether it may be created if missing (embedded default)."""
    if settings.key_file is not None:
        return Path(settings.key_file), False
    path = getattr(store, "path", None) if store is not None else _sqlite_path(settings.event_store)
    if store is not None and store.kind != "sqlite":
        path = None
    if isinstance(path, Path):
        return default_key_file(path), True
    return None, False


def open_keys(settings: Settings, store: EventLogStore | None = None) -> KeyEncryptionKeys:
    """The configured key-encryption keys: ``KIM_KEY_FILE``; for the embedded store without
    it a key file beside the data (made on first use); for a store in memory keys in
    memory; for PostgreSQL without it keys that refuse every use (``KeyFileProblem``)."""
    path, create = key_file_of(settings, store)
    if path is not None:
        return KeyFile(path, create=create)
    if store is not None and store.kind == "memory":
        return EphemeralKeys()
    return MissingKeys()


def check_keys(settings: Settings) -> str | None:
    """Before ``kim serve``: raise ``KeyFileProblem`` (German) if the keys are unusable; a
    warning (German) when the embedded default key file was just created."""
    path, create = key_file_of(settings)
    created = create and path is not None and not path.exists()
    keys = open_keys(settings)
    if isinstance(keys, (KeyFile, MissingKeys)):
        keys.check()
    if created:
        return (
            f"Schlüsseldatei {path} neu angelegt (eingebetteter Betrieb). Sie gehört nicht in"
            " die Datensicherung der Daten, muss aber selbst gesichert werden: ohne sie sind"
            " die personenbezogenen Daten nicht lesbar. Für den Betrieb: `kim keys init"
            " --file ...` und KIM_KEY_FILE."
        )
    return None


# -- rotating --------------------------------------------------------------------------
def rotate(
    store: EventLogStore,
    keys: KeyEncryptionKeys,
    *,
    progress: Progress | None = None,
    only_if_pending: bool = False,
    wait: float = 0.0,
    batch: int = BATCH,
) -> Rotation | None:
    """Finish an interrupted rotation, then begin and finish a new epoch (unless
    ``only_if_pending`` and no erasure is pending any more). None: nothing to do.
    ``RotationBusy`` when another rotation holds the store's lock beyond ``wait`` seconds."""
    started = time.perf_counter()
    with store.key_rotation_lock(wait):
        kek_id = keys.kek_id
        bound = store.bind_key_file(kek_id)
        if bound != kek_id:
            raise KeyFileProblem(
                f"Die Schlüsseldatei (ID {kek_id}) gehört nicht zu diesem Ereignisspeicher"
                f" (er erwartet ID {bound}); keine Rotation."
            )
        destroyed: list[int] = []
        rewrapped = erasures = 0
        interrupted = len(keys.epochs()) > 1
        if interrupted:
            n, gone, cleared = _finish(store, keys, progress, batch)
            rewrapped, destroyed, erasures = rewrapped + n, destroyed + gone, erasures + cleared
        state = store.key_state()
        wanted = state.pending > 0 if (only_if_pending or interrupted) else True
        if wanted:
            keys.begin_epoch(at_least=state.floor + 1)
            n, gone, cleared = _finish(store, keys, progress, batch)
            rewrapped, destroyed, erasures = rewrapped + n, destroyed + gone, erasures + cleared
        if not (interrupted or wanted):
            return None
    rotation = Rotation(
        keys.epochs()[-1], destroyed, rewrapped, erasures, time.perf_counter() - started
    )
    log.info(
        "key epoch %s: %s keys re-wrapped, epochs %s destroyed, %s erasures final (%.2f s)",
        rotation.epoch, rotation.rewrapped, rotation.destroyed, rotation.erasures,
        rotation.seconds,
    )  # fmt: skip
    return rotation


def _finish(
    store: EventLogStore, keys: KeyEncryptionKeys, progress: Progress | None, batch: int
) -> tuple[int, list[int], int]:
    """Steps 2-5 towards the key file's current epoch."""
    target = keys.epochs()[-1]
    store.raise_key_floor(target)
    total = store.key_state().below_floor
    if progress is not None:
        progress.start(target, total)
    done = 0
    for _ in range(3):  # keys that moved meanwhile (erased, stored anew) are read again
        for tenant in store.key_tenants(target):
            after = None
            while rows := store.keys_below(tenant, target, after=after, limit=batch):
                changes = [(row, _rewrapped(keys, row, target)) for row in rows]
                done += store.rewrap_keys(tenant, changes)
                after = rows[-1].key_id
                if progress is not None:
                    progress.advance(len(rows))
        if not store.key_tenants(target):
            break
    else:
        raise KeyFileProblem(f"Rotation unvollständig: Schlüssel unter Epochen vor {target}.")
    destroyed = keys.retire_epochs()
    cleared = store.clear_erasures(max(destroyed, default=LEGACY_EPOCH))
    return done, destroyed, cleared


def _rewrapped(keys: KeyEncryptionKeys, row: StoredKey, target: int) -> StoredKey:
    raw = (
        row.key
        if row.epoch == LEGACY_EPOCH
        else keys.unwrap(row.tenant, row.key_id, row.epoch, row.key)
    )
    epoch, wrapped = keys.wrap(row.tenant, row.key_id, raw)
    if epoch != target:
        raise KeyFileProblem(
            f"Die Schlüsseldatei wurde während der Rotation geändert (Epoche {epoch} statt"
            f" {target}); bitte `kim keys rotate` erneut ausführen."
        )
    return StoredKey(row.tenant, row.key_id, epoch, wrapped)


def rotation_due(
    state: KeyState,
    keys_epochs: list[int],
    *,
    hours: float,
    interval: float,
    now: datetime | None = None,
) -> str | None:
    """Why a batch rotation is due now (English, for the log), or None.

    Due when an interrupted rotation is left, when keys are stored raw (from before key
    epochs) or below the floor, or when the oldest pending erasure would pass the deadline
    before the next check."""
    if len(keys_epochs) > 1:
        return "an interrupted rotation"
    if state.below_floor or state.legacy:
        return "keys below the current epoch or stored raw"
    if state.oldest_pending is not None:
        moment = now or datetime.now(UTC)
        deadline = state.oldest_pending + timedelta(hours=hours)
        if moment + timedelta(seconds=interval) >= deadline:
            return f"{state.pending} pending erasures, the oldest from {state.oldest_pending}"
    return None


def finish_erasures(
    store: EventLogStore, keys: KeyEncryptionKeys, *, wait: float = 60.0
) -> Rotation | None:
    """Make the pending erasures final at once (``now``): a rotation if any is pending,
    waiting up to ``wait`` seconds for one under way elsewhere."""
    return rotate(store, keys, only_if_pending=True, wait=wait)


class EpochWatch:
    """The batch: a thread of ``kim serve`` that checks every ``interval`` seconds (first
    after ``first`` seconds) and rotates when ``rotation_due``; a rotation already running
    elsewhere is left to finish."""

    def __init__(
        self,
        store: EventLogStore,
        keys: Callable[[], KeyEncryptionKeys],
        *,
        hours: float,
        interval: float,
        first: float = 10.0,
    ) -> None:
        self.store, self.keys = store, keys
        self.hours, self.interval, self.first = hours, interval, first
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="kim-key-epochs", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def check(self) -> Rotation | None:
        keys = self.keys()
        state = self.store.key_state()
        if not (state.pending or state.keys):
            return None  # nothing wrapped, nothing erased: the key file is not even read
        why = rotation_due(state, keys.epochs(), hours=self.hours, interval=self.interval)
        if why is None:
            return None
        log.info("rotating the key epochs: %s", why)
        try:
            return rotate(self.store, keys)
        except RotationBusy:
            return None

    def _run(self) -> None:
        wait = self.first
        while not self._stop.wait(wait):
            wait = self.interval
            try:
                self.check()
            except Exception:
                log.exception("the check of the key epochs failed")
