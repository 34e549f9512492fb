"""The served OpenAPI against a real server: ``schemathesis run``, all its checks.

A real uvicorn serves the app (embedded store with the demo loaded, a free port); the
``schemathesis`` command line runs against ``/openapi.json`` as a district coordinator of
Kreis Steinfurt, every check (no 5xx, every answer one the operation declares and in its
schema, schema-valid input accepted, schema-violating input refused, ...), a bounded number
of examples per operation, positive and negative. Its settings and every exemption (per
operation, with the reason) are in ``schemathesis.toml`` at the repository root.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kim.assembly import build_app
from kim.demo import load_demo
from runtime.http.auth import mint_token
from runtime.keyring import create_key_file
from runtime.platform import Platform
from runtime.settings import Settings
from tests.support import served_in_thread

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "schemathesis.toml"
MAX_EXAMPLES = 3
"""Generated cases per operation and phase: with 130 operations the run takes about 80 s on
two quiet cores and up to twice that on busy ones (the suite's other workers)."""
RUN_SECONDS = 300
SECRET = "openapi-contract-test-secret-0123456789"
TENANT = "kreis-steinfurt"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The base URL of a real server with the demo loaded, and its settings."""
    tmp: Path = tmp_path_factory.mktemp("contract")
    config = Settings(
        event_store=f"sqlite:///{tmp / 'kim-data'}",
        bus="memory",
        jwt_secret=SECRET,
        relay_poll_interval=0.02,
        key_file=str(create_key_file(tmp / "kim-keys" / "kek.json")),
        rate_limit="100000/second",
        address_rate_limit="100000/second",
        auth_failure_limit="100000/minute",  # the run sends requests without a token
    )
    platform = Platform(config)
    load_demo(platform)
    app = build_app(config, platform=platform)
    big_headers = 2 * config.max_header_bytes + 8192
    try:
        with served_in_thread(app, http="h11", h11_max_incomplete_event_size=big_headers) as base:
            yield base, config
    finally:
        platform.close_read()


def bearer(config: Settings) -> dict[str, str]:
    raw = mint_token(config, tenant=TENANT, roles=["district_coordinator"])
    return {"Authorization": f"Bearer {raw}"}


@pytest.mark.long
@pytest.mark.timeout(RUN_SECONDS + 30)  # above the suite's 120 s per test: one long run
def test_the_served_openapi_keeps_the_contract_under_schemathesis(
    served: tuple[str, Settings], tmp_path: Path
) -> None:
    base, config = served
    token = bearer(config)["Authorization"]
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{base}/openapi.json",
        "--checks",
        "all",
        "--mode",
        "all",  # positive and negative
        "--max-examples",
        str(MAX_EXAMPLES),
        "--generation-deterministic",  # the same cases every run, no example database
        "--header",
        f"Authorization: {token}",
        "--exclude-path",
        "/graphql",  # GraphQL has its own contract (its errors, tests/gateway)
        "--workers",
        "1",  # hypothesis parses lambdas' source: concurrent ast.parse breaks on Python 3.11
    ]
    env = {**os.environ, "NO_COLOR": "1"}
    run = subprocess.run(
        command,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )
    report = run.stdout + run.stderr
    assert run.returncode == 0, report
    tested = re.search(r"Tested: (\d+)", run.stdout)
    assert tested is not None, report
    assert int(tested.group(1)) > 60, report  # every operation but /graphql


def test_every_operation_declares_its_problem_answers(served: tuple[str, Settings]) -> None:
    base, _ = served
    spec = httpx.get(f"{base}/openapi.json", timeout=60).json()  # built on first ask (~0.6 s idle)
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


def test_get_of_the_area_proposal_is_a_405_naming_post(served: tuple[str, Settings]) -> None:
    base, config = served
    url = f"{base}/coordination/tenants/kreis-steinfurt/regional-areas/proposal"
    response = httpx.get(url, headers=bearer(config))
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
    served: tuple[str, Settings], path: str, allow: str
) -> None:
    base, _ = served
    response = httpx.options(f"{base}{path}")
    assert response.status_code == 204, response.text
    assert response.headers["allow"] == allow
    assert httpx.put(f"{base}{path}").headers["allow"] == allow
