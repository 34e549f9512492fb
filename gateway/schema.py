"""The GraphQL schema: one query root merged from the registry and each context's query type.

The registry types live here because every view starts from a tenant; each context's
query type comes from its spec (``services/<context>/spec.py``), so adding a context adds
its fields without a change here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, Info
from strawberry.utils.logging import StrawberryLogger

from contexts.tenancy.contracts import TenantInfo
from gateway.context import GatewayContext
from gateway.trail import AccessTrail
from runtime.eventstore import unavailable


@strawberry.type(description="A tenant of the platform: district, city, region or member town")
class Tenant:
    key: str
    name: str
    kind: str
    ags: str | None
    parent_key: strawberry.Private[str | None]
    held_by: strawberry.Private[dict[str, str]]

    @strawberry.field(description="The tenant above this one in the hierarchy")
    def parent(self, info: Info[GatewayContext, Any]) -> Tenant | None:
        if self.parent_key is None:
            return None
        found = info.context.directory.get(self.parent_key)
        return tenant_of(found) if found else None

    @strawberry.field(description="Tenants directly below this one")
    def children(self, info: Info[GatewayContext, Any]) -> list[Tenant]:
        d = info.context.directory
        return [tenant_of(t) for k in d.children(self.key) if (t := d.get(k)) is not None]

    @strawberry.field(description="Offices of this tenant held by another tenant")
    def offices_held_by(self) -> list[OfficeHolding]:
        return [OfficeHolding(office=o, holder=h) for o, h in sorted(self.held_by.items())]


@strawberry.type
class OfficeHolding:
    office: str
    holder: str


@strawberry.type(description="Who the token says you are")
class Me:
    subject: str
    tenant: str
    roles: list[str]


def tenant_of(t: TenantInfo) -> Tenant:
    return Tenant(
        key=t.key,
        name=t.name,
        kind=t.kind.value,
        ags=t.ags,
        parent_key=t.parent,
        held_by=dict(t.offices_held_by),
    )


@strawberry.type
class RegistryQuery:
    @strawberry.field(description="The authenticated principal")
    def me(self, info: Info[GatewayContext, Any]) -> Me:
        p = info.context.principal
        return Me(subject=p.subject, tenant=p.tenant, roles=sorted(p.roles))

    @strawberry.field(description="The registered tenants (registry data, no personal data)")
    def tenants(self, info: Info[GatewayContext, Any], kind: str | None = None) -> list[Tenant]:
        return [
            tenant_of(t)
            for t in sorted(info.context.directory.tenants.values(), key=lambda t: t.key)
            if kind is None or t.kind.value == kind
        ]

    @strawberry.field(description="One tenant by key")
    def tenant(self, info: Info[GatewayContext, Any], key: str) -> Tenant | None:
        found = info.context.directory.get(key)
        return tenant_of(found) if found else None


def _mask(error: Any) -> bool:
    """Mask everything but GraphQL's own errors (syntax, validation, limits) and the
    refusals the resolvers raise on purpose (``GraphQLError`` with a code)."""
    original = getattr(error, "original_error", None)
    return original is not None and not isinstance(original, GraphQLError)


EXTENSIONS: list[Any] = [
    # Depth and cost: at most ten levels, 2,000 tokens and 15 aliases per operation
    # (aliases multiply the work of one field; tokens bound the fields asked for).
    lambda: QueryDepthLimiter(max_depth=10),
    lambda: MaxTokensLimiter(max_token_count=2000),
    lambda: MaxAliasesLimiter(max_alias_count=15),
    lambda: MaskErrors(should_mask_error=_mask),
    # Auditors' queries and personal-data reads into the audit logs, before the answer.
    AccessTrail,
]


EXPECTED_CODES = frozenset({"FORBIDDEN", "BAD_USER_INPUT", "NOT_CAUGHT_UP"})
"""Codes of the refusals resolvers raise on purpose (``gateway.access``): no traceback."""
log = logging.getLogger("kim.gateway")


def expected(error: GraphQLError) -> bool:
    """A refusal on purpose, or GraphQL's own answer to a bad query (syntax, validation,
    limits): the client's matter, not a fault of the platform."""
    original = error.original_error
    if original is None:
        return True
    code = (getattr(original, "extensions", None) or {}).get("code")
    return isinstance(original, GraphQLError) and code in EXPECTED_CODES


class GatewaySchema(strawberry.Schema):
    """Expected errors logged as one line at info; any other with its traceback."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if expected(error):
                code = (error.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")
                path = ".".join(str(p) for p in error.path or []) or "-"
                log.info("graphql refusal %s at %s: %s", code, path, error.message)
            elif unavailable(error.original_error):
                continue  # a database fault: logged once by the store, answered with 503
            else:
                StrawberryLogger.error(error, execution_context)


def build_schema(queries: Sequence[type]) -> strawberry.Schema:
    """The schema of the registry and the given context query types."""
    return GatewaySchema(
        query=merge_types("Query", (RegistryQuery, *queries)),
        extensions=EXTENSIONS,
    )
