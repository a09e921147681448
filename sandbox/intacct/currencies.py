"""Base and transaction currency: what a document's amounts are in, the rate that converts them to the company's (or
entity's) base currency, and both amounts of every line.

A document names its currency (`CURRENCY`, legacy `currency`; none means the base currency) and either a rate
(`EXCHANGE_RATE`, `exchrate`) or a rate type; with neither it takes the daily rate. Each line's base amount is its
transaction amount times the rate, rounded to the base currency's unit, and a document's base total is the sum of
its lines' (and their tax entries'), as Intacct shows them. A `BASECURR` other than the base currency is refused.
"""

from dataclasses import dataclass
from decimal import Decimal
from xml.etree.ElementTree import Element

from sandbox.intacct.constants import (
    BASE_ROUNDING,
    DAILY_RATES,
    DEFAULT_MINOR_UNIT_PLACES,
    MINOR_UNIT_PLACES,
    RATE_TYPES,
)
from sandbox.intacct.errors import business, not_a_number
from sandbox.intacct.validation import Checker, base_currency
from sandbox.intacct.values import parse_decimal

ONE = Decimal(1)


def unit(currency: str) -> Decimal:
    return ONE.scaleb(-MINOR_UNIT_PLACES.get(currency, DEFAULT_MINOR_UNIT_PLACES))


def format_money(value: Decimal, currency: str) -> str:
    """An amount as the gateway prints it in `currency`: `12.50` dollars, `1250` yen."""
    return f"{value.quantize(unit(currency)):f}"


def convert(amount: Decimal, rate: Decimal, currency: str) -> Decimal:
    """`amount` times `rate`, rounded to the unit of `currency` (the currency converted into)."""
    return (amount * rate).quantize(unit(currency), rounding=BASE_ROUNDING)


def daily_rate(currency: str, into: str) -> Decimal:
    return DAILY_RATES[currency] / DAILY_RATES[into]


def money(check: Checker, element: Element, tag: str, currency: str, *, required: bool = True) -> Decimal | None:
    """An amount in `currency`; a fraction of its unit (half a yen) is refused."""
    value = check.amount(element, tag, required=required)
    if value is not None and value != value.quantize(unit(currency)):
        check.fail(
            business(
                f"The amount {value:f} in {tag} has more decimal places than {currency} allows.",
                f"Send {currency} amounts in whole units of {unit(currency):f}.",
            )
        )
    return value


def taxes(check: Checker, line: Element, currency: str, *, upper: bool) -> list[Decimal]:
    """The tax a line carries beside its amount, one amount per tax entry (`TAXENTRIES/TAXENTRY/TRX_TAX`, or the
    legacy lower-case), in `currency`: a document's totals count it, each entry converted on its own."""
    path, tag = ("TAXENTRIES/TAXENTRY", "TRX_TAX") if upper else ("taxentries/taxentry", "trx_tax")
    found = (money(check, entry, tag, currency, required=False) for entry in line.findall(path))
    return [amount for amount in found if amount is not None]


@dataclass(frozen=True)
class Conversion:
    currency: str
    base: str
    rate: Decimal
    rate_type: str = ""

    def base_of(self, amount: Decimal) -> Decimal:
        return convert(amount, self.rate, self.base) if self.currency != self.base else amount

    def base_total(self, amounts: list[Decimal]) -> Decimal:
        """What `amounts` come to in the base currency: each converted and rounded, then added up."""
        return sum((self.base_of(amount) for amount in amounts), Decimal(0))

    def fields(self) -> dict[str, str]:
        """The header fields a document stores about its currency."""
        return {
            "CURRENCY": self.currency,
            "BASECURR": self.base,
            "EXCHANGE_RATE": f"{self.rate:f}",
            "EXCH_RATE_TYPE_ID": self.rate_type,
        }

    def line(self, amount: Decimal) -> dict[str, str]:
        """The amounts a line stores: in its currency (`TRX_AMOUNT`) and in the base currency (`AMOUNT`)."""
        return {
            "CURRENCY": self.currency,
            "EXCHANGE_RATE": f"{self.rate:f}",
            "TRX_AMOUNT": format_money(amount, self.currency),
            "AMOUNT": format_money(self.base_of(amount), self.base),
        }


def check_base(check: Checker, named: str) -> str:
    """The base currency of the session's company or entity; a different `BASECURR` is refused."""
    base = base_currency(check.ctx)
    if named and named.upper() != base:
        check.fail(
            business(
                f"Base currency {named} is not the base currency {base} of this company.",
                f"Leave the base currency out or send {base}.",
            )
        )
    return base


def conversion(
    check: Checker, element: Element, *, currency_tag: str, rate_tag: str, type_tag: str, base: str = ""
) -> Conversion:
    """How `element`'s amounts convert to `base` (the session's base currency unless given)."""
    base = base or base_currency(check.ctx)
    currency = check.currency(check.text(element, currency_tag))
    if currency == base:
        return Conversion(currency, base, ONE)
    rate_text = check.text(element, rate_tag)
    rate_type = check.text(element, type_tag)
    if rate_text:
        rate = parse_decimal(rate_text)
        if rate is None or rate <= 0:
            check.fail(not_a_number(rate_tag, rate_text))
            return Conversion(currency, base, ONE)
        return Conversion(currency, base, rate)
    if rate_type and rate_type not in RATE_TYPES:
        check.fail(business(f"Invalid exchange rate type '{rate_type}'.", f"Use one of: {', '.join(RATE_TYPES)}."))
    if currency not in DAILY_RATES or base not in DAILY_RATES:
        return Conversion(currency, base, ONE)  # an unknown currency is refused by check.currency already
    return Conversion(currency, base, daily_rate(currency, base), rate_type or RATE_TYPES[0])
