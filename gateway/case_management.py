"""Case management in GraphQL: case figures, pseudonymous case rows, expiring consents."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import strawberry
from strawberry.types import Info

from contexts.case_management.access import RowScope, case_rows_scope, supervised_by
from contexts.case_management.application import CaseManagementApplication
from contexts.case_management.people import Consent, Person
from gateway.access import (
    BadInput,
    audit_pseudonym,
    audits,
    caller_of,
    figure_tenants,
    may_list_cases,
    sees_no_rows_elsewhere,
)
from gateway.context import GatewayContext
from gateway.readside import Count, caught_up, counts, summary_rows_of
from projections import case_management as figures
from projections.projection import SUMMARY_KIND
from runtime.readstore import Row


@strawberry.type
class ReferralCount:
    service: str
    status: str
    count: int


@strawberry.type(description="Open cases of a case-management position against 1:100")
class Caseload:
    position_id: strawberry.ID
    tenant: str
    fte: str
    open_cases: int
    cases_per_fte: str
    target_per_fte: int


@strawberry.type(description="Case-management figures; no personal data")
class CaseFigures:
    tenants: list[str]
    open_cases: int
    closed_cases: int
    by_state: list[Count]
    by_life_dimension: list[Count] = strawberry.field(description="needs of open cases")
    by_referral_source: list[Count]
    by_closure_reason: list[Count]
    referrals: list[ReferralCount]
    caseload: list[Caseload]
    gaps_reported: int

    @strawberry.field(description="valid consents ending within the next days (default 30)")
    async def consents_expiring(
        self, info: Info[GatewayContext, Any], within_days: int = 30
    ) -> int:
        days = max(0, min(within_days, 366))

        def count() -> int:
            return sum(
                len(_application(info, t).expiring_consents(date.today(), days))
                for t in self.tenants
            )

        return await asyncio.to_thread(count)


@strawberry.type
class Referral:
    service: str
    recipient: str
    status: str
    referral_only: bool
    outcome: str | None


@strawberry.type(description="One case's facts; the person only as a pseudonym")
class CaseRow:
    id: strawberry.ID
    tenant: str
    person: str = strawberry.field(description="person id, or an audit pseudonym for auditors")
    state: str
    position_id: str | None
    referral_source: str
    opened_on: str
    closed_on: str | None
    closure_reason: str | None
    needs: list[str]
    goals: list[str]
    referrals: list[Referral]
    pending_approval: str | None


@strawberry.type
class ExpiringConsent:
    person: str
    purpose: str
    recipient: str
    expires_on: str


def _case_figures(tenants: list[str], rows: list[Row]) -> CaseFigures:
    f = figures.case_figures(
        [r.doc for r in rows if r.kind == SUMMARY_KIND],
        [r for r in rows if r.kind == "KnownPosition"],
    )
    return CaseFigures(
        tenants=tenants,
        open_cases=f.open_cases,
        closed_cases=f.closed_cases,
        by_state=counts(f.by_state),
        by_life_dimension=counts(f.by_life_dimension),
        by_referral_source=counts(f.by_referral_source),
        by_closure_reason=counts(f.by_closure_reason),
        referrals=[ReferralCount(service=s, status=st, count=n) for s, st, n in f.referrals],
        caseload=[
            Caseload(
                position_id=strawberry.ID(c.position_id),
                tenant=c.tenant,
                fte=str(c.fte),
                open_cases=c.open_cases,
                cases_per_fte=str(c.per_fte),
                target_per_fte=figures.CASELOAD_TARGET_PER_FTE,
            )
            for c in f.caseload
        ],
        gaps_reported=f.gaps_reported,
    )


async def case_figures(
    info: Info[GatewayContext, Any],
    tenant: str,
    include_members: bool = False,
    at_position: int | None = None,
) -> CaseFigures:
    ctx = info.context
    tenants = figure_tenants(ctx.principal, ctx.directory, tenant, include_members)
    await caught_up(info, "case_management", tenant, at_position)
    rows = await summary_rows_of(info, tenants)
    return _case_figures(tenants, rows)


def _case_scope(info: Info[GatewayContext, Any], tenant: str, rows: list[Row]) -> RowScope:
    """The case rows the principal sees (``contexts.case_management.access``); ``rows``
    are the tenant's known positions (their supervision lines: post, supervising
    coordination position, from, to)."""
    principal, directory = info.context.principal, info.context.directory
    may_list_cases(principal, directory, tenant)
    caller = caller_of(principal)
    supervised = supervised_by(
        caller,
        [(r.key, r.doc.get("supervision") or []) for r in rows if r.kind == "KnownPosition"],
        date.today().isoformat(),
    )
    return case_rows_scope(
        caller, tenant, audits=audits(principal, directory, tenant), supervised=supervised
    )


MAX_CASES = 200


async def _nothing_elsewhere(info: Info[GatewayContext, Any], tenant: str) -> bool:
    """A coordinator asking another tenant's (or no registered tenant's) case rows while
    supervising no position there sees none: answered at once, without waiting for that
    log, whose position and existence are not theirs to learn."""
    principal, directory = info.context.principal, info.context.directory
    caller = caller_of(principal)
    if principal.tenant == tenant or not caller.coordinates or audits(principal, directory, tenant):
        return False
    known = await asyncio.to_thread(
        info.context.platform.read.rows, "case_management", [tenant], "KnownPosition"
    )
    supervised = supervised_by(
        caller,
        [(r.key, r.doc.get("supervision") or []) for r in known if r.kind == "KnownPosition"],
        date.today().isoformat(),
    )
    return sees_no_rows_elsewhere(principal, directory, tenant, supervised)


async def cases(
    info: Info[GatewayContext, Any],
    tenant: str,
    state: str | None = None,
    at_position: int | None = None,
    first: int = 50,
    after: strawberry.ID | None = None,
) -> list[CaseRow]:
    """A page of case rows in id order (``first`` at most 200, ``after`` the last id seen)."""
    if not 1 <= first <= MAX_CASES:
        raise BadInput(f"first must lie between 1 and {MAX_CASES}, not {first}")
    may_list_cases(info.context.principal, info.context.directory, tenant)
    if await _nothing_elsewhere(info, tenant):
        return []
    await caught_up(info, "case_management", tenant, at_position)
    read = info.context.platform.read
    coordinates = caller_of(info.context.principal).coordinates
    known = (  # only a coordination post's rows depend on the supervision lines
        await asyncio.to_thread(read.rows, "case_management", [tenant], "KnownPosition")
        if coordinates
        else []
    )
    scope = _case_scope(info, tenant, known)
    wanted = scope.position_filter()
    match: dict[str, list[str | None]] = {} if wanted is None else {"position_id": wanted}
    if state is not None:
        match["state"] = [state]
    page = await asyncio.to_thread(
        read.page, "case_management", tenant, "Case", match=match,
        after=str(after) if after else None, limit=first,
    )  # fmt: skip
    secret = info.context.platform.settings.audit_pseudonym_secret
    return [_case_row(r, secret, scope.pseudonymised) for r in page]


def _case_row(r: Row, secret: str, pseudonymise: bool) -> CaseRow:
    d = r.doc
    person = str(d["person_id"])
    closure = d.get("closure") or [None, None]
    return CaseRow(
        id=strawberry.ID(r.key),
        tenant=r.tenant,
        person=audit_pseudonym(secret, r.tenant, person) if pseudonymise else person,
        state=str(d["state"]),
        position_id=d.get("position_id"),
        referral_source=str(d["referral_source"]),
        opened_on=str(d["opened_on"]),
        closed_on=closure[1],
        closure_reason=closure[0],
        needs=sorted(d.get("needs") or {}),
        goals=sorted(d.get("goals") or {}),
        referrals=[
            Referral(
                service=str(x["service"]),
                recipient=str(x["recipient"]),
                status=str(x["status"]),
                referral_only=bool(x["referral_only"]),
                outcome=x.get("outcome"),
            )
            for x in d.get("referrals") or []
        ],
        pending_approval=d.get("pending_approval"),
    )


def _application(info: Info[GatewayContext, Any], tenant: str) -> CaseManagementApplication:
    platform = info.context.platform
    return platform.app(CaseManagementApplication, tenant, vault=platform.vault)


def _expiring(
    app: CaseManagementApplication, scope: RowScope, within_days: int
) -> list[tuple[Person, Consent]]:
    """The expiring consents of the people with a case in ``scope`` (from the indexes)."""
    wanted = scope.position_filter()
    found = []
    for person, consent in app.expiring_consents(date.today(), within_days):
        positions = [app.get_case(c).position_id for c in person.cases]
        if wanted is None or any((str(p) if p else None) in wanted for p in positions):
            found.append((person, consent))
    return found


async def expiring_consents(
    info: Info[GatewayContext, Any],
    tenant: str,
    within_days: int = 30,
    at_position: int | None = None,
) -> list[ExpiringConsent]:
    """Consents of the people in the cases the principal sees, ending soon."""
    may_list_cases(info.context.principal, info.context.directory, tenant)
    if await _nothing_elsewhere(info, tenant):
        return []
    await caught_up(info, "case_management", tenant, at_position)
    read = info.context.platform.read
    known = (  # only a coordination post's rows depend on the supervision lines
        await asyncio.to_thread(read.rows, "case_management", [tenant], "KnownPosition")
        if caller_of(info.context.principal).coordinates
        else []
    )
    scope = _case_scope(info, tenant, known)
    days = max(0, min(within_days, 366))
    found = await asyncio.to_thread(_expiring, _application(info, tenant), scope, days)
    secret = info.context.platform.settings.audit_pseudonym_secret
    return [
        ExpiringConsent(
            person=audit_pseudonym(secret, tenant, str(person.id))
            if scope.pseudonymised
            else str(person.id),
            purpose=str(consent.purpose),
            recipient=consent.recipient,
            expires_on=consent.expires_on.isoformat() if consent.expires_on else "",
        )
        for person, consent in found
    ]


@strawberry.type
class CaseManagementQuery:
    case_figures: CaseFigures = strawberry.field(
        resolver=case_figures,
        description="Case figures of a tenant, or with includeMembers over the towns below it",
    )
    cases: list[CaseRow] = strawberry.field(
        resolver=cases, description="Case rows: own position, supervised positions, or audit"
    )
    expiring_consents: list[ExpiringConsent] = strawberry.field(resolver=expiring_consents)
