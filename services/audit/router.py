"""REST API for auditors: Verwendungsnachweis, chain verification, the audit trail.

Read-only. An auditor reaches exactly the tenants the token's ``mandate`` names (without
one: the auditor's own tenant and those below it), the rule GraphQL follows too
(``contexts/audit/access.py``). Every auditor request is recorded in the audited tenant's
``audit`` log before the answer goes out (who, which view, which parameters: derived and
validated by the platform, ``services/audit/trail.py``); a refused request records nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from contexts.audit.access import audit_refusal
from contexts.audit.application import AuditApplication
from contexts.coordination.application import CoordinationApplication
from contexts.coordination.statement import Statement, VacancyRule
from runtime import audit as chain_audit
from runtime.http.app import PlatformDep, PrincipalDep, TenantDep
from runtime.http.auth import Access, Principal, Role, authorize
from runtime.http.fields import IsoDate
from runtime.http.problems import Problem
from runtime.http.reads import MAX_PAGE, MAX_POSITION, next_link
from runtime.platform import Platform
from runtime.signing import public_key_of
from services.audit.narrative import Narrative
from services.audit.report import Head, prepare, to_csv, to_pdf
from services.audit.trail import directory_knowing, record_query
from services.audit.yearly import YearlyReport, file_name
from services.audit.yearly import prepare as prepare_yearly
from services.steering.access import sits_in_a_group

router = APIRouter(prefix="/audit/tenants/{tenant}", tags=["audit"])


def check_mandate(principal: Principal, tenant: str, platform: Platform) -> None:
    """The auditor audits ``tenant`` (``contexts/audit/access.py``, the rule GraphQL asks
    too); a 403 with the rule otherwise, before anything is recorded."""
    refusal = audit_refusal(
        auditor_tenant=principal.tenant,
        roles={r.value for r in principal.roles},
        mandate=principal.mandate,
        tenant=tenant,
        directory=directory_knowing(platform, tenant, principal.tenant),
    )
    if refusal is not None:
        roles = ["auditor"] if refusal.rule == "role-not-allowed" else None
        raise Problem(403, refusal.rule, refusal.detail, tenant=tenant, roles=roles)


class LineView(BaseModel):
    label: str
    value: Decimal
    events: list[str]


class StatementView(BaseModel):
    tenant: str
    grantee: str
    ags: str | None
    notice: str
    references: list[str]
    grantor: str
    baustein: int
    year: int
    as_of: date | None
    as_of_position: int
    provisional: bool  # the as-of day has not ended: later events may still change it
    missing_tenants: list[str]  # towns named but without logs here: their figures are missing
    narrative_tenants: list[str]
    vacancy_rule: VacancyRule
    granted: list[LineView]
    totals: list[LineView]
    months: list[dict[str, Any]]
    positions: list[dict[str, Any]]
    contracts: list[dict[str, Any]]
    recorded_as: int  # this request's record in the audit trail (JSON only)
    narrative: dict[str, dict[str, Any]] = {}

    @classmethod
    def of(cls, s: Statement, head: Head, story: Narrative, recorded: int) -> StatementView:
        return cls(
            tenant=head.tenant,
            grantee=head.grantee(),
            ags=head.ags,
            notice=s.reference,
            references=s.references,
            grantor=s.grantor,
            baustein=s.baustein,
            year=s.year,
            as_of=head.as_of,
            as_of_position=head.position,
            provisional=head.provisional,
            missing_tenants=head.missing,
            narrative_tenants=story.tenants,
            vacancy_rule=s.vacancy_rule,
            granted=[LineView(label=g.label, value=g.value, events=g.events) for g in s.granted],
            totals=[LineView(label=t.label, value=t.value, events=t.events) for t in s.totals],
            months=[vars(m) for m in s.months],
            positions=[
                {**vars(p), "position_id": str(p.position_id), "contract_id": p.contract_id}
                for p in s.positions
            ],
            contracts=[{**vars(c), "contract_id": str(c.contract_id)} for c in s.contracts],
            recorded_as=recorded,
            narrative={k: {"count": f.count, "events": f.events} for k, f in story.figures.items()},
        )


@router.get("/statements/{notice}", summary="Verwendungsnachweis of a notice and year")
def get_statement(
    notice: str,
    principal: PrincipalDep,
    tenant: TenantDep,
    platform: PlatformDep,
    year: Annotated[int, Query(ge=2015, le=2100)],
    format: Literal["json", "csv", "pdf"] = "json",
    rule: VacancyRule = VacancyRule.TWELFTH_PER_VACANT_MONTH,
    as_of: Annotated[IsoDate | None, Query(description="end of this day (UTC)")] = None,
    position: Annotated[
        int | None, Query(ge=1, le=MAX_POSITION, description="log position")
    ] = None,
) -> Response:
    """The statement as of the end of ``as_of`` and/or a position of the coordination log.

    The same statement as of a day that has ended gives the same bytes as CSV and PDF (the
    CSV and PDF carry nothing of the request). As of a day that has not ended (``as_of``
    today or later, or neither ``as_of`` nor ``position``) it is given but marked
    provisional ("VORLÄUFIG", ``provisional: true``). Member towns named but without logs
    in the store are named (``missing_tenants``, "Fehlende Mandanten" in the head).
    """
    check_mandate(principal, tenant.key, platform)
    s, head, story = prepare(
        platform.store, tenant.key, notice, year, rule=rule, as_of=as_of, position=position,
        app=platform.app(CoordinationApplication, tenant.key), tenancy=platform.tenancy,
    )  # fmt: skip
    # Recorded before the answer goes out, with the notice as the log names it (an unknown
    # one was refused above, and nothing recorded): no text of the caller's choosing.
    recorded = record_query(
        platform, principal, tenant.key, "statement", notice=s.reference, year=year,
        format=format, rule=rule.value, as_of=as_of.isoformat() if as_of else None,
        position=position,
    )  # fmt: skip
    name = f"verwendungsnachweis-{tenant.key}-{s.reference}-{year}"
    if as_of is not None:
        name += f"-stand-{as_of.isoformat()}"
    elif position is not None:
        name += f"-position-{head.position}"
    if head.provisional:
        name += "-vorlaeufig"
    if format == "csv":
        return Response(
            to_csv(s, head, story=story),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if format == "pdf":
        return Response(
            to_pdf(s, head, story=story),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    view = StatementView.of(s, head, story, recorded)
    return Response(view.model_dump_json(), media_type="application/json")


class SignedHeadView(BaseModel):
    """A log's head signed by the service's Ed25519 key (ADR 0003): ``signature`` over
    ``kim-checkpoint-v1``, tenant, context, position, hash (hex), recorded_at and signed_at
    joined by 0x1f."""

    tenant: str
    context: str
    position: int
    hash: str
    recorded_at: str
    signed_at: str
    key_id: str
    signature: str


class VerificationView(BaseModel):
    tenant: str
    intact: bool
    logs: int
    events: int
    findings: list[dict[str, Any]]
    public_key: str | None = None
    signed_heads: list[SignedHeadView] = []
    not_covered: list[dict[str, Any]] = []


@router.get("/verification", summary="Check the tenant's hash chains")
def verification(
    principal: PrincipalDep, tenant: TenantDep, platform: PlatformDep
) -> VerificationView:
    """The chains, the head rows and checkpoints; the last signed head of every log (an
    auditor keeps them and checks the store later with ``kim audit verify --against``, with
    a public key they obtained apart from this answer); ``not_covered``: events after the
    last signed head of a log."""
    check_mandate(principal, tenant.key, platform)
    record_query(platform, principal, tenant.key, "verification")
    signer = platform.relay.signer
    heads = chain_audit.signed_heads(platform.store, tenant.key)
    if signer is not None:
        key = public_key_of(signer.public_key)
        heads = [h for h in heads if h.valid_under(key)]
    result = chain_audit.verify(
        platform.store, [tenant.key], against=heads if signer is not None else None
    )
    return VerificationView(
        tenant=tenant.key,
        intact=result.intact,
        logs=result.logs,
        events=result.events,
        findings=[vars(f) for f in result.findings],
        public_key=signer.public_key if signer is not None else None,
        signed_heads=[SignedHeadView(**h.to_json()) for h in heads],
        not_covered=[
            {"context": c, "signed_upto": signed, "last_position": last}
            for (_t, c), (signed, last) in sorted(result.uncovered.items())
        ],
    )


class QueryView(BaseModel):
    auditor: str
    view: str
    parameters: dict[str, Any]
    at: datetime


@router.get(
    "/queries",
    summary="Who of the auditors saw what, when (the audit trail), a page at a time",
    response_model=list[QueryView],
)
def queries(
    request: Request,
    principal: PrincipalDep,
    tenant: TenantDep,
    platform: PlatformDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    after: Annotated[
        int, Query(ge=0, le=MAX_POSITION, description="the log position of the last one seen")
    ] = 0,
) -> JSONResponse:
    """For the tenant's own coordination posts and auditors (the latter are recorded too).

    In log order; ``Link: rel="next"`` names the next page.
    """
    if Role.AUDITOR in principal.roles:
        check_mandate(principal, tenant.key, platform)
        record_query(platform, principal, tenant.key, "queries", after=after, limit=limit)
    else:
        authorize(
            principal, tenant.key, platform.directory(),
            roles={Role.COORDINATOR, Role.DISTRICT_COORDINATOR},
        )  # fmt: skip
    page = platform.app(AuditApplication, tenant.key).queries(after=after, limit=limit)
    views = [
        QueryView(
            auditor=q.auditor, view=q.view, parameters=q.parameters, at=q.created_on
        ).model_dump(mode="json")
        for _, q in page
    ]
    headers = next_link(request, str(page[-1][0]), len(page), limit) if page else {}
    return JSONResponse(views, headers=headers)


REPORT_ROLES = {Role.COORDINATOR, Role.DISTRICT_COORDINATOR, Role.STEERING_MEMBER}


def yearly_view(report: YearlyReport, recorded: int | None) -> dict[str, Any]:
    """The report as JSON: its sections' rows with their codes, numbers and events."""
    head = report.head
    return {
        "tenant": head.tenant,
        "name": head.grantee(),
        "year": report.year,
        "as_of": head.as_of.isoformat() if head.as_of else None,
        "provisional": head.provisional,
        "reference_day": report.reference_day.isoformat(),
        "tenants": report.tenants,
        "recorded_as": recorded,
        "sections": [
            {
                "title": s.title,
                "intro": s.intro,
                "tables": [
                    {
                        "caption": t.caption,
                        "columns": [c[0] for c in t.columns],
                        "rows": [
                            {"key": r.key, "cells": r.cells, "events": r.events,
                             "values": {k: str(v) for k, v in r.values.items()}}
                            for r in t.rows
                        ],
                    }
                    for t in s.tables
                ],
            }
            for s in report.sections
        ],
    }  # fmt: skip


@router.get(
    "/yearly-report/{year}",
    summary="Yearly report to the political bodies",
    responses={
        200: {
            "description": "the report: JSON, Markdown or PDF (``format``)",
            "content": {"application/json": {}, "text/markdown": {}, "application/pdf": {}},
        }
    },
)
def get_yearly_report(
    principal: PrincipalDep,
    tenant: TenantDep,
    platform: PlatformDep,
    year: Annotated[int, Path(ge=2000, le=2100)],
    format: Literal["json", "md", "pdf"] = "json",
    as_of: Annotated[IsoDate | None, Query(description="end of this day (UTC)")] = None,
) -> Response:
    """Jahresbericht an Sozialausschuss und Integrationsrat, from the events only (issue 18).

    For the tenant's coordination posts and steering members and those of the tenants above
    it (counts, no personal data), for members of another tenant who sit in one of its
    steering groups, and for auditors within their mandate (recorded in the
    audit trail). As of the end of ``as_of`` the same report gives the same bytes as
    Markdown and PDF; without it, or as of a day not yet ended, it is marked provisional.
    """
    recorded = None
    if Role.AUDITOR in principal.roles:
        check_mandate(principal, tenant.key, platform)
    elif not sits_in_a_group(principal, tenant.key, platform):
        authorize(
            principal, tenant.key, platform.directory(), roles=REPORT_ROLES,
            access=Access.AGGREGATE,
        )  # fmt: skip
    report = prepare_yearly(platform.store, tenant.key, year, as_of=as_of)
    if Role.AUDITOR in principal.roles:
        recorded = record_query(
            platform, principal, tenant.key, "yearly_report", year=year, format=format,
            as_of=as_of.isoformat() if as_of else None,
        )  # fmt: skip
    name = file_name(tenant.key, year, as_of, report.head.provisional)
    if format == "md":
        from services.audit.yearly_md import to_markdown

        return Response(
            to_markdown(report),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.md"'},
        )
    if format == "pdf":
        from services.audit.yearly_pdf import to_pdf

        return Response(
            to_pdf(report),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
        )
    return JSONResponse(yearly_view(report, recorded))
