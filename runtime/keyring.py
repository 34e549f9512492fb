"""Key-encryption keys in epochs: the port, the key file (default) and a key set in memory.

Every data subject's key is stored wrapped (AES-256-GCM) under the key-encryption key of
an epoch; that key lives outside the event store. A rotation begins a new epoch, re-wraps
every remaining subject key under it and destroys the old epoch's key, so wrapped keys
left in old table pages, write-ahead logs and backups can no longer be unwrapped (ADR 0006).

The key file (``KIM_KEY_FILE``, created by ``kim keys init``) is JSON, mode 0600, written
atomically (temporary file, fsync, rename)::

    {"format": "kim-kek/1", "id": "<uuid>", "current": 3, "keys": {"3": "<base64>"}}

While a rotation runs it holds the previous epoch's key too; the rotation removes it last.
Messages of ``KeyFileProblem`` are for operators, in German.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import stat
import tempfile
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = "kim-kek/1"
LEGACY_EPOCH = 0
"""The epoch of subject keys stored before key epochs: raw, not wrapped (a rotation wraps them)."""
NONCE = 12

log = logging.getLogger(__name__)


class KeyFileProblem(RuntimeError):
    """The key-encryption keys cannot be used (missing, unreadable, not this store's)."""


class UnknownKeyEpoch(KeyFileProblem):
    """A subject key is wrapped under an epoch whose key is not (or no longer) held."""


class KeyEncryptionKeys(Protocol):
    """The port to the key-encryption keys; a KMS adapter would implement the same five
    operations (wrap and unwrap never hand the epoch key out)."""

    @property
    def kek_id(self) -> str:
        """Names the key set; the store records it and refuses another (a wrong mount)."""
        ...

    def epochs(self) -> list[int]:
        """The epochs held, oldest first; the last one is current. More than one: a rotation
        has begun and not finished."""
        ...

    def wrap(self, tenant: str, key_id: UUID, key: bytes) -> tuple[int, bytes]:
        """``key`` wrapped under the current epoch: (epoch, wrapped)."""
        ...

    def unwrap(self, tenant: str, key_id: UUID, epoch: int, wrapped: bytes) -> bytes:
        """The subject key; ``UnknownKeyEpoch`` when that epoch's key is gone."""
        ...

    def begin_epoch(self, at_least: int = 0) -> int:
        """Add a new current epoch (above the others and ``at_least``), keeping the others
        until ``retire_epochs``; durable before it returns."""
        ...

    def retire_epochs(self) -> list[int]:
        """Destroy every epoch's key but the current one; the epochs destroyed."""
        ...


def aad(tenant: str, key_id: UUID, epoch: int) -> bytes:
    """Binds a wrapped key to its tenant, subject and epoch: copied elsewhere it does not open."""
    return f"kim-subject-key:{tenant}:{key_id}:{epoch}".encode()


@dataclass
class KeySet:
    """Epoch keys in memory; the key file's content."""

    kek_id: str
    current: int
    keys: dict[int, bytes]
    rotated_at: str | None = None
    ciphers: dict[int, AESGCM] = field(default_factory=dict, repr=False)

    @classmethod
    def new(cls) -> KeySet:
        return cls(kek_id=str(uuid.uuid4()), current=1, keys={1: secrets.token_bytes(32)})

    def cipher(self, epoch: int) -> AESGCM | None:
        found = self.ciphers.get(epoch)
        if found is None and epoch in self.keys:
            found = self.ciphers[epoch] = AESGCM(self.keys[epoch])
        return found

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.kek_id,
            "current": self.current,
            "keys": {
                str(e): base64.b64encode(k).decode("ascii") for e, k in sorted(self.keys.items())
            },
            "rotated_at": self.rotated_at,
        }

    @classmethod
    def of_json(cls, data: Mapping[str, Any], where: str) -> KeySet:
        try:
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}")
            keys = {int(e): base64.b64decode(k, validate=True) for e, k in data["keys"].items()}
            current = int(data["current"])
            if current not in keys or any(len(k) != 32 for k in keys.values()):
                raise ValueError("current epoch without a 256-bit key")
            return cls(str(data["id"]), current, keys, data.get("rotated_at"))
        except (KeyError, TypeError, ValueError) as e:
            raise KeyFileProblem(f"Schlüsseldatei {where} ist beschädigt ({e}).") from None


class _EpochKeys:
    """Wrapping over a ``KeySet``; subclasses say where the set comes from and goes to."""

    def _keys(self) -> KeySet:
        raise NotImplementedError

    def _save(self, keys: KeySet) -> None:
        raise NotImplementedError

    def _reload(self) -> KeySet:
        return self._keys()

    @property
    def kek_id(self) -> str:
        return self._keys().kek_id

    def epochs(self) -> list[int]:
        return sorted(self._keys().keys)

    def wrap(self, tenant: str, key_id: UUID, key: bytes) -> tuple[int, bytes]:
        keys = self._keys()
        cipher = keys.cipher(keys.current)
        assert cipher is not None
        nonce = secrets.token_bytes(NONCE)
        return keys.current, nonce + cipher.encrypt(nonce, key, aad(tenant, key_id, keys.current))

    def unwrap(self, tenant: str, key_id: UUID, epoch: int, wrapped: bytes) -> bytes:
        keys = self._keys()
        cipher = keys.cipher(epoch)
        if cipher is None:  # another process may have begun an epoch since the last read
            keys = self._reload()
            cipher = keys.cipher(epoch)
        if cipher is None:
            raise UnknownKeyEpoch(
                f"Der Schlüssel der Epoche {epoch} fehlt in der Schlüsseldatei (vorhanden:"
                f" {', '.join(map(str, sorted(keys.keys)))})."
            )
        try:
            return cipher.decrypt(wrapped[:NONCE], wrapped[NONCE:], aad(tenant, key_id, epoch))
        except InvalidTag:
            raise KeyFileProblem(
                f"Ein Personenschlüssel ({tenant}) lässt sich mit der Epoche {epoch} der"
                " Schlüsseldatei nicht entschlüsseln: falsche Schlüsseldatei?"
            ) from None

    def begin_epoch(self, at_least: int = 0) -> int:
        keys = self._reload()
        epoch = max(max(keys.keys) + 1, at_least)
        fresh = dict(keys.keys)
        fresh[epoch] = secrets.token_bytes(32)
        self._save(KeySet(keys.kek_id, epoch, fresh, keys.rotated_at))
        return epoch

    def retire_epochs(self) -> list[int]:
        keys = self._reload()
        old = sorted(e for e in keys.keys if e != keys.current)
        if old:
            now = datetime.now(UTC).isoformat(timespec="seconds")
            self._save(
                KeySet(keys.kek_id, keys.current, {keys.current: keys.keys[keys.current]}, now)
            )
        return old


class EphemeralKeys(_EpochKeys):
    """Epoch keys in this process only (tests, benchmarks, the in-memory store): nothing
    survives the process, so neither does any personal data sealed under them."""

    def __init__(self) -> None:
        self._set = KeySet.new()
        self._lock = threading.Lock()

    def _keys(self) -> KeySet:
        return self._set

    def _save(self, keys: KeySet) -> None:
        with self._lock:
            self._set = keys


class KeyFile(_EpochKeys):
    """The key file: read when it changes on disk (another process rotated), written
    atomically. ``create``: make a new one on first use if it is missing (the embedded
    default beside ``./kim-data``), with a warning."""

    def __init__(self, path: str | Path, *, create: bool = False) -> None:
        self.path = Path(path)
        self.create = create
        self._lock = threading.RLock()
        self._stamp: tuple[int, int, int, int] | None = None
        self._set: KeySet | None = None

    def _stat(self) -> os.stat_result:
        try:
            return os.stat(self.path)
        except FileNotFoundError:
            if not self.create:
                raise KeyFileProblem(
                    f"Die Schlüsseldatei {self.path} (KIM_KEY_FILE) fehlt. Legen Sie sie einmal"
                    f" mit `kim keys init` an oder binden Sie die vorhandene ein; ohne sie sind"
                    " die personenbezogenen Daten nicht lesbar."
                ) from None
            try:
                create_key_file(self.path)
                log.warning("created the key file %s (embedded default)", self.path)
            except FileExistsError:  # another process made it first
                pass
            return os.stat(self.path)

    def _keys(self) -> KeySet:
        with self._lock:
            st = self._stat()
            stamp = (st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size)
            if self._set is None or stamp != self._stamp:
                if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                    log.warning(
                        "the key file %s is readable by others (mode %o)",
                        self.path,
                        st.st_mode & 0o777,
                    )
                try:
                    data = json.loads(self.path.read_text(encoding="utf-8"))
                except (OSError, ValueError) as e:
                    raise KeyFileProblem(f"Schlüsseldatei {self.path} nicht lesbar: {e}") from None
                self._set, self._stamp = KeySet.of_json(data, str(self.path)), stamp
            return self._set

    def _save(self, keys: KeySet) -> None:
        with self._lock:
            write_key_file(self.path, keys)
            self._set, self._stamp = None, None

    def check(self) -> None:
        self._keys()


class MissingKeys(_EpochKeys):
    """No key file configured where one is required (PostgreSQL): every use refuses."""

    def _keys(self) -> KeySet:
        raise KeyFileProblem(
            "KIM_KEY_FILE ist nicht gesetzt. Mit PostgreSQL braucht KIM eine Schlüsseldatei"
            " außerhalb der Datenbank: einmal `kim keys init --file /pfad/kek.json` ausführen,"
            " die Datei als Geheimnis einbinden (nicht in die Datensicherung der Datenbank)"
            " und KIM_KEY_FILE darauf setzen."
        )

    def check(self) -> None:
        self._keys()


def write_key_file(path: Path, keys: KeySet, *, exclusive: bool = False) -> None:
    """Replace the key file atomically (mode 0600); the old file's bytes are overwritten
    after the rename (best effort: file systems may keep copies, see ADR 0006).
    ``exclusive``: create it, ``FileExistsError`` if there is one (no race overwrites it)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    payload = (json.dumps(keys.to_json(), indent=2) + "\n").encode()
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
    if exclusive:
        try:
            os.link(temp, path)
        finally:
            os.unlink(temp)
        _fsync_dir(path.parent)
        return
    old: int | None = None
    with contextlib.suppress(FileNotFoundError):
        old = os.open(path, os.O_RDWR)
    try:
        os.replace(temp, path)
        _fsync_dir(path.parent)
        if old is not None:
            size = os.fstat(old).st_size
            os.pwrite(old, b"\0" * size, 0)
            os.fsync(old)
    finally:
        if old is not None:
            os.close(old)
        if os.path.exists(temp):
            os.unlink(temp)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_key_file(path: str | Path) -> Path:
    """A new key file with epoch 1; refuses to overwrite one (``FileExistsError``)."""
    target = Path(path)
    write_key_file(target, KeySet.new(), exclusive=True)
    return target
