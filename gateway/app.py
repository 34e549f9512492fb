"""Mounting the GraphQL schema at /graphql with bearer authentication and GraphiQL."""

from __future__ import annotations

from fastapi import Request
from strawberry.fastapi import GraphQLRouter

from gateway.context import GatewayContext
from gateway.schema import schema
from services.runtime.http.auth import TokenVerifier
from services.runtime.platform import Platform


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
    return GatewayContext(platform, verifier.from_request(request))


def graphql_router() -> GraphQLRouter[GatewayContext, None]:
    return GraphQLRouter(schema, context_getter=_context, graphql_ide="graphiql", path="/graphql")
