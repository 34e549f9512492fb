"""The Verwendungsnachweis of a funding notice and year: computed by replay, as CSV or PDF.

German labels (what the Bezirksregierung reads); every figure carries the ids of the
events behind it, so an auditor can drill down to the history.

Here the statement is computed (``build``) and put with what surrounds it (``prepare``);
``report_csv`` and ``report_pdf`` write it, ``labels`` holds the German texts, ``head``
the head of the document. Their public names are importable from here as well.

Reproducible: a statement as of a day (``as_of``: the end of that day, UTC) or of a log
position rests on the events recorded up to then only, and so does everything around it
(the tenant's name and member towns from the registry as it stood, the narrative
statistics). The same statement as of the same day gives the same bytes as CSV and as PDF:
neither carries anything of the request itself (no creation time, no audit-trail position;
the PDF's creation date is the end of the as-of day).

Provisional: a statement as of a day that has not ended yet (``as_of`` today or later, or
neither ``as_of`` nor a position: "as of now"), or of a log position the log has not
reached, may still change. It is not refused but marked: "VORLÄUFIG – Stichtag noch nicht
abgeschlossen" in the head of the CSV and on every page of the PDF, ``provisional: true``
in JSON.

Coverage: the narrative statistics count the tenant and the towns below it: those the
registry names (as it stood), those the tenant's own records name (forwarding contracts to
them, positions working there) and those an audit export's manifest names. A town whose
logs the store does not hold although it must have some (an audit export of one tenant
imported alone: the registry is not in the store, but the tenant's records or the
manifest name the town with events) is named in the head ("Fehlende Mandanten: ... –
deren Zahlen fehlen") instead of silently counting nothing. A town the registry in the
store knows without any log of its own has simply recorded nothing yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from contexts.coordination.application import CoordinationApplication
from contexts.coordination.domain import Organisation
from contexts.coordination.funding import ForwardingContract, FundingNotice, RecipientKind
from contexts.coordination.positions import Position
from contexts.coordination.statement import Statement, VacancyRule, statement
from contexts.shared.errors import DomainError
from contexts.tenancy.application import PLATFORM_TENANT, TenancyApplication
from contexts.tenancy.domain import Tenant
from projections.asof import History, fold
from runtime.eventstore.base import EventLogStore
from services.audit.head import Head, as_head, current_day
from services.audit.labels import PROVISIONAL, TITLE, day, describe, euro, exact, fte, story_label
from services.audit.narrative import Narrative, narrative
from services.audit.report_csv import rows, to_csv
from services.audit.report_pdf import to_pdf

__all__ = [
    "PROVISIONAL",
    "TITLE",
    "Head",
    "as_head",
    "build",
    "current_day",
    "day",
    "euro",
    "exact",
    "fte",
    "prepare",
    "rows",
    "story_label",
    "to_csv",
    "to_pdf",
]


def build(
    store: EventLogStore,
    app: CoordinationApplication,
    notice: str,
    year: int,
    *,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
    upto: int | None = None,
    until: datetime | None = None,
) -> tuple[Statement, History]:
    """The statement of the notice (id or reference) as of ``upto``/``until``."""
    history = fold(store, app, upto=upto, until=until)
    notices = history.of_type(FundingNotice)
    found = [n for n in notices if str(n.id) == notice or notice in n.references]
    if not found:
        raise DomainError(
            "unknown-notice",
            f"{app.tenant} has no funding notice {notice!r}"
            + (f" as of position {history.position}" if upto or until else ""),
            field="notice",
        )
    return (
        statement(
            found[0],
            history.of_type(ForwardingContract),
            history.of_type(Position),
            year,
            history.evidence,
            rule,
        ),
        history,
    )


def _recorded_at(store: EventLogStore, tenant: str, context: str, position: int) -> datetime:
    (record,) = store.read_log(tenant, context, after=position - 1, upto=position)
    return datetime.fromisoformat(record.recorded_at)


def _directory_as_of(
    store: EventLogStore, tenancy: TenancyApplication, until: datetime | None
) -> dict[str, Tenant]:
    """The registry as it stood: names and member towns of the statement's day."""
    history = fold(store, tenancy, until=until)
    return {t.key: t for t in history.of_type(Tenant)}


def _descendants(tenants: Mapping[str, Tenant], key: str) -> list[str]:
    def above(k: str) -> set[str]:
        found: set[str] = set()
        parent = tenants[k].parent
        while parent is not None and parent not in found:
            found.add(parent)
            parent = tenants[parent].parent if parent in tenants else None
        return found

    return sorted(k for k in tenants if key in above(k))


def _named_towns(history: History, tenant: str) -> set[str]:
    """Towns the tenant's own records name: contracts to them, positions working there."""
    named = {
        c.recipient
        for c in history.of_type(ForwardingContract)
        if c.recipient_kind == RecipientKind.TENANT
    }
    named |= {p.work_tenant for p in history.of_type(Position)}
    return named - {tenant}


def _coverage(
    store: EventLogStore,
    history: History,
    tenant: str,
    registry: Mapping[str, Tenant],
    members: Mapping[str, Mapping[str, Any]],
) -> tuple[list[str], list[str]]:
    """The tenants the narrative counts (the tenant first) and the named towns missing."""
    present = {t for (t, _) in store.heads() if t != PLATFORM_TENANT}
    # A town the registry knows but without logs has recorded nothing; one only the
    # tenant's records name (no registry here) or the manifest names with events is missing.
    named = _named_towns(history, tenant)
    expected = (named - set(registry)) | {k for k, m in members.items() if m.get("events")}
    towns = set(_descendants(registry, tenant)) | named | set(members)
    missing = sorted(t for t in expected if t not in present)
    covered = [tenant, *sorted(towns - set(missing))]
    return covered, missing


def _names(
    history: History, registry: Mapping[str, Tenant], members: Mapping[str, Mapping[str, Any]]
) -> dict[str, str]:
    """Recipient key or id -> name: the registry, the manifest's members, organisations."""
    names = {k: t.name for k, t in registry.items()}
    names.update(
        {k: str(m["name"]) for k, m in members.items() if m.get("name") and k not in names}
    )
    names.update({str(o.id): o.name for o in history.of_type(Organisation)})
    return names


def prepare(
    store: EventLogStore,
    tenant: str,
    notice: str,
    year: int,
    *,
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
    as_of: date | None = None,
    position: int | None = None,
    manifest: Mapping[str, Any] | None = None,
    today: date | None = None,
    app: CoordinationApplication | None = None,
    tenancy: TenancyApplication | None = None,
) -> tuple[Statement, Head, Narrative]:
    """The statement with its head and the narrative statistics, as the API and CLI give it.

    ``manifest``: the manifest of the audit export the store was imported from, if at hand
    (``kim audit export`` writes the tenant's registry entry and its member towns into it).
    """
    today = today or current_day()
    until = datetime.combine(as_of, time.max, tzinfo=UTC) if as_of else None
    app = app or CoordinationApplication(tenant, store.recorder)
    s, history = build(store, app, notice, year, rule=rule, upto=position, until=until)
    stand: datetime | None = until
    if position is not None:
        at = _recorded_at(store, tenant, app.context, history.position)
        stand = at if until is None else min(at, until)
    # Later records come with later positions and times: as of a day that has ended, or of
    # a position the log has reached, nothing can be added any more.
    if as_of is not None:
        provisional = as_of >= today
    else:
        provisional = position is None or position > history.position
    registry = _directory_as_of(store, tenancy or TenancyApplication(store.recorder), stand)
    info = registry.get(tenant)
    exported = dict(manifest.get("tenant_info") or {}) if manifest else {}
    members: Mapping[str, Mapping[str, Any]] = (manifest.get("members") or {}) if manifest else {}
    covered, missing = _coverage(store, history, tenant, registry, members)
    names = _names(history, registry, members)
    descriptions = {
        event_id: describe(event)
        for pairs in history.evidence.values()
        for event_id, event in pairs
    }
    head = Head(
        tenant=tenant,
        position=history.position,
        name=info.name if info else exported.get("name"),
        ags=info.ags if info else exported.get("ags"),
        as_of=as_of,
        requested_position=position,
        stand=stand,
        provisional=provisional,
        today=today,
        directory_known=info is not None,
        manifest=manifest is not None,
        covered=covered,
        missing=missing,
        names=names,
        descriptions=descriptions,
    )
    story = narrative(store, covered, tenant, year, until=stand)
    return s, head, story
