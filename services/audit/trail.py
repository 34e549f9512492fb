"""The platform's only way into a tenant's ``audit`` log, for REST and GraphQL alike.

- ``record_query``: an auditor's query, in the audited tenant's log; only for a registered
  tenant the auditor audits (``contexts/audit/access.py``), with parameters the edge derived
  and validated (bounded once more here), never text the caller chose.
- ``record_reads``: reads of people's personal data (who, whose, which fields, why), in the
  log of the tenant whose case management holds them; one transaction per request.

Both are called before the answer goes out. When the log cannot take the entry the request
fails with 503 (``audit-log-unavailable``): no data without a trace.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from contexts.audit.access import audit_refusal
from contexts.audit.application import AuditApplication, Channel, Read, Reader
from contexts.tenancy.contracts import TenantDirectory
from runtime import context as request_context
from runtime.http.auth import Principal
from runtime.http.problems import Problem
from runtime.platform import Platform

log = logging.getLogger(__name__)
UNAVAILABLE = "audit-log-unavailable"
RETRY_AFTER = "5"


def unavailable() -> Problem:
    return Problem(
        503,
        UNAVAILABLE,
        "the access could not be recorded in the audit log; nothing is given out without it",
        headers={"Retry-After": RETRY_AFTER},
    )


def directory_knowing(platform: Platform, *keys: str) -> TenantDirectory:
    """The registry snapshot, refreshed once when it does not know one of ``keys``."""
    directory = platform.directory()
    if any(directory.get(k) is None for k in keys):
        directory = platform.directory(refresh=True)
    return directory


def may_audit(platform: Platform, principal: Principal, tenant: str) -> bool:
    directory = directory_knowing(platform, tenant, principal.tenant)
    return (
        audit_refusal(
            auditor_tenant=principal.tenant,
            roles={r.value for r in principal.roles},
            mandate=principal.mandate,
            tenant=tenant,
            directory=directory,
        )
        is None
    )


def record_query(
    platform: Platform, principal: Principal, tenant: str, view: str, **params: Any
) -> int:
    """Record an auditor's query in ``tenant``'s audit log; returns its position there.

    Refuses (403, nothing appended) a tenant the principal does not audit, whatever the
    edge checked before: nobody else writes into a tenant's audit log.
    """
    if not may_audit(platform, principal, tenant):
        raise Problem(403, "outside-mandate", f"no audit of {tenant} for this token", tenant=tenant)
    app = platform.app(AuditApplication, tenant)
    try:
        with request_context.bound(actor=principal.actor, tenant=tenant):
            (rec,) = app.record_query(auditor=principal.actor, view=view, parameters=params)
    except Exception as e:
        log.exception("recording an auditor's query in %s's audit log failed", tenant)
        raise unavailable() from e
    return rec.notification.id


def record_reads(
    platform: Platform,
    principal: Principal,
    tenant: str,
    reads: Sequence[Read],
    channel: Channel,
) -> None:
    """Record the personal-data reads of one request in ``tenant``'s audit log (the tenant
    holding the people read), in one transaction; nothing for no reads."""
    if not reads:
        return
    reader = Reader(
        actor=principal.actor,
        roles=frozenset(r.value for r in principal.roles),
        position=principal.position,
    )
    app = platform.app(AuditApplication, tenant)
    try:
        with request_context.bound(actor=principal.actor, tenant=tenant):
            app.record_reads(reader, reads, channel=channel)
    except Exception as e:
        log.exception("recording personal-data reads in %s's audit log failed", tenant)
        raise unavailable() from e
