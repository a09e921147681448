"""Money to the cent: rounding that never loses or invents a cent when a total is shared out over lines."""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from mappings.constants import CENTS, ZERO


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def allocate_cents(amounts: Sequence[Decimal]) -> list[Decimal]:
    """Each amount rounded to the cent such that the results add up to the rounded total exactly.

    Amounts already in whole cents come back unchanged. Otherwise each is rounded down and the cents still owed
    go to the amounts that lost most in rounding (largest remainder), earlier ones first on ties.
    """
    floors = [amount.quantize(CENTS, rounding=ROUND_FLOOR) for amount in amounts]
    owed = int((to_cents(sum(amounts, ZERO)) - sum(floors, ZERO)) / CENTS)
    by_remainder = sorted(range(len(amounts)), key=lambda index: (floors[index] - amounts[index], index))
    for index in by_remainder[:owed]:
        floors[index] += CENTS
    return floors
