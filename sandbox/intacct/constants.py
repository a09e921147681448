"""Every key, limit, code and seeded credential of the Intacct simulator, in one place."""

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

NAME: Final = "intacct"
GATEWAY_PATH: Final = "/ia/xml/xmlgw.phtml"
"""Path of the XML gateway under the mount (`https://api.intacct.com/ia/xml/xmlgw.phtml`)."""
CONTENT_TYPE: Final = 'text/xml; encoding="UTF-8"'
"""What the real gateway sends (see the intacct-sdk test fixtures)."""
DTD_VERSION: Final = "3.0"

# Seeded credentials (public, sandbox only). Senders are the Web Services partner credentials of the control block;
# users log in to a company.
SENDER_ID: Final = "ledgerline"
SENDER_PASSWORD: Final = "sandbox-sender-secret"  # noqa: S105 - a public sandbox credential
OTHER_SENDER_ID: Final = "unauthorised_partner"
"""A valid sender that no seeded company has authorised, to show the Web Services authorisation error."""
OTHER_SENDER_PASSWORD: Final = "sandbox-other-secret"  # noqa: S105 - a public sandbox credential
USER_ID: Final = "ws_ledgerline"
USER_PASSWORD: Final = "sandbox-user-secret"  # noqa: S105 - a public sandbox credential
SINGLE_ENTITY_COMPANY: Final = "ledgerline-demo"
MULTI_ENTITY_COMPANY: Final = "ledgerline-group"
ENTITY_IDS: Final = ("E100", "E200")
BASE_CURRENCY: Final = "USD"
KNOWN_CURRENCIES: Final = frozenset({"USD", "EUR", "GBP", "CAD", "AUD", "INR", "JPY", "CHF", "SGD", "NZD"})
DAILY_RATES: Final = {
    "USD": Decimal("1"),
    "EUR": Decimal("1.0823"),
    "GBP": Decimal("1.2641"),
    "CAD": Decimal("0.7352"),
    "AUD": Decimal("0.6571"),
    "INR": Decimal("0.012034"),
    "JPY": Decimal("0.006712"),
    "CHF": Decimal("1.1307"),
    "SGD": Decimal("0.7431"),
    "NZD": Decimal("0.6102"),
}
"""The "Intacct Daily Rate" of each known currency in US dollars, fixed: what a foreign document sent without a rate
is converted at (a rate between two other currencies goes through the dollar)."""
DAILY_RATE_TYPE: Final = "Intacct Daily Rate"
RATE_TYPES: Final = (DAILY_RATE_TYPE, "Intacct 1 day prior")
"""Exchange rate types a document may name (`EXCH_RATE_TYPE_ID`, `exchratetype`); both convert at `DAILY_RATES`."""
MINOR_UNIT_PLACES: Final = {"JPY": 0}
"""Decimal places of the known currencies that do not count in cents. An amount finer than its currency's unit is
refused rather than rounded, so a client sending fractions of a yen finds out."""
DEFAULT_MINOR_UNIT_PLACES: Final = 2
BASE_ROUNDING: Final = ROUND_HALF_UP
"""How each line's base amount (transaction amount times rate) is rounded to the base currency's unit; totals are
the sums of the rounded lines."""
JOURNALS: Final = ("GJ", "APJ", "EXP", "CCJ", "ADJ")
"""Journal symbols a GLBATCH may post to."""
PAYMENT_METHODS: Final = ("Printed Check", "Cash", "EFT", "Charge Card", "Record Transfer", "ACH")

# Sessions and paging.
DEFAULT_SESSION_TTL_SECONDS: Final = 30 * 60
"""Sessions expire after this much inactivity unless the control API says otherwise."""
READ_BY_QUERY_MAX_PAGESIZE: Final = 1000
READ_BY_QUERY_DEFAULT_PAGESIZE: Final = 100
QUERY_MAX_PAGESIZE: Final = 2000
QUERY_DEFAULT_PAGESIZE: Final = 100
MAX_OPEN_RESULT_SETS: Final = 500
"""readByQuery result sets kept for readMore; the oldest is dropped beyond this."""
MAX_CONTROL_IDS_LISTED: Final = 1000

# Seed volumes (per company). Enough rows that imports page, even at the official SDK's page size of 2000.
SEED_EPOCH: Final = datetime(2024, 1, 1, tzinfo=UTC)
"""Seeded rows were created and modified within a year before this moment."""
SEED_SPAN_DAYS: Final = 365
VOLUMES_SINGLE: Final = {
    "GLACCOUNT": 2500,
    "VENDOR": 2400,
    "EMPLOYEE": 150,
    "DEPARTMENT": 40,
    "LOCATION": 25,
    "CLASS": 30,
    "PROJECT": 300,
    "CUSTOMER": 400,
    "ITEM": 200,
    "TAXDETAIL": 20,
    "CREDITCARD": 8,
    "CHECKINGACCOUNT": 5,
    "EEACCOUNTLABEL": 40,
}
VOLUMES_MULTI: Final = {
    "GLACCOUNT": 600,
    "VENDOR": 300,
    "EMPLOYEE": 60,
    "DEPARTMENT": 12,
    "LOCATION": 10,
    "CLASS": 10,
    "PROJECT": 40,
    "CUSTOMER": 60,
    "ITEM": 30,
    "TAXDETAIL": 10,
    "CREDITCARD": 4,
    "CHECKINGACCOUNT": 4,
    "EEACCOUNTLABEL": 20,
}
INACTIVE_EVERY: Final = 13
"""Every 13th seeded master row is inactive, so imports see both states."""
PRIVATE_EVERY: Final = 4
"""In the multi-entity company every 4th vendor, employee, location, department and project is private to an entity."""
UDD_VALUES: Final = {"PARTNER": 45, "GRANT": 12}
DEFAULT_OPEN_FROM: Final = date(2000, 1, 1)
"""With no configuration every period from this month on is open."""

# Error numbers, as the real gateway prints them.
ERR_XML: Final = "XL03000003"
"""The request is not well-formed or breaks the schema."""
ERR_CREDENTIALS: Final = "XL03000006"
"""Wrong sender credentials, wrong login, unauthorised sender, expired or unknown session."""
ERR_ROLLED_BACK: Final = "XL03000009"
"""Companion error of every function of a failed `transaction="true"` operation."""
ERR_BUSINESS: Final = "BL01001973"
"""Generic business-rule failure of a create/update (invalid reference, closed period, unbalanced entry)."""
ERR_DUPLICATE: Final = "BL34000061"
"""A value that must be unique is already taken (`Another … with the given value(s) … already exists`)."""
ERR_QUERY: Final = "Query Failed"
"""Literal errorno of failed readByQuery/query/read functions."""
ERR_RATE_LIMIT: Final = "GW-0010"
ERR_OUTAGE: Final = "GW-0001"
OFFLINE_TEXT: Final = "The Service is Temporarily Off-line"
RATE_LIMIT_TEXT: Final = "API rate limit exceeded"
ROLLED_BACK_TEXT: Final = "The entire transaction in this operation has been rolled back due to an error."
RECORD_URL_BASE: Final = "https://www.intacct.com/ia/acct/ur.phtml?.r="
LINE_CONTAINERS: Final = {"APBILL": ("APBILLITEMS", "apbillitem")}
"""Documents whose `read` with every field (`*`) nests their lines: the container element and each line's tag."""
