"""Domain errors. Each carries what a problem response needs: a rule, a message, the figures."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command was refused because it breaks a rule of the domain.

    ``rule`` is a stable machine-readable name (``forwarded-fte-exceed-grant``),
    ``detail`` a sentence for people, ``facts`` the figures that made the rule fail.
    """

    status = 422

    def __init__(self, rule: str, detail: str, **facts: Any) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail
        self.facts = facts


class NotFound(DomainError):
    """The addressed thing does not exist in this tenant."""

    status = 404

    def __init__(self, what: str, key: object) -> None:
        super().__init__("not-found", f"{what} {key} not found", what=what, key=str(key))


class Conflict(DomainError):
    """The command conflicts with the current state (stale version, duplicate)."""

    status = 409


class StaleVersion(Conflict):
    """The client's expected version is not the aggregate's current version."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(
            "stale-version",
            f"{what} is at version {actual}, the command expected version {expected}",
            expected_version=expected,
            actual_version=actual,
        )
