"""The exchange rate to send with a foreign-currency document so that Intacct's base amounts are the source's.

Intacct converts each amount of a document (a line's net, its tax) at the rate it is given, rounds each to the base
currency's unit and adds the rounded amounts up. Sending the source's own rate, rounded, misses its booked total by
cents on large amounts and yen; so the rate is chosen instead: the shortest one at which the rounded conversions add
up to the booked base amount exactly. A journal line, or an expense line, converts at its own rate, so each matches
its booked amount; a bill or a card transaction has one rate for all its lines, so its total matches, preferring a
rate at which the whole also converts to the total (however Intacct rounds, the sum is then the same).

Where the rounded amounts change (a conversion at half a unit) is computed, not searched for: between two such
points every sum is constant, so the candidates are the intervals between them, and a rate is picked strictly inside
one, away from any tie. When the amounts have one sign the sum only grows with the rate and the right intervals are
found by halving (a bill of a thousand lines takes milliseconds); refunds among them make it a scan.
"""

from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

from connectors.intacct.constants import BASE_ROUNDING, EXCHANGE_RATE_MAX_PLACES, RATE_MAX_BREAKPOINTS


def _converted(amounts: Sequence[Decimal], rate: Decimal, unit: Decimal) -> Decimal:
    return sum(((amount * rate).quantize(unit, rounding=BASE_ROUNDING) for amount in amounts), Decimal(0))


def _breakpoints(amount: Decimal, low: Decimal, high: Decimal, unit: Decimal) -> list[Decimal]:
    """The rates in (low, high) at which `amount` converts to exactly half a unit: where its rounding changes."""
    size = abs(amount)
    first = (low * size / unit - Decimal("0.5")).to_integral_value(rounding=ROUND_CEILING)
    last = (high * size / unit - Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
    if last - first > RATE_MAX_BREAKPOINTS:
        raise OverflowError
    return [(step + Decimal("0.5")) * unit / size for step in range(int(first), int(last) + 1)]


def _shortest_inside(low: Decimal, high: Decimal) -> Decimal | None:
    """The decimal with the fewest places strictly between `low` and `high`, if one has few enough."""
    for places in range(EXCHANGE_RATE_MAX_PLACES + 1):
        step = Decimal(1).scaleb(-places)
        candidate = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step + step
        if candidate < high:
            return candidate
    return None


def rate_for(amounts: Sequence[Decimal], base_total: Decimal, unit: Decimal) -> Decimal | None:
    """A rate at which `amounts` (in the document's currency) convert, each rounded to `unit`, to `base_total`;
    None when there is none with at most `EXCHANGE_RATE_MAX_PLACES` places."""
    amounts = [amount for amount in amounts if amount]
    total = sum(amounts, Decimal(0))
    if not total or not base_total or (total > 0) != (base_total > 0):
        return None
    slack = len(amounts) * unit / 2
    low, high = sorted(((base_total - slack) / total, (base_total + slack) / total))
    low = max(low, Decimal(0))
    try:
        points = sorted({point for amount in (*amounts, total) for point in _breakpoints(amount, low, high, unit)})
    except OverflowError:
        return None
    edges = [low, *(point for point in points if low < point < high), high]
    intervals = list(pairwise(edges))
    monotone = all(amount > 0 for amount in amounts) or all(amount < 0 for amount in amounts)
    if monotone:
        # the sum only ever grows (or shrinks) with the rate: the intervals where it is right are found by halving
        intervals = intervals[_first_reaching(intervals, amounts, base_total, unit, rising=total > 0) :]
    return _pick(intervals, amounts, total, base_total, unit, monotone=monotone)


def _middle(bounds: tuple[Decimal, Decimal]) -> Decimal:
    return (bounds[0] + bounds[1]) / 2


def _first_reaching(
    intervals: list[tuple[Decimal, Decimal]],
    amounts: list[Decimal],
    base_total: Decimal,
    unit: Decimal,
    *,
    rising: bool,
) -> int:
    """The first interval whose conversion is not short of `base_total` (conversions only grow along them)."""
    low, high = 0, len(intervals)
    while low < high:
        middle = (low + high) // 2
        reached = _converted(amounts, _middle(intervals[middle]), unit)
        if (reached < base_total) if rising else (reached > base_total):
            low = middle + 1
        else:
            high = middle
    return low


def _pick(
    intervals: list[tuple[Decimal, Decimal]],
    amounts: list[Decimal],
    total: Decimal,
    base_total: Decimal,
    unit: Decimal,
    *,
    monotone: bool,
) -> Decimal | None:
    """A rate inside an interval where the lines convert to `base_total`, preferring one where the whole does too.
    Lines of one sign stop at the first interval past the right ones; lines of both signs are scanned through."""
    fallback: Decimal | None = None
    for bounds in intervals:
        converted = _converted(amounts, _middle(bounds), unit)
        if converted != base_total:
            if monotone and (converted > base_total) == (total > 0):
                break  # past the intervals that match
            continue
        rate = _shortest_inside(*bounds)
        if rate is None or rate <= 0:
            continue
        if _converted([total], _middle(bounds), unit) == base_total:
            return rate
        fallback = fallback or rate
    return fallback
