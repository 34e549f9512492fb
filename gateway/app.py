"""Mounting the GraphQL schema at /graphql with bearer authentication and GraphiQL."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from fastapi import Request
from fastapi.responses import FileResponse
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult

from gateway.context import GatewayContext
from gateway.schema import build_schema
from runtime.eventstore import StoreUnavailable, unavailable
from runtime.http.auth import TokenVerifier
from runtime.http.problems import Problem
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


IDE_DIR = Path(__file__).parent / "ide"
"""GraphiQL's page and the npm packages' files it loads (versions, licences: its README)."""
IDE_ASSETS = {
    path.name: "text/css" if path.suffix == ".css" else "text/javascript"
    for path in sorted((IDE_DIR / "static").iterdir())
}


@cache
def _ide_page() -> str:
    return (IDE_DIR / "graphiql.html").read_text(encoding="utf-8")


def _ide_asset(name: str) -> FileResponse:
    """One of GraphiQL's scripts or styles, from the platform itself: no CDN is asked."""
    if name not in IDE_ASSETS:
        raise Problem(404, "not-found", f"no GraphiQL asset {name!r}")
    return FileResponse(
        IDE_DIR / "static" / name,
        media_type=IDE_ASSETS[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )


class GatewayRouter(GraphQLRouter[GatewayContext, None]):
    """Strawberry's router, whose refusals of a request that is no GraphQL request (no query,
    a body that is no JSON, a mutation by GET, ...) are problems (JSON), not plain text.

    Its GraphiQL page loads its scripts and styles from ``/graphql/ide/`` (``gateway/ide/``),
    so that it works in a network without a way out."""

    @property
    def graphql_ide_html(self) -> str:
        return _ide_page()

    async def run(self, request: Any, context: Any = None, root_value: Any = None) -> Any:
        try:
            return await super().run(request, context=context, root_value=root_value)
        except HTTPException as e:
            raise Problem(e.status_code, "graphql-request-invalid", e.reason) from None

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        # A resolver that met a database fault: the whole answer is a 503 problem with
        # Retry-After (runtime.http.problems), not a 200 with errors, as for REST.
        for error in result.errors or ():
            if unavailable(error.original_error):
                raise StoreUnavailable("the database is unavailable") from error.original_error
        return await super().process_result(request, result)


def graphql_router(queries: Sequence[type]) -> GraphQLRouter[GatewayContext, None]:
    """GraphiQL (with its assets) and the endpoint, over the registry and the contexts'
    query types."""
    router = GatewayRouter(
        build_schema(queries), context_getter=_context, graphql_ide="graphiql", path="/graphql"
    )
    router.add_api_route(
        "/graphql/ide/{name}", _ide_asset, methods=["GET"], include_in_schema=False
    )
    return router
