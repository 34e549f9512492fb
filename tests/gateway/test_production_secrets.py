"""Audit pseudonyms have a secret of their own; production does not start on development ones.

With ``KIM_JWKS_URL`` set (production), ``kim serve`` refuses to start (a German message for
operators) and building the app raises ``InsecureSettings`` when the pseudonym or the
idempotency secret is missing, a development default or the JWT secret, or when the public
development JWT secret is in use.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from gateway.access import audit_pseudonym
from kim.assembly import build_app
from kim.cli import cmd_serve
from runtime.platform import Platform
from runtime.settings import (
    DEV_AUDIT_PSEUDONYM_SECRET,
    DEV_IDEMPOTENCY_SECRET,
    DEV_SECRET,
    InsecureSettings,
    Settings,
    production_problems,
)
from tests.case_support import demo_position, open_case, register_person
from tests.gateway.test_gateway import data_of, query
from tests.support import Auth

JWKS = "https://login.example/jwks.json"
OWN = {
    "jwt_secret": "jwt-" + "a" * 40,
    "audit_pseudonym_secret": "pseudonyms-" + "b" * 40,
    "idempotency_secret": "idempotency-" + "c" * 40,
}


def production(tmp_path: Path, **changes: str) -> Settings:
    store = f"sqlite:///{tmp_path / 'kim-data'}"
    return Settings.model_validate({"event_store": store, "jwks_url": JWKS, **OWN, **changes})


def test_development_runs_on_the_development_defaults() -> None:
    settings = Settings(jwt_secret=DEV_SECRET)
    assert settings.audit_pseudonym_secret == DEV_AUDIT_PSEUDONYM_SECRET != DEV_SECRET
    assert settings.idempotency_secret == DEV_IDEMPOTENCY_SECRET != DEV_SECRET
    assert production_problems(settings) == []


def test_production_needs_secrets_of_its_own(tmp_path: Path) -> None:
    assert production_problems(production(tmp_path)) == []
    defaults = Settings(jwks_url=JWKS)
    problems = production_problems(defaults)
    assert len(problems) == 3, problems
    for name in ["KIM_JWT_SECRET", "KIM_AUDIT_PSEUDONYM_SECRET", "KIM_IDEMPOTENCY_SECRET"]:
        assert any(name in p for p in problems), (name, problems)
    cases = {
        "pseudonyms on the development default": {
            "audit_pseudonym_secret": DEV_AUDIT_PSEUDONYM_SECRET
        },
        "pseudonyms on the JWT development secret": {"audit_pseudonym_secret": DEV_SECRET},
        "pseudonyms on the JWT secret": {"audit_pseudonym_secret": OWN["jwt_secret"]},
        "idempotency on the JWT secret": {"idempotency_secret": OWN["jwt_secret"]},
        "a short secret": {"idempotency_secret": "short-secret"},
        "one secret for both": {"idempotency_secret": OWN["audit_pseudonym_secret"]},
        "the JWT development secret": {"jwt_secret": DEV_SECRET},
    }
    for why, changes in cases.items():
        assert production_problems(production(tmp_path, **changes)), why


def test_building_a_production_app_with_development_secrets_fails_before_anything_opens(
    tmp_path: Path,
) -> None:
    settings = production(tmp_path, audit_pseudonym_secret=DEV_AUDIT_PSEUDONYM_SECRET)
    with pytest.raises(InsecureSettings) as refused:
        build_app(settings)
    assert "KIM_AUDIT_PSEUDONYM_SECRET" in str(refused.value)
    assert refused.value.problems == production_problems(settings)
    assert not (tmp_path / "kim-data").exists()  # no store was opened


def test_kim_serve_refuses_to_start_with_a_german_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(service=None, demo=False, host="127.0.0.1", port=0)
    assert cmd_serve(args, Settings(jwks_url=JWKS)) == 2
    said = capsys.readouterr().err
    assert "KIM startet nicht" in said
    assert "KIM_AUDIT_PSEUDONYM_SECRET fehlt" in said
    assert "KIM_IDEMPOTENCY_SECRET fehlt" in said
    assert "KIM_JWT_SECRET ist noch das öffentliche Entwicklungsgeheimnis" in said


def test_audit_pseudonyms_are_keyed_on_their_own_secret(
    client: TestClient, platform: Platform, auth: Auth
) -> None:
    cm = auth("rheine", "case_manager", position=demo_position(platform))
    person = register_person(client, cm, name="Lina S.")
    open_case(client, cm, person)
    auditor = auth("nrw", "auditor", mandate=["rheine"])
    at = platform.store.head("rheine", "case_management")  # read the own write
    text = f'{{ cases(tenant: "rheine", first: 200, atPosition: {at}) {{ person }} }}'
    rows = data_of(query(client, text, auditor))
    settings = platform.settings
    assert settings.audit_pseudonym_secret != settings.jwt_secret
    own = audit_pseudonym(settings.audit_pseudonym_secret, "rheine", str(person))
    assert own in {r["person"] for r in rows["cases"]}
    assert audit_pseudonym(settings.jwt_secret, "rheine", str(person)) != own
    assert str(person) not in {r["person"] for r in rows["cases"]}
