"""Money to the cent (or the yen): rounding that never loses or invents a unit when a total is shared out over lines."""

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

from core.currencies import minor_unit
from mappings.constants import CENTS, ZERO


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_EVEN)


def to_unit(value: Decimal, unit: Decimal) -> Decimal:
    return value.quantize(unit, rounding=ROUND_HALF_EVEN)


def allocate(amounts: Sequence[Decimal], unit: Decimal) -> list[Decimal]:
    """Each amount rounded to `unit` such that the results add up to the rounded total exactly.

    Amounts already in whole units come back unchanged. Otherwise each is rounded down and the units still owed
    go to the amounts that lost most in rounding (largest remainder), earlier ones first on ties.
    """
    floors = [amount.quantize(unit, rounding=ROUND_FLOOR) for amount in amounts]
    owed = int((to_unit(sum(amounts, ZERO), unit) - sum(floors, ZERO)) / unit)
    by_remainder = sorted(range(len(amounts)), key=lambda index: (floors[index] - amounts[index], index))
    for index in by_remainder[:owed]:
        floors[index] += unit
    return floors


def allocate_cents(amounts: Sequence[Decimal]) -> list[Decimal]:
    return allocate(amounts, CENTS)


def allocate_in(amounts: Sequence[Decimal], currency: str) -> list[Decimal]:
    """`allocate` to the minor unit of `currency` (whole yen, cents, thousandths of a dinar)."""
    return allocate(amounts, minor_unit(currency))
