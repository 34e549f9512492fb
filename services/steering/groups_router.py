"""REST API of the steering groups: founding, members, the submissions coordination sent.

Thin handlers: a strict body, one access check, one application call through ``work.run``
(Idempotency-Key, ``expected_version``), problems for every refusal, nothing appended on
refusal. Lists page through the read model (``runtime/http/reads.py``).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse

from contexts.steering import access
from contexts.steering.group import SteeringGroup
from contexts.steering.rules import RulesOfProcedure
from projections.documents import document
from runtime.http.problems import Problem
from runtime.http.reads import MAX_PAGE, caught_up, next_link
from services.steering.access import SteeringWork, Work
from services.steering.models import AddMember, FoundGroup, Leave

CONTEXT = "steering"
router = APIRouter(prefix=f"/{CONTEXT}/tenants/{{tenant}}", tags=["steering: groups"])
REPRESENTATIVE = ("subject", "position_id")


def group_view(work: SteeringWork, group: SteeringGroup | dict[str, Any]) -> dict[str, Any]:
    """A group as its readers see it; who represents a member only its post sees."""
    doc = document(group) if isinstance(group, SteeringGroup) else dict(group)
    if not access.runs_group(work.caller, work.app.tenant):
        doc["members"] = {
            k: {f: v for f, v in m.items() if f not in REPRESENTATIVE}
            for k, m in doc["members"].items()
        }
    return doc


@router.post("/groups", status_code=201, summary="Found a steering group (Lenkungsgruppe)")
def found_group(body: FoundGroup, work: Work) -> JSONResponse:
    """With its rules of procedure: quorum, majority, whether abstentions count, how many
    days ahead the invitation goes out."""
    work.post()
    rules = RulesOfProcedure(
        body.rules.quorum, body.rules.majority, body.rules.abstentions_count,
        body.rules.invitation_days,
    )  # fmt: skip
    return work.run(
        "found_group",
        body,
        lambda: work.app.found_group(name=body.name, founded_on=body.founded_on, rules=rules),
        status=201,
    )


@router.get("/groups", summary="The tenant's steering groups the caller reads")
def list_groups(
    request: Request,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    """The post sees its tenant's groups; a member (of any tenant) the groups it sits in."""
    return work.papers(
        "SteeringGroup",
        limit=limit,
        after=after,
        group_of=lambda r: UUID(r.key),
        view=lambda doc: group_view(work, doc),
    )


@router.get("/groups/{group_id}", summary="A steering group: rules of procedure, members")
def get_group(group_id: UUID, work: Work) -> dict[str, Any]:
    return group_view(work, work.reader(group_id))


@router.post("/groups/{group_id}/members", summary="A member joins (institution, role, vote)")
def add_member(group_id: UUID, body: AddMember, work: Work) -> JSONResponse:
    """Represented by a pseudonymous token subject or a position of ``member_tenant`` (one
    of the two): a token of that tenant with that ``sub`` or ``position`` acts for it."""
    work.post()
    work.platform.tenant(body.member_tenant)  # a registered tenant (404 otherwise)
    member = body.model_dump(exclude={"expected_version"})
    return work.run(
        "add_member",
        body,
        lambda: work.app.add_member(group_id, expected_version=body.expected_version, **member),
    )


@router.post("/groups/{group_id}/members/{member_id}/leave", summary="A member leaves")
def member_leaves(
    group_id: UUID, member_id: Annotated[str, Path(max_length=60)], body: Leave, work: Work
) -> JSONResponse:
    work.post()
    return work.run(
        "member_leaves",
        body,
        lambda: work.app.member_leaves(group_id, member_id, body.on, body.expected_version),
    )


@router.get("/submissions", summary="Topics the tenant's coordination post submitted")
def list_submissions(
    request: Request,
    work: Work,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    after: UUID | None = None,
) -> JSONResponse:
    """For the posts of the tenant and of the tenants above it (whose groups take them)."""
    tenant = work.app.tenant
    caller = work.caller
    directory = work.platform.directory()
    if not caller.roles & access.POST or not (
        caller.tenant == tenant or directory.is_ancestor(caller.tenant, tenant)
    ):
        raise Problem(403, "tenant-not-allowed", "submissions are for the coordination posts")
    caught_up(request, work.platform, CONTEXT, tenant, CONTEXT)
    rows = work.platform.read.page(
        CONTEXT, tenant, "Submission", after=str(after) if after else None, limit=limit
    )
    headers = next_link(request, rows[-1].key, len(rows), limit) if rows else {}
    return JSONResponse([r.doc for r in rows], headers=headers)
