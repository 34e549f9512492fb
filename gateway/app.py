"""Mounting the GraphQL schema at /graphql with bearer authentication and GraphiQL."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from gateway.context import GatewayContext
from gateway.schema import build_schema
from runtime.http.auth import Principal, Role, TokenVerifier
from runtime.platform import Platform
from services.audit.router import record


async def _context(request: Request) -> GatewayContext:
    platform: Platform = request.app.state.platform
    verifier: TokenVerifier = request.app.state.verifier
    if (
        request.method == "GET"
        and "text/html" in request.headers.get("accept", "")
        and "query" not in request.query_params
    ):
        # The GraphiQL page itself; its queries come as POSTs with the token.
        return GatewayContext(platform, None)
    principal = verifier.from_request(request)
    if Role.AUDITOR in principal.roles:
        await _record_auditor_query(platform, principal, request)
    return GatewayContext(platform, principal)


TENANT_ARGUMENT = re.compile(r'tenant\s*:\s*"([a-z0-9_][a-z0-9-]{0,62})"')


async def _record_auditor_query(platform: Platform, principal: Principal, request: Request) -> None:
    """Every auditor query is recorded in the audit log of each tenant it names (or of the
    auditor's own tenant): who, when, the query text."""
    try:
        body = await request.json() if request.method == "POST" else dict(request.query_params)
    except ValueError:
        return  # not a GraphQL request body; GraphQL answers with its own error
    text = str(body.get("query", "")) if isinstance(body, dict) else ""
    named = sorted(set(TENANT_ARGUMENT.findall(text))) or [principal.tenant]
    directory = platform.directory()
    for tenant in named:
        if directory.get(tenant) is not None:
            await asyncio.to_thread(
                record, platform, principal, tenant, "graphql", query=text[:2000]
            )


def graphql_router(queries: Sequence[type]) -> GraphQLRouter[GatewayContext, None]:
    """GraphiQL and the endpoint, over the registry and the contexts' query types."""
    return GraphQLRouter(
        build_schema(queries), context_getter=_context, graphql_ide="graphiql", path="/graphql"
    )
