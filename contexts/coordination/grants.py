"""Checking and storing the grants of a funding notice."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contexts.coordination.funding import BAUSTEIN_OF, PositionType, flat_rate, fte, money
from contexts.shared.errors import DomainError


def grants_payload(
    grants: dict[PositionType, Decimal], year: int, rates: dict[PositionType, Decimal] | None
) -> dict[str, dict[str, str]]:
    """The grants as stored in events, with the flat rate in force (or the one given)."""
    payload: dict[str, dict[str, str]] = {}
    for position_type, value in grants.items():
        rate = (rates or {}).get(position_type) or flat_rate(position_type, year)
        payload[position_type.value] = {"fte": str(fte(value)), "rate": str(money(rate))}
    return payload


def check_grants(baustein: int, grants: dict[PositionType, Any]) -> None:
    if baustein not in (1, 2, 3):
        raise DomainError(
            "unknown-baustein", f"Baustein {baustein} does not exist", field="baustein"
        )
    if not grants:
        raise DomainError("no-grants", "a notice grants at least one position", field="grants")
    for position_type, value in grants.items():
        if BAUSTEIN_OF[position_type] != baustein:
            raise DomainError(
                "position-type-not-in-baustein",
                f"{position_type} positions belong to Baustein {BAUSTEIN_OF[position_type]},"
                f" not {baustein}",
                field=f"grants.{position_type}",
            )
        if Decimal(str(value)) <= 0:
            raise DomainError(
                "grant-not-positive", f"{position_type} FTE must be positive", field="grants"
            )
