"""GraphQL's errors: stable codes, JSON answers to requests that are no GraphQL request, and
a refusal on purpose is one line at info in the log, with no traceback."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_gateway import query
from tests.support import Auth, assert_problem


def test_a_refusal_is_one_info_line_without_traceback(
    client: TestClient, auth: Auth, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    refused = query(client, '{ caseFigures(tenant: "rheine") { openCases } }', auth("aachen"))
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = query(
        client,
        '{ funding(tenant: "rheine", month: "x") { reference } }',
        auth("rheine", "coordinator"),
    )
    assert bad.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    syntax = query(client, "{ tenants { ", auth("rheine", "coordinator"))
    assert syntax.status_code == 200
    assert syntax.json()["errors"]
    graphql = [r for r in caplog.records if r.name in {"kim.gateway", "strawberry.execution"}]
    assert len(graphql) == 3, [r.getMessage() for r in graphql]
    for record in graphql:
        assert record.levelno == logging.INFO, record.getMessage()
        assert record.exc_info is None, record.getMessage()
        assert "\n" not in record.getMessage()
    assert "FORBIDDEN" in graphql[0].getMessage()
    assert "BAD_USER_INPUT" in graphql[1].getMessage()


def test_an_unexpected_error_is_still_logged_with_its_traceback(
    client: TestClient,
    auth: Auth,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("projections.coordination.gap_figures", broken)
    response = query(
        client, '{ gaps(tenant: "rheine") { bySource { key } } }', auth("rheine", "coordinator")
    )
    assert "a bug" not in response.text  # masked for the client
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert errors
    exc_info = errors[0].exc_info
    assert exc_info is not None
    assert "a bug" in str(exc_info[1])


@pytest.mark.parametrize(
    ("method", "kwargs"),
    [
        ("get", {"headers": {"accept": "application/json"}}),
        ("post", {"json": {}}),
        ("post", {"content": b"{x", "headers": {"content-type": "application/json"}}),
        ("post", {"content": b"hi", "headers": {"content-type": "text/plain"}}),
        ("get", {"params": {"query": "mutation { x }"}}),
    ],
    ids=["get-without-query", "no-query", "no-json", "text-plain", "mutation-by-get"],
)
def test_a_request_that_is_no_graphql_request_is_a_json_problem(
    client: TestClient, auth: Auth, method: str, kwargs: dict[str, object]
) -> None:
    rest = {k: v for k, v in kwargs.items() if k != "headers"}
    extra: dict[str, str] = kwargs.get("headers", {})  # type: ignore[assignment]
    response = getattr(client, method)(
        "/graphql", headers={**auth("rheine", "coordinator"), **extra}, **rest
    )
    assert_problem(response, 400, "graphql-request-invalid")
