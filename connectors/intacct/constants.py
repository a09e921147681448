"""Every name, code and limit of the Sage Intacct connector, in one place."""

from decimal import ROUND_HALF_UP
from typing import Final

SYSTEM: Final = "intacct"
DISPLAY_NAME: Final = "Sage Intacct"
GATEWAY_URL: Final = "gateway"
"""The spec's name for the XML gateway URL; later calls go to the endpoint `getAPISession` returns."""
DTD_VERSION: Final = "3.0"
CONTENT_TYPE: Final = "application/xml"
XML_DECLARATION: Final = b'<?xml version="1.0" encoding="UTF-8"?>\n'

# Credential field names: app fields come from settings, tenant fields from the connection.
SENDER_ID: Final = "sender_id"
SENDER_PASSWORD: Final = "sender_password"  # noqa: S105 - a field name, not a secret
USER_ID: Final = "user_id"
COMPANY_ID: Final = "company_id"
USER_PASSWORD: Final = "user_password"  # noqa: S105 - a field name, not a secret
ENTITY_ID: Final = "entity_id"

READ_FUNCTIONS: Final = frozenset(
    {"getAPISession", "readByQuery", "readMore", "query", "read", "lookup", "inspect", "getDimensions"}
)
"""Functions that change nothing; every other function is a write (its failure in flight leaves the outcome unknown)."""
SUCCESS: Final = "success"
"""`status` of a control block, an authentication block or a function result that went through."""

# Error numbers and texts as the gateway prints them.
ERR_CREDENTIALS: Final = "XL03000006"
"""Wrong sender, wrong login, sender not authorised, or an expired/unknown session."""
ERR_SCHEMA: Final = "XL03000003"
"""The request broke the XML schema: our bug, never retried."""
ERR_DUPLICATE: Final = "BL34000061"
"""A unique value (control id, supdoc id, folder name) is already taken."""
ERR_QUERY: Final = "Query Failed"
ERR_RATE_LIMIT: Final = "GW-0010"
ERR_OUTAGE: Final = "GW-0001"
OFFLINE_TEXT: Final = "temporarily off-line"
RATE_LIMIT_TEXT: Final = "rate limit"
CONTROL_ID_TEXT: Final = "control id"
CLOSED_PERIOD_MESSAGES: Final = (
    r"periods are closed\. your transaction date \((?P<day>\d{2}/\d{2}/\d{4})\)",
    r"the period '[^']*' is closed\. your transaction date \((?P<day>\d{2}/\d{2}/\d{4})\)",
)
"""The known wordings of a posting into a closed period, each naming the refused date. Intacct publishes no error
number of its own for it (the refusal carries the generic business-rule number), so the text decides: the first is
what users of Intacct integrations see, the second names the period first."""
CLOSED_PERIOD_FALLBACK: Final = r"\bperiods?\b[^.;']*\b(?:is|are|was|been)\s+closed\b|\bclosed (?:accounting )?period\b"
"""Any other sentence saying a period is closed: still a closed period, its date being the document's own."""
CREATE_TRAILER_TEXT: Final = "could not create"
"""The generic `Could not create … record!` error that follows the real cause."""

# Error codes Ledgerline shows on the dashboard.
CODE_SESSION_EXPIRED: Final = "session_expired"
CODE_INVALID_REFERENCE: Final = "invalid_reference"
CODE_INACTIVE_REFERENCE: Final = "inactive_reference"
CODE_INVALID_DOCUMENT: Final = "invalid_document"
CODE_SCHEMA: Final = "schema"
CODE_QUERY_FAILED: Final = "query_failed"
CODE_RESULT_SET_EXPIRED: Final = "result_set_expired"
CODE_OFFLINE: Final = "offline"
CODE_MALFORMED: Final = "malformed_response"
CODE_CONTROL_ID_USED: Final = "control_id_used"
CODE_CONTROL_ID_SPENT: Final = "control_id_spent"
"""A write request refused because its control id already ran, and a lookup proved this document absent."""
BATCH_CONTROL_ID_PREFIX: Final = "llb-"
BATCH_CONTROL_ID_HEX: Final = 40
"""Hex digits of the batch digest in a write request's control id (160 bits)."""
CODE_REFUSED: Final = "refused"

# Dimension attribute types (the names Ledgerline stores in `destination_attributes`).
ACCOUNT: Final = "account"
EXPENSE_TYPE: Final = "expense_type"
VENDOR: Final = "vendor"
EMPLOYEE: Final = "employee"
DEPARTMENT: Final = "department"
LOCATION: Final = "location"
ENTITY: Final = "entity"
CLASS: Final = "class"
PROJECT: Final = "project"
CUSTOMER: Final = "customer"
ITEM: Final = "item"
TAX_DETAIL: Final = "tax_detail"
CHARGE_CARD_ACCOUNT: Final = "charge_card_account"
CHECKING_ACCOUNT: Final = "checking_account"
UDD_PREFIX: Final = "udd:"
"""`udd:<OBJECT>` names a user-defined dimension, discovered with `getDimensions`."""
UDD_FIELD_PREFIX: Final = "GLDIM"
"""A user-defined dimension on a line is the field `GLDIM<OBJECT>`."""

# Documents.
DEFAULT_JOURNAL: Final = "GJ"
PAYMENT_METHOD: Final = "Cash"
"""Payments and reimbursements record money that moved outside Intacct; `Cash` posts no bank transfer."""
EXPENSE_REPORT_STATE: Final = "Submitted"
SUPDOC_FOLDER: Final = "Ledgerline"
"""The one attachment folder every supporting document goes to, created on first use."""
SUPDOC_FOLDER_DESCRIPTION: Final = "Receipts exported by Ledgerline"
SUPDOC_ID_PREFIX: Final = "LL"
SUPDOC_ID_LENGTH: Final = 20
"""Intacct's limit for SUPDOCID: references are longer, so the id is a digest of the reference."""
READ_KEYS_PER_CALL: Final = 100
"""Record numbers one `read` function accepts."""
CONTINUATION_SEPARATOR: Final = "#"
"""Joins a readByQuery `resultId` and the rows remaining into one continuation (see `reads.page`)."""
DATE_FORMAT: Final = "%m/%d/%Y"
TIMESTAMP_FORMAT: Final = "%m/%d/%Y %H:%M:%S"
CENTS: Final = "0.01"
SHARED_SESSION_MAX_AGE_SECONDS: Final = 600.0
"""How long a process reuses one login's API session across connectors. Intacct sessions live longer (the company
sets it, often an hour); a session that expired sooner costs one refused call and a fresh login."""
LINE_MEMO_MAX_LENGTH: Final = 1000
"""Characters of a line memo (ENTRYDESCRIPTION, GLENTRY DESCRIPTION, legacy memo) Intacct keeps."""
EXCHANGE_RATE_MAX_PLACES: Final = 10
"""Decimal places of the longest exchange rate sent (EXCHANGE_RATE, exchrate). The shortest rate that gives the
source's base amounts is sent; ten places fit yen amounts up to a hundred million."""
BASE_ROUNDING: Final = ROUND_HALF_UP
"""How Intacct rounds a line's base amount (transaction amount times rate) to the cent: each line on its own, the
document's base total being the sum of its lines'. Rates are chosen away from half-cents, so that a different
tie-breaking could not change a cent either."""
RATE_MAX_BREAKPOINTS: Final = 10_000
"""Rates at which some line's rounding changes, within the range a rate is looked for in: beyond this many (lines of
opposite signs that almost cancel out) no rate is chosen and the document is refused."""
