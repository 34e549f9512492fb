"""`kim token`: development tokens, with the case manager's position claim."""

from __future__ import annotations

from uuid import uuid4

import pytest

from kim.cli import main
from runtime.http.auth import Role, TokenVerifier
from runtime.settings import Settings


def test_a_case_managers_token_names_the_position(capsys: pytest.CaptureFixture[str]) -> None:
    position = uuid4()
    args = ["token", "--tenant", "rheine", "--role", "case_manager", "--position", str(position)]
    assert main(args) == 0
    token = capsys.readouterr().out.strip()
    principal = TokenVerifier(Settings()).verify(token)
    assert (principal.tenant, principal.roles, principal.position) == (
        "rheine",
        frozenset({Role.CASE_MANAGER}),
        position,
    )


def test_a_position_that_is_no_uuid_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["token", "--tenant", "rheine", "--role", "case_manager", "--position", "Stelle 4"]
    assert main(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "UUID" in captured.out + captured.err
