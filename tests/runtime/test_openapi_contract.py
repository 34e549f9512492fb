"""The served OpenAPI against the app (schemathesis, all its checks): no answer is a 5xx,
every answer is one the operation declares (problems as application/problem+json), in the
declared schema.

A bounded run: ``MAX_EXAMPLES`` generated cases per operation (positive and negative), on
the embedded stack with the demo loaded, as a district coordinator of Kreis Steinfurt, each
request through the app's own test client (one running platform)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.http.auth import mint_token
from runtime.keyring import create_key_file
from runtime.platform import Platform
from runtime.settings import Settings

MAX_EXAMPLES = 5
EXCLUDED = [positive_data_acceptance]
"""422 is also the answer of domain rules to schema-valid input (an office without its
office type, a Decimal with more places than the field keeps: JSON Schema states neither),
so schema-valid data is not always accepted; every other check runs."""
SECRET = "openapi-contract-test-secret-0123456789"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Settings]]:
    tmp: Path = tmp_path_factory.mktemp("contract")
    config = Settings(
        event_store=f"sqlite:///{tmp / 'kim-data'}",
        bus="memory",
        jwt_secret=SECRET,
        relay_poll_interval=0.02,
        key_file=str(create_key_file(tmp / "kim-keys" / "kek.json")),
    )
    platform = Platform(config)
    load_demo(platform)
    with TestClient(build_app(config, platform=platform), raise_server_exceptions=False) as c:
        yield c, config
    platform.close_read()


def operations(client: TestClient) -> list[Any]:
    schema = schemathesis.openapi.from_dict(client.get("/openapi.json").json())
    # /graphql has its own contract (GraphQL's errors, tests/gateway); GraphiQL is HTML.
    results = list(schema.get_all_operations())
    found = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(found) == len(results), "the OpenAPI has operations schemathesis cannot read"
    return [op for op in found if op.path != "/graphql"]


def examine(client: TestClient, op: Any, mode: GenerationMode, bearer: dict[str, str]) -> list[str]:
    """The failures of ``MAX_EXAMPLES`` generated cases of one operation."""
    failures: list[str] = []

    @given(case=op.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        if mode is GenerationMode.POSITIVE and "tenant" in (case.path_parameters or {}):
            case.path_parameters["tenant"] = "kreis-steinfurt"  # else nearly all 404
        kwargs = case.as_transport_kwargs(base_url="http://testserver", headers=bearer)
        if "data" in kwargs:
            kwargs["content"] = kwargs.pop("data")
        kwargs.pop("cookies", None)
        response = client.request(**kwargs)
        try:
            case.validate_response(response, excluded_checks=EXCLUDED)
        except (Exception, BaseExceptionGroup) as e:  # schemathesis' failures
            found = f"{op.label} [{mode.value}] {response.status_code}: {e}"
            failures.append(found[:600])

    with contextlib.suppress(Unsatisfiable):  # no negative case without parameters
        run()
    return failures


def test_every_operation_keeps_the_contract(served: tuple[TestClient, Settings]) -> None:
    client, config = served
    raw = mint_token(config, tenant="kreis-steinfurt", roles=["district_coordinator"])
    bearer = {"Authorization": f"Bearer {raw}"}
    ops = operations(client)
    assert len(ops) > 50
    failures = [
        failure
        for op in ops
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
        for failure in examine(client, op, mode, bearer)
    ]
    assert not failures, "\n".join(sorted(set(failures))[:40])


def test_every_operation_declares_its_problem_answers(
    served: tuple[TestClient, Settings],
) -> None:
    client, _ = served
    spec = client.get("/openapi.json").json()
    missing = []
    for path, item in spec["paths"].items():
        if path in {"/healthz", "/readyz", "/graphql"}:
            continue  # no token, no input: 200 or 503; GraphQL: errors in the body (200)
        for method, op in item.items():
            for status in ("401", "403", "404", "409", "422", "429"):
                content = op["responses"].get(status, {}).get("content", {})
                if list(content) != ["application/problem+json"]:
                    missing.append(f"{method.upper()} {path} {status}: {list(content)}")
    assert not missing, missing[:20]


def test_get_of_the_area_proposal_is_a_405_naming_post(
    served: tuple[TestClient, Settings],
) -> None:
    client, config = served
    raw = mint_token(config, tenant="kreis-steinfurt", roles=["district_coordinator"])
    url = "/coordination/tenants/kreis-steinfurt/regional-areas/proposal"
    response = client.get(url, headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["allow"] == "POST, OPTIONS"


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/graphql", "GET, POST, OPTIONS"),
        ("/coordination/tenants/rheine/regional-areas/proposal", "POST, OPTIONS"),
        ("/tenancy/tenants", "GET, POST, OPTIONS"),
    ],
)
def test_options_names_every_method_of_the_path(
    served: tuple[TestClient, Settings], path: str, allow: str
) -> None:
    client, _ = served
    response = client.options(path)
    assert response.status_code == 204, response.text
    assert response.headers["allow"] == allow
    assert client.put(path).headers["allow"] == allow
