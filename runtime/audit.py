"""Verifying the hash chain of every log, and recording checkpoints of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.chain import Finding, LogCheck

BATCH = 2000


@dataclass
class Verification:
    logs: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def verify(
    store: EventLogStore,
    tenants: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Verification:
    """Walk every log (of ``tenants``), recompute the chain, compare heads and checkpoints."""
    result = Verification()
    heads = store.heads()
    recorded = store.recorded_heads()
    logs = sorted(set(heads) | set(recorded))
    for tenant, context in logs:
        if tenants is not None and tenant not in tenants:
            continue
        check = LogCheck(tenant, context)
        after = 0
        while True:
            records = store.read_log(tenant, context, after=after, limit=BATCH)
            if not records:
                break
            ok = check.feed(records)
            if progress is not None:
                progress(len(records))
            if not ok:
                break
            after = records[-1].position
        if check.finding is None:
            for position, hash_ in store.checkpoints(tenant, context):
                if position > check.last_position:
                    check.expect_head(position, hash_)
                else:
                    _expect_at(store, check, position, hash_)
            head = recorded.get((tenant, context))
            if head is not None:
                check.expect_head(*head)
        result.logs += 1
        result.events += check.checked
        if check.finding is not None:
            result.findings.append(check.finding)
    return result


def _expect_at(store: EventLogStore, check: LogCheck, position: int, hash_: bytes) -> None:
    (record,) = store.read_log(check.tenant, check.context, after=position - 1, upto=position)
    if record.hash != hash_ and check.finding is None:
        check.finding = Finding(
            check.tenant, check.context, position, "the event does not match its checkpoint"
        )


def checkpoint(store: EventLogStore, tenants: list[str] | None = None) -> int:
    """Record the current head of every log (of ``tenants``) as a checkpoint."""
    count = 0
    for (tenant, context), head in sorted(store.heads().items()):
        if tenants is not None and tenant not in tenants:
            continue
        (last,) = store.read_log(tenant, context, after=head - 1, upto=head)
        if last.hash is not None:
            store.add_checkpoint(tenant, context, last.position, last.hash)
            count += 1
    return count


def manifest(store: EventLogStore, tenant: str, export_text: str) -> dict[str, object]:
    """What an audit export holds: per log the number of events and the head's hash, and
    the SHA-256 of the export file; an independent checker compares all three."""
    import hashlib
    from datetime import UTC, datetime

    logs: dict[str, dict[str, object]] = {}
    for (t, context), head in sorted(store.heads().items()):
        if t != tenant:
            continue
        (last,) = store.read_log(tenant, context, after=head - 1, upto=head)
        logs[context] = {
            "events": head,
            "head_position": head,
            "head_hash": last.hash.hex() if last.hash else None,
            "checkpoints": [
                {"position": p, "hash": h.hex()} for p, h in store.checkpoints(tenant, context)
            ],
        }
    return {
        "tenant": tenant,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "chain": "sha256(previous || position (8 bytes) || digest), see docs/adr/0003",
        "logs": logs,
        "file_sha256": hashlib.sha256(export_text.encode("utf-8")).hexdigest(),
    }


def check_against_manifest(store: EventLogStore, data: dict[str, object]) -> list[str]:
    """Differences between an imported store and the manifest of its export."""
    problems = []
    tenant = str(data["tenant"])
    logs = data["logs"]
    assert isinstance(logs, dict)
    for context, expected in sorted(logs.items()):
        head = store.head(tenant, context)
        if head != expected["head_position"]:
            problems.append(
                f"{context}: {head} events, the manifest says {expected['head_position']}"
            )
            continue
        (last,) = store.read_log(tenant, context, after=head - 1, upto=head)
        if (last.hash.hex() if last.hash else None) != expected["head_hash"]:
            problems.append(f"{context}: the head's hash differs from the manifest")
    return problems
