"""How finely each currency is counted: an amount in yen is whole yen, in dollars whole cents (ISO 4217 minor units).

Amounts are rounded to their currency's unit wherever a document is built or written, so a zero-decimal currency never
carries a fraction a destination would round away (or refuse).
"""

from decimal import ROUND_HALF_EVEN, Decimal

from core.constants import DEFAULT_MINOR_UNIT_PLACES, MINOR_UNIT_PLACES


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: `Decimal("0.01")`, `Decimal("1")` for JPY, `Decimal("0.001")` for KWD."""
    places = MINOR_UNIT_PLACES.get(currency.upper(), DEFAULT_MINOR_UNIT_PLACES)
    return Decimal(1).scaleb(-places)


def in_minor_units(value: Decimal, currency: str) -> Decimal:
    """`value` rounded (half to even) to the minor unit of `currency`."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_EVEN)
