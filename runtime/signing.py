"""Signed checkpoints of the hash chain: an Ed25519 key outside the database (ADR 0003).

The service signs each log's head (tenant, context, position, hash, the head event's
``recorded_at`` and the time of signing) with a key kept in a file of its own
(``KIM_SIGNING_KEY_FILE``; embedded default ``./kim-keys/<store>.signing.json`` beside the
data, made on first use; with PostgreSQL it must be named, else nothing is signed and
``kim serve`` warns). Whoever can rewrite the database cannot sign: checkpoints exported
with the public key (``kim audit checkpoint --export``) let an auditor check a live store
against heads they hold (``kim audit verify --against``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

if TYPE_CHECKING:
    from runtime.eventstore.base import EventLogStore
    from runtime.settings import Settings

STATEMENT = "kim-checkpoint-v1"


class SigningKeyProblem(Exception):
    """The signing key file is missing or unusable (German message)."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def public_key_text(key: Ed25519PublicKey) -> str:
    return _b64(key.public_bytes(Encoding.Raw, PublicFormat.Raw))


def key_id_of(public: str) -> str:
    return hashlib.sha256(base64.b64decode(public)).hexdigest()[:16]


@dataclass(frozen=True)
class SignedHead:
    """One signed checkpoint: a log's head as the service saw it."""

    tenant: str
    context: str
    position: int
    hash: bytes
    recorded_at: str
    signed_at: str
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return signed_message(
            self.tenant, self.context, self.position, self.hash, self.recorded_at, self.signed_at
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "checkpoint",
            "tenant": self.tenant,
            "context": self.context,
            "position": self.position,
            "hash": self.hash.hex(),
            "recorded_at": self.recorded_at,
            "signed_at": self.signed_at,
            "key_id": self.key_id,
            "signature": _b64(self.signature),
        }

    def line(self) -> str:
        return json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> SignedHead:
        return cls(
            tenant=str(data["tenant"]),
            context=str(data["context"]),
            position=int(data["position"]),
            hash=bytes.fromhex(str(data["hash"])),
            recorded_at=str(data["recorded_at"]),
            signed_at=str(data["signed_at"]),
            key_id=str(data["key_id"]),
            signature=base64.b64decode(str(data["signature"])),
        )

    @classmethod
    def of_line(cls, line: str) -> SignedHead:
        return cls.of_json(json.loads(line))

    def valid_under(self, public: Ed25519PublicKey) -> bool:
        try:
            public.verify(self.signature, self.message())
        except InvalidSignature:
            return False
        return True


def signed_message(
    tenant: str, context: str, position: int, hash_: bytes, recorded_at: str, signed_at: str
) -> bytes:
    """What is signed: the fields joined by 0x1f after the statement's name."""
    return b"\x1f".join(
        part.encode()
        for part in (STATEMENT, tenant, context, str(position), hash_.hex(), recorded_at, signed_at)
    )


class Signer:
    """Signs heads with the private key of a signing key file."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key = public_key_text(private.public_key())
        self.key_id = key_id_of(self.public_key)

    def sign(
        self, tenant: str, context: str, position: int, hash_: bytes, recorded_at: str
    ) -> SignedHead:
        signed_at = datetime.now(UTC).isoformat(timespec="microseconds")
        message = signed_message(tenant, context, position, hash_, recorded_at, signed_at)
        return SignedHead(
            tenant, context, position, hash_, recorded_at, signed_at, self.key_id,
            self._private.sign(message),
        )  # fmt: skip


def default_signing_key_file(store_path: Path) -> Path:
    """The embedded default, beside the key-encryption key file (never inside the data)."""
    return store_path.parent / "kim-keys" / f"{store_path.name}.signing.json"


def create_signing_key(path: str | Path) -> Path:
    """A new key file (mode 0600, written atomically); refuses to overwrite one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private = Ed25519PrivateKey.generate()
    from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    public = public_key_text(private.public_key())
    payload = {
        "kind": "kim-signing-key",
        "algorithm": "Ed25519",
        "key_id": key_id_of(public),
        "public_key": public,
        "private_key": _b64(raw),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (json.dumps(payload, indent=2) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(temp, target)  # exclusive: a race never overwrites a key
    finally:
        os.unlink(temp)
    return target


def load_signer(path: str | Path, *, create: bool = False) -> Signer:
    target = Path(path)
    if create and not target.exists():
        with contextlib.suppress(FileExistsError):  # another process was first
            create_signing_key(target)
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
        private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(data["private_key"]))
    except FileNotFoundError as e:
        raise SigningKeyProblem(
            f"Signaturschlüssel {target} fehlt (kim audit checkpoint --init-key)."
        ) from e
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise SigningKeyProblem(f"Signaturschlüssel {target} ist unbrauchbar: {e}") from e
    return Signer(private)


def public_key_of(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text))


def export_lines(signer_public: str, heads: list[SignedHead]) -> str:
    """JSON Lines: first the public key, then every signed checkpoint."""
    first = {
        "kind": "kim-checkpoints",
        "algorithm": "Ed25519",
        "public_key": signer_public,
        "key_id": key_id_of(signer_public),
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    lines = [json.dumps(first, sort_keys=True, separators=(",", ":"))]
    lines += [h.line() for h in heads]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AuditorFile:
    """Checkpoints an auditor holds: the public key in the file and what it signed."""

    public_keys: dict[str, Ed25519PublicKey]
    heads: list[SignedHead]
    unsigned: list[SignedHead]  # lines whose signature does not verify under the file's key


def read_auditor_file(text: str) -> AuditorFile:
    """Parse an export (several exports concatenated are fine); signatures are checked
    with the public keys of the file only, never with anything from the store."""
    keys: dict[str, Ed25519PublicKey] = {}
    heads: list[SignedHead] = []
    bad: list[SignedHead] = []
    for raw in text.splitlines():
        if not raw.strip():
            continue
        data = json.loads(raw)
        if data.get("kind") == "kim-checkpoints":
            keys[key_id_of(str(data["public_key"]))] = public_key_of(str(data["public_key"]))
            continue
        head = SignedHead.of_json(data)
        key = keys.get(head.key_id)
        (heads if key is not None and head.valid_under(key) else bad).append(head)
    return AuditorFile(keys, heads, bad)


def signing_key_of(
    settings: Settings, store: EventLogStore | None = None
) -> tuple[Path | None, bool]:
    """The signing key file to use and whether it may be made (the embedded default)."""
    if settings.signing_key_file is not None:
        return Path(settings.signing_key_file), False
    path = getattr(store, "path", None) if store is not None else None
    if store is not None and store.kind == "sqlite" and isinstance(path, Path):
        return default_signing_key_file(path), True
    if store is None:
        from runtime.key_epochs import _sqlite_path

        found = _sqlite_path(settings.event_store)
        if found is not None:
            return default_signing_key_file(found), True
    return None, False


def open_signer(settings: Settings, store: EventLogStore | None = None) -> Signer | None:
    """The configured signer; None (nothing signed) for PostgreSQL without
    ``KIM_SIGNING_KEY_FILE`` and for the store in memory."""
    path, create = signing_key_of(settings, store)
    if path is None:
        return None
    return load_signer(path, create=create)


def check_signing(settings: Settings) -> str | None:
    """Before ``kim serve``: raise ``SigningKeyProblem`` (German) if a configured key is
    unusable; a warning (German) without a key on PostgreSQL or when the embedded default
    was just made."""
    path, create = signing_key_of(settings)
    if path is None:
        return (
            "Prüfpunkte werden nicht signiert: KIM_SIGNING_KEY_FILE fehlt. Ohne Signatur kann"
            " ein Prüfer den Datenbestand nicht gegen seine Prüfpunkte prüfen"
            " (kim audit checkpoint --init-key, ADR 0003)."
        )
    created = create and not path.exists()
    load_signer(path, create=create)
    if created:
        return (
            f"Signaturschlüssel {path} neu angelegt (eingebetteter Betrieb); er gehört nicht in"
            " die Datensicherung der Daten."
        )
    return None
