"""Proposing regional areas' FTE shares from newcomer counts (nothing is stored)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from contexts.shared.errors import DomainError


def propose_shares(
    total_fte: Decimal, newcomers: dict[str, int], step: Decimal = Decimal("0.1")
) -> dict[str, Decimal]:
    """Split ``total_fte`` over areas in proportion to their newcomer counts.

    Largest-remainder rounding to ``step``, so the shares add up to the total exactly
    (Kreis Steinfurt split 9.0 FTE over five areas by newly immigrated people over 28).
    """
    if total_fte <= 0 or not newcomers or any(n < 0 for n in newcomers.values()):
        raise DomainError("invalid-proposal", "a positive total and non-negative counts are needed")
    people = sum(newcomers.values())
    if people == 0:
        raise DomainError("invalid-proposal", "the newcomer counts add up to zero")
    units = int((total_fte / step).to_integral_value(ROUND_HALF_UP))
    exact = {area: Decimal(units) * n / people for area, n in newcomers.items()}
    floors = {area: int(value) for area, value in exact.items()}
    left = units - sum(floors.values())
    by_remainder = sorted(exact, key=lambda a: (exact[a] - floors[a], newcomers[a]), reverse=True)
    for area in by_remainder[:left]:
        floors[area] += 1
    return {area: (step * floors[area]).quantize(step) for area in newcomers}
