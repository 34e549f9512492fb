"""Checking and storing the grants of a funding notice or an amendment."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from contexts.coordination.funding import BAUSTEIN_OF, PositionType, fte, money
from contexts.shared.errors import DomainError


def grants_payload(
    grants: dict[PositionType, Decimal], rates: dict[PositionType, Decimal]
) -> dict[str, dict[str, str]]:
    """The grants as stored in events, each with the rate per FTE the notice states.

    There is no default rate: the rate belongs to the notice (and each amendment), so a
    granted position type without one is refused, as is a rate for a type not granted.
    """
    for position_type in grants:
        if position_type not in rates:
            raise DomainError(
                "rate-missing",
                f"the notice states no rate per FTE for {position_type}; give it under"
                f" rates.{position_type} (e.g. 55000 EUR a year)",
                field=f"rates.{position_type}",
            )
    for position_type, rate in rates.items():
        if position_type not in grants:
            raise DomainError(
                "rate-without-grant",
                f"a rate for {position_type} is given, but the notice grants no such position",
                field=f"rates.{position_type}",
            )
        if Decimal(str(rate)) <= 0:
            raise DomainError(
                "rate-not-positive",
                f"the rate for {position_type} must be positive",
                field=f"rates.{position_type}",
            )
    return {
        position_type.value: {"fte": str(fte(value)), "rate": str(money(rates[position_type]))}
        for position_type, value in grants.items()
    }


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
