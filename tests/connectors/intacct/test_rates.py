"""Choosing the exchange rate a foreign-currency document is sent with: the converted lines, each rounded to the cent
as Intacct rounds them, add up to what the source booked; the rate is short and never sits on a half cent."""

import time
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from connectors.intacct.constants import EXCHANGE_RATE_MAX_PLACES
from connectors.intacct.rates import rate_for

CENT = Decimal("0.01")
AMOUNTS = st.lists(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2), min_size=1, max_size=12
)
YEN = st.lists(st.integers(min_value=1, max_value=5_000_000).map(Decimal), min_size=1, max_size=12)
RATES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("250"), places=9)


def converted(amounts: list[Decimal], rate: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    return sum(((amount * rate).quantize(CENT, rounding=rounding) for amount in amounts), Decimal(0))


@given(st.one_of(AMOUNTS, YEN), RATES)
def test_lines_converted_at_one_true_rate_get_a_rate_giving_their_booked_total(
    amounts: list[Decimal], true_rate: Decimal
) -> None:
    booked = converted(amounts, true_rate)
    if booked <= 0:
        return
    rate = rate_for(amounts, booked, CENT)

    assert rate is not None
    assert converted(amounts, rate) == booked
    assert converted(amounts, rate, ROUND_HALF_EVEN) == booked, "a tie would make the rounding rule matter"
    assert -rate.as_tuple().exponent <= EXCHANGE_RATE_MAX_PLACES  # type: ignore[operator]


def test_the_shortest_rate_is_chosen() -> None:
    assert rate_for([Decimal("100.00")], Decimal("108.00"), CENT) == Decimal("1.08")
    assert rate_for([Decimal("123457")], Decimal("823.61"), CENT) == Decimal("0.0066712")


def test_fyles_two_euro_expenses_get_the_rate_their_six_place_rate_misses() -> None:
    amounts = [Decimal("23456.78"), Decimal("48765.43")]
    assert converted(amounts, Decimal("1.083134")) == Decimal("78226.34")
    rate = rate_for(amounts, Decimal("78226.31"), CENT)
    assert rate is not None and converted(amounts, rate) == Decimal("78226.31")


def test_no_rate_when_equal_lines_must_convert_to_an_odd_cent() -> None:
    assert rate_for([Decimal("1.00"), Decimal("1.00")], Decimal("2.17"), CENT) is None
    assert rate_for([Decimal("10.00")], Decimal("-5.00"), CENT) is None


@given(
    st.lists(st.decimals(min_value=Decimal("-999.99"), max_value=Decimal("9999.99"), places=2), min_size=2, max_size=8),
    RATES,
)
def test_refunds_among_the_lines_still_get_a_rate(amounts: list[Decimal], true_rate: Decimal) -> None:
    booked = converted(amounts, true_rate)
    if booked <= 0 or sum(amounts) <= 0:
        return
    rate = rate_for(amounts, booked, CENT)

    assert rate is not None
    assert converted(amounts, rate) == booked


def test_a_bill_of_a_thousand_lines_gets_its_rate_quickly() -> None:
    amounts = [Decimal(index * 7919 % 100_000) / 100 + Decimal("0.01") for index in range(1, 1001)]
    booked = converted(amounts, Decimal("1.0831337"))
    started = time.monotonic()

    rate = rate_for(amounts, booked, CENT)

    assert rate is not None and converted(amounts, rate) == booked
    assert time.monotonic() - started < 1
