"""Mounting the GraphQL schema at /graphql with bearer authentication and GraphiQL."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from gateway.context import GatewayContext
from gateway.schema import build_schema
from runtime.http.auth import TokenVerifier
from runtime.platform import Platform


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
    # What an auditor asks, and any personal data given out, is recorded by the schema's
    # AccessTrail extension (gateway/trail.py) from the resolved fields, not the query text.
    return GatewayContext(platform, verifier.from_request(request))


def graphql_router(queries: Sequence[type]) -> GraphQLRouter[GatewayContext, None]:
    """GraphiQL and the endpoint, over the registry and the contexts' query types."""
    return GraphQLRouter(
        build_schema(queries), context_getter=_context, graphql_ide="graphiql", path="/graphql"
    )
