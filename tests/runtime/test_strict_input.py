"""Strict dates and numbers in every request body: ``0`` is no date (lax pydantic stored it
as 1970-01-01), ``"5"`` or ``true`` no integer; a date is a ``YYYY-MM-DD`` string."""

from __future__ import annotations

import importlib
import pkgutil
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

import services
from runtime.http.commands import Strict
from runtime.http.strict_input import scalar_of
from runtime.platform import Platform
from tests.case_support import demo_position
from tests.support import Auth, assert_problem


def request_models() -> list[type[BaseModel]]:
    for module in pkgutil.walk_packages(services.__path__, "services."):
        importlib.import_module(module.name)
    found: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [Strict]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.append(sub)
            todo.append(sub)
    return sorted(set(found), key=lambda m: f"{m.__module__}.{m.__qualname__}")


def scalar_fields(kind: type) -> list[tuple[type[BaseModel], str]]:
    return [
        (model, name)
        for model in request_models()
        for name, field in model.model_fields.items()
        if scalar_of(field.annotation) is kind
    ]


def reasons(model: type[BaseModel], name: str, value: object) -> list[str]:
    try:
        model.model_validate({name: value})
    except ValidationError as e:
        return [str(err["msg"]) for err in e.errors() if err["loc"] == (name,)]
    return []


def test_the_request_models_have_date_and_integer_fields() -> None:
    dates = scalar_fields(date)
    assert len({m for m, _ in dates}) >= 4, dates
    assert scalar_fields(int)


@pytest.mark.parametrize("value", [0, 1640995200, 20210101, "2021-01-01T00:00:00", True])
def test_no_date_field_takes_anything_but_an_iso_date(value: object) -> None:
    wrong = [
        f"{m.__qualname__}.{n}"
        for m, n in scalar_fields(date)
        if not any("YYYY-MM-DD" in r for r in reasons(m, n, value))
    ]
    assert not wrong, wrong


def test_every_date_field_takes_an_iso_date() -> None:
    for model, name in scalar_fields(date):
        assert not reasons(model, name, "2021-09-01"), (model, name)


@pytest.mark.parametrize("value", ["5", True])
def test_no_integer_field_takes_a_string_or_a_boolean(value: object) -> None:
    wrong = [
        f"{m.__qualname__}.{n}"
        for m, n in scalar_fields(int)
        if not any("must" in r for r in reasons(m, n, value))
    ]
    assert not wrong, wrong


def test_decimals_take_numbers_and_decimal_strings_only() -> None:
    fields = scalar_fields(Decimal)
    assert fields
    for model, name in fields:
        assert not reasons(model, name, "0.5")
        assert not reasons(model, name, 0.5)
        assert reasons(model, name, True)
        assert reasons(model, name, "0,5")


def test_a_date_given_as_0_is_a_422_problem_and_appends_nothing(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    before = platform.store.heads()
    response = client.post(
        "/case_management/tenants/rheine/people",
        json={"personal_data": {"name": "Eva M.", "date_of_birth": 0}},
        headers={**cm, "Idempotency-Key": "strict-date-0001"},
    )
    body = assert_problem(response, 422, "validation-failed")
    assert body["errors"][0]["field"].endswith("date_of_birth"), body
    assert platform.store.heads() == before


# -- integers have upper bounds --------------------------------------------------------------

HUGE = 10**30


def unbounded_integers(spec: dict[str, Any], schema: Any, where: str, seen: set[str]) -> list[str]:
    """The integers in ``schema`` (refs followed) without a ``maximum``."""
    if not isinstance(schema, dict):
        return []
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        if name in seen:
            return []
        seen.add(name)
        return unbounded_integers(spec, spec["components"]["schemas"][name], name, seen)
    found = []
    if schema.get("type") == "integer" and "maximum" not in schema:
        found.append(where)
    for name, sub in schema.get("properties", {}).items():
        found += unbounded_integers(spec, sub, f"{where}.{name}", seen)
    for key in ("items", "additionalProperties"):
        found += unbounded_integers(spec, schema.get(key), f"{where}[]", seen)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key, []):
            found += unbounded_integers(spec, sub, where, seen)
    return found


def test_every_integer_of_a_request_has_an_upper_bound(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    found: list[str] = []
    seen: set[str] = set()
    integers = 0
    for path, item in spec["paths"].items():
        for method, op in item.items():
            for parameter in op.get("parameters", []):
                where = f"{method.upper()} {path} {parameter['name']}"
                integers += "integer" in str(parameter["schema"])
                found += unbounded_integers(spec, parameter["schema"], where, seen)
            for content in op.get("requestBody", {}).get("content", {}).values():
                found += unbounded_integers(spec, content["schema"], f"{method} {path}", seen)
    assert integers >= 5  # limit, after, year, position, index ...
    assert found == []


def field_of(response: httpx.Response) -> str:
    body = assert_problem(response, 422, "validation-failed")
    (error,) = body["errors"]
    assert error["reason"], body
    return str(error["field"])


def test_a_huge_integer_is_a_422_naming_the_field(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    ks = {**auth("kreis-steinfurt", "district_coordinator"), "Idempotency-Key": "huge-int-0001"}
    base = "/coordination/tenants/kreis-steinfurt"
    some = "00000000-0000-4000-8000-000000000001"
    before = platform.store.heads()
    year = client.post(
        f"{base}/positions/{some}/costs/year", json={"year": HUGE, "amount": 1}, headers=ks
    )
    assert field_of(year) == "year"
    version = client.post(
        f"{base}/organisations/{some}/rename",
        json={"name": "X", "expected_version": HUGE},
        headers=ks,
    )
    assert field_of(version) == "expected_version"
    proposal = client.post(
        f"{base}/regional-areas/proposal",
        json={"total_fte": 1, "newcomers": {"RB": HUGE}},
        headers=ks,
    )
    assert field_of(proposal) == "newcomers.RB"
    assert field_of(client.get(f"{base}/notices", params={"limit": HUGE}, headers=ks)) == "limit"
    trail = client.get("/audit/tenants/kreis-steinfurt/queries", params={"after": HUGE}, headers=ks)
    assert field_of(trail) == "after"
    assert platform.store.heads() == before
