"""Limits at the edge (runtime/http/limits.py): sizes, rates, failed sign-ins, model bounds.

The middleware is tested on a small app through the TestClient (which bypasses uvicorn); the
uvicorn side (the parser's buffer) and responsiveness under abuse are in test_edge_abuse.py.
"""

from __future__ import annotations

import importlib
import pkgutil
import types
import typing
from collections.abc import Callable, Iterator
from typing import Any

import annotated_types
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from pydantic import BaseModel

import services
from runtime.http.auth import TokenVerifier, mint_token
from runtime.http.commands import MAX_ITEMS, MAX_STRING, Strict
from runtime.http.limits import EdgeLimits, retry_after
from runtime.http.problems import MEDIA_TYPE, install_problem_handlers
from runtime.settings import Settings

SECRET = "kim-test-secret-0123456789abcdef0123456789"
GENEROUS = "100000/second"


def edge_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": SECRET,
        "rate_limit": GENEROUS,
        "address_rate_limit": GENEROUS,
        "auth_failure_limit": "100000/minute",
        **overrides,
    }
    return Settings(**values)


def edge_app(settings: Settings, calls: list[str]) -> FastAPI:
    app = FastAPI()
    verifier = TokenVerifier(settings)
    install_problem_handlers(app)
    app.add_middleware(EdgeLimits, settings=settings, verifier=verifier)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/me")
    async def me(request: Request) -> dict[str, str]:
        calls.append("me")
        return {"actor": verifier.from_request(request).actor}

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        calls.append("echo")
        return {"bytes": len(await request.body())}

    @app.post("/graphql")
    async def graphql(request: Request) -> dict[str, int]:
        calls.append("graphql")
        return {"bytes": len(await request.body())}

    return app


@pytest.fixture
def make_client() -> Iterator[Callable[..., tuple[TestClient, list[str]]]]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> tuple[TestClient, list[str]]:
        calls: list[str] = []
        c = TestClient(edge_app(edge_settings(**overrides), calls), raise_server_exceptions=False)
        clients.append(c)
        return c, calls

    yield make
    for c in clients:
        c.close()


def bearer(subject: str, tenant: str = "rheine") -> dict[str, str]:
    token = mint_token(edge_settings(), tenant=tenant, roles=["coordinator"], subject=subject)
    return {"Authorization": f"Bearer {token}"}


def assert_problem(response: Any, status: int, rule: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(MEDIA_TYPE)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["rule"] == rule
    assert body["type"] == f"urn:kim:problem:{rule}"
    return body


# -- sizes ---------------------------------------------------------------------------------


def test_headers_over_the_limit_are_refused_with_431(make_client: Callable[..., Any]) -> None:
    client, calls = make_client(max_header_bytes=2048)
    assert client.get("/me", headers=bearer("alice")).status_code == 200
    response = client.get("/me", headers={"Authorization": "Bearer " + "x" * 4096})
    body = assert_problem(response, 431, "headers-too-large")
    assert body["title"] == "Request Header Fields Too Large"
    assert body["limit"] == 2048
    many = {f"X-Filler-{i}": "y" * 100 for i in range(30)}  # in all, not per header
    assert_problem(client.get("/healthz", headers=many), 431, "headers-too-large")
    assert calls == ["me"]


def test_a_huge_query_string_is_refused_with_414(make_client: Callable[..., Any]) -> None:
    client, _ = make_client(max_header_bytes=2048)
    assert_problem(client.get("/me", params={"q": "x" * 4096}), 414, "uri-too-long")


def test_a_declared_body_over_the_limit_is_refused_before_the_app_runs(
    make_client: Callable[..., Any],
) -> None:
    client, calls = make_client(max_body_bytes=4096)
    assert client.post("/echo", content=b"x" * 4096).json() == {"bytes": 4096}
    body = assert_problem(client.post("/echo", content=b"x" * 4097), 413, "body-too-large")
    assert body["limit"] == 4096
    assert calls == ["echo"]


def test_a_streamed_body_is_counted_and_cut_off(make_client: Callable[..., Any]) -> None:
    client, calls = make_client(max_body_bytes=4096)

    def chunks() -> Iterator[bytes]:  # no Content-Length: chunked transfer
        for _ in range(100):
            yield b"y" * 1024

    assert_problem(client.post("/echo", content=chunks()), 413, "body-too-large")
    assert calls == ["echo"]


def assert_graphql_too_large(response: Any, limit: int) -> None:
    """413 as a GraphQL error (``errors``, a stable code), not a problem document."""
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == "application/json"
    (error,) = response.json()["errors"]
    assert error["extensions"] == {"code": "REQUEST_TOO_LARGE", "limit": limit}
    assert str(limit) in error["message"]
    assert set(response.json()) == {"errors"}


def test_graphql_bodies_have_a_smaller_limit_and_a_graphql_error(
    make_client: Callable[..., Any],
) -> None:
    client, calls = make_client(max_body_bytes=64 * 1024, max_graphql_bytes=2048)
    variables = '{"query": "{ x }", "variables": {"v": "' + "z" * 4096 + '"}}'
    assert_graphql_too_large(client.post("/graphql", content=variables), 2048)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it arrives
        yield variables.encode()

    assert_graphql_too_large(client.post("/graphql", content=chunks()), 2048)
    assert client.post("/graphql", content='{"query": "{ x }"}').status_code == 200
    assert client.post("/echo", content=variables).status_code == 200
    too_big = client.post("/echo", content=b"x" * (64 * 1024 + 1))
    assert_problem(too_big, 413, "body-too-large")  # REST bodies stay problems
    assert calls.count("graphql") == 2  # the streamed one reached the route, cut off


def test_the_defaults_are_the_safe_ones() -> None:
    defaults = {name: f.default for name, f in Settings.model_fields.items()}
    assert defaults["max_body_bytes"] == 1024 * 1024
    assert defaults["max_header_bytes"] == 16 * 1024
    assert defaults["max_graphql_bytes"] == 64 * 1024
    assert defaults["rate_limit"] == "50/second;200/10 seconds"  # 20/s, bursts of 50
    assert defaults["auth_failure_limit"] == "10/minute"
    with pytest.raises(ValueError, match="rate_limit"):
        Settings(rate_limit="lots")


# -- rates ---------------------------------------------------------------------------------


def test_a_principal_over_its_rate_gets_429_with_retry_after(
    make_client: Callable[..., Any],
) -> None:
    client, _ = make_client(rate_limit="5/minute")
    alice = bearer("alice")
    assert [client.get("/me", headers=alice).status_code for _ in range(5)] == [200] * 5
    response = client.get("/me", headers=alice)
    body = assert_problem(response, 429, "rate-limited")
    assert "principal" in body["detail"]
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # Another principal from the same address has its own budget; probes are never limited.
    assert client.get("/me", headers=bearer("bob")).status_code == 200
    assert client.get("/me", headers=bearer("alice", tenant="aachen")).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(20))


def test_requests_without_a_valid_token_are_counted_per_address(
    make_client: Callable[..., Any],
) -> None:
    client, calls = make_client(address_rate_limit="3/minute")
    assert [client.post("/echo", content=b"{}").status_code for _ in range(3)] == [200] * 3
    response = client.post("/echo", content=b"{}")
    assert_problem(response, 429, "rate-limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert len(calls) == 3
    assert client.post("/echo", content=b"{}", headers=bearer("alice")).status_code == 200


def test_failed_sign_ins_are_throttled_per_address(make_client: Callable[..., Any]) -> None:
    client, calls = make_client(auth_failure_limit="3/minute")
    bad = {"Authorization": "Bearer not-a-token"}
    assert [client.get("/me", headers=bad).status_code for _ in range(3)] == [401] * 3
    response = client.get("/me", headers=bad)
    body = assert_problem(response, 429, "too-many-failed-sign-ins")
    assert body["title"] == "Too Many Requests"
    assert int(response.headers["Retry-After"]) >= 1
    assert_problem(client.get("/me"), 429, "too-many-failed-sign-ins")  # no token either
    assert len(calls) == 3
    # A valid token is still served: the throttle slows guessing, not the people signed in.
    assert client.get("/me", headers=bearer("alice")).status_code == 200


def test_retry_after_is_whole_seconds_and_at_least_one() -> None:
    assert retry_after(100.2, now=100.0) == 1
    assert retry_after(100.0, now=100.0) == 1
    assert retry_after(130.5, now=100.0) == 31


# -- the real app ----------------------------------------------------------------------------


def test_the_platform_app_refuses_a_large_body(
    client: TestClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = client.post(
        "/coordination/tenants/rheine/organisations",
        content=b"[" + b"1," * (600 * 1024) + b"1]",
        headers={**auth("rheine", "coordinator"), "Content-Type": "application/json"},
    )
    assert_problem(response, 413, "body-too-large")
    assert response.headers["X-Correlation-Id"]
    query = {"query": "query($v: String) { __typename }", "variables": {"v": "z" * 70_000}}
    graphql = client.post("/graphql", json=query, headers=auth("rheine", "coordinator"))
    assert_graphql_too_large(graphql, 64 * 1024)
    assert graphql.headers["X-Correlation-Id"]
    small = {"query": "{ __typename }"}
    assert client.post("/graphql", json=small, headers=auth("rheine", "coordinator")).json() == {
        "data": {"__typename": "Query"}
    }


# -- request models: every string and list is bounded ---------------------------------------


def request_models() -> list[type[BaseModel]]:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        importlib.import_module(module.name)
    found: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [Strict]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


def _bounded(metadata: list[Any]) -> bool:
    return any(
        isinstance(m, annotated_types.MaxLen) or getattr(m, "max_length", None) is not None
        for m in metadata
    )


def unbounded_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    problems: list[str] = []

    def walk(tp: Any, metadata: list[Any], where: str) -> None:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin is typing.Annotated:
            more = [m for a in args[1:] for m in [a, *getattr(a, "metadata", [])]]
            walk(args[0], more, where)
        elif origin in (typing.Union, types.UnionType):
            for arg in args:
                walk(arg, metadata, where)
        elif origin in (list, set, frozenset, tuple, dict):
            if not _bounded(metadata):
                problems.append(f"{where} ({origin.__name__}) has no max_length")
            for arg in args:
                walk(arg, [], f"{where}[]")
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            problems.extend(unbounded_fields(tp, seen))
        elif tp is str and not _bounded(metadata) and not model.model_config.get("str_max_length"):
            problems.append(f"{where} (str) has no max_length")

    for name, field in model.model_fields.items():
        walk(field.annotation, list(field.metadata), f"{model.__name__}.{name}")
    return problems


def test_every_string_and_list_of_every_request_model_is_bounded() -> None:
    models = request_models()
    assert len(models) > 30
    seen: set[type[BaseModel]] = set()
    problems = [p for m in models for p in unbounded_fields(m, seen)]
    assert problems == []


def test_the_bounds_hold_for_personal_data() -> None:
    from pydantic import ValidationError

    from services.case_management.router import PersonalData

    with pytest.raises(ValidationError, match="at most 100 items"):
        PersonalData(name="Lina S.", languages=["uk"] * (MAX_ITEMS + 1))
    with pytest.raises(ValidationError, match="at most"):
        PersonalData(name="Lina S.", languages=["uk"], contact="x" * (MAX_STRING + 1))
    assert Strict.model_config.get("str_max_length") == MAX_STRING
