"""Verifying the hash chain of every log, and recording checkpoints of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from runtime.eventstore.base import EventLogStore
from runtime.eventstore.chain import Finding, LogCheck
from runtime.signing import SignedHead, Signer

BATCH = 2000


@dataclass
class Verification:
    logs: int = 0
    events: int = 0
    findings: list[Finding] = field(default_factory=list)
    # With the auditor's checkpoints: per log (last signed position, last position) where
    # events follow the last signed head (intact as far as anyone can tell, not yet covered).
    uncovered: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    against: bool = False

    @property
    def intact(self) -> bool:
        return not self.findings

    @property
    def exit_code(self) -> int:
        """0 intact (and covered, given checkpoints), 1 broken, 3 intact but not covered."""
        if self.findings:
            return 1
        return NOT_COVERED if self.uncovered else 0


NOT_COVERED = 3


def verify(
    store: EventLogStore,
    tenants: list[str] | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    against: list[SignedHead] | None = None,
) -> Verification:
    """Walk every log (of ``tenants``), recompute the chain, compare heads and checkpoints.

    ``against``: signed heads an auditor kept (signatures already checked with the public
    key of their file): a log that differs from one breaks at that checkpoint; events after
    the last one are reported as not yet covered.
    """
    result = Verification(against=against is not None)
    heads = store.heads()
    recorded = store.recorded_heads()  # before the walk: a head row ahead of the log
    signed: dict[tuple[str, str], list[SignedHead]] = {}
    for h in against or []:
        signed.setdefault((h.tenant, h.context), []).append(h)
    logs = sorted(store.logs_with_events() | set(heads) | set(recorded) | set(signed))
    checks: list[LogCheck] = []
    for tenant, context in logs:
        if tenants is not None and tenant not in tenants:
            continue
        check = LogCheck(tenant, context)
        # Checkpoints by position, compared during the walk (one read of the log in all).
        expected: dict[int, list[tuple[bytes, str]]] = {}
        for position, hash_ in store.checkpoints(tenant, context):
            expected.setdefault(position, []).append((hash_, "its checkpoint"))
        for h in signed.get((tenant, context), []):
            expected.setdefault(h.position, []).append((h.hash, "the auditor's signed checkpoint"))
        after = 0
        while True:
            records = store.read_log(tenant, context, after=after, limit=BATCH)
            if not records:
                break
            ok = check.feed(records)
            if progress is not None:
                progress(len(records))
            for r in records:
                if r.position > check.last_position or check.finding is not None:
                    break
                for hash_, what in expected.get(r.position, []):
                    if r.hash != hash_ and check.finding is None:
                        check.finding = Finding(
                            tenant, context, r.position,
                            f"the event does not match {what} (the log was changed at or"
                            " before it)",
                        )  # fmt: skip
            if not ok or check.finding is not None:
                break
            after = records[-1].position
        head = recorded.get((tenant, context))
        if head is not None:
            check.expect_head(*head)
        for position in sorted(expected):
            if position > check.last_position:
                check.expect_head(position, None)
        checks.append(check)
    later = store.recorded_heads()  # after the walk: a head row behind the log
    for check in checks:
        log = (check.tenant, check.context)
        if log in later:
            check.expect_not_behind(later[log][0])
        elif log in recorded or store.kind in ("sqlite", "postgresql"):
            check.expect_not_behind(0)  # no head row (gone, or never written)
        result.logs += 1
        result.events += check.checked
        if check.finding is not None:
            result.findings.append(check.finding)
        elif against is not None:
            last_signed = max((h.position for h in signed.get(log, [])), default=0)
            if check.last_position > last_signed:
                result.uncovered[log] = (last_signed, check.last_position)
    return result


def checkpoint(
    store: EventLogStore, tenants: list[str] | None = None, signer: Signer | None = None
) -> int:
    """Record the current head of every log (of ``tenants``) as a checkpoint, signed with
    ``signer`` when given."""
    count = 0
    signed: list[SignedHead] = []
    for (tenant, context), head in sorted(store.heads().items()):
        if tenants is not None and tenant not in tenants:
            continue
        (last,) = store.read_log(tenant, context, after=head - 1, upto=head)
        if last.hash is None:
            continue
        if signer is not None:
            signed.append(signer.sign(tenant, context, last.position, last.hash, last.recorded_at))
        else:
            store.add_checkpoint(tenant, context, last.position, last.hash)
        count += 1
    if signed:
        store.add_signed_checkpoints(signed)
    return count


def signed_heads(store: EventLogStore, tenant: str | None = None) -> list[SignedHead]:
    """The last signed checkpoint of every log (of ``tenant``)."""
    last: dict[tuple[str, str], SignedHead] = {}
    for h in store.signed_checkpoints(tenant):
        if (h.tenant, h.context) not in last or h.position > last[(h.tenant, h.context)].position:
            last[(h.tenant, h.context)] = h
    return [last[k] for k in sorted(last)]


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
        "chain": "v2: sha256(previous || position (8 bytes) || digest_v2 || 0x1e ||"
        " recorded_at); v1 before, see docs/adr/0003",
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
