"""Every name, path, code and limit of the QuickBooks Online connector, in one place."""

from typing import Final

from core.domain import DocumentKind

SYSTEM: Final = "quickbooks"
API_URL: Final = "api"
APP_URL: Final = "app"
REALM_ID_SETTING: Final = "realm_id"
REALM_ID_CALLBACK: Final = "realmId"
"""The OAuth callback's query parameter naming the company the user authorized."""
MINOR_VERSION: Final = "75"
"""Every call states it; 75 is the oldest Intuit still answers as documented."""
REQUEST_ID: Final = "requestid"

# Paths under {api}/{realmId}.
QUERY_PATH: Final = "/query"
BATCH_PATH: Final = "/batch"
CDC_PATH: Final = "/cdc"
UPLOAD_PATH: Final = "/upload"
COMPANY_INFO_PATH: Final = "/companyinfo/{realm_id}"

QUERY_CONTENT_TYPE: Final = "application/text"
JSON_CONTENT_TYPE: Final = "application/json"
MAX_RESULTS: Final = 1000
CDC_LOOKBACK_DAYS: Final = 30
"""How far back `cdc` answers; an older cursor is read with a query instead."""

# Ledgerline's reference in a document: DocNumber holds a digest short enough for it, PrivateNote the reference.
MAX_DOC_NUMBER_LENGTH: Final = 21
DOC_NUMBER_PREFIX: Final = "LL"
PRIVATE_NOTE_PREFIX: Final = "Ledgerline "
MAX_PRIVATE_NOTE_LENGTH: Final = 4000
MAX_DESCRIPTION_LENGTH: Final = 4000
REQUEST_ID_PREFIX: Final = "ll-b-"
REQUEST_ID_HEX: Final = 40
"""`requestid` = prefix + 40 hex characters of a digest: 45 characters, under Intuit's 50."""

# Objects, by what Ledgerline calls them.
ATTRIBUTE_OBJECTS: Final = {
    "account": "Account",
    "vendor": "Vendor",
    "employee": "Employee",
    "customer": "Customer",
    "class": "Class",
    "department": "Department",
    "item": "Item",
    "tax_code": "TaxCode",
}
NAMED_BY_DISPLAY_NAME: Final = frozenset({"Vendor", "Employee", "Customer"})
HAS_ACTIVE_FLAG: Final = frozenset(
    {"Account", "Vendor", "Employee", "Customer", "Class", "Department", "Item", "TaxCode"}
)
ALL_ACTIVE_STATES: Final = "Active IN (true, false)"
"""QuickBooks hides inactive list objects unless a query asks for both states."""

PURCHASE_PAYMENT_TYPES: Final = {DocumentKind.CHARGE_CARD_TRANSACTION: "CreditCard", DocumentKind.CHECK: "Check"}
"""A card expense is a Purchase paid by credit card; a check, one paid by check from a bank account."""
PARTY_TYPES: Final = {"vendor": "Vendor", "employee": "Employee", "customer": "Customer"}
"""Attribute types a journal line may name as its party (JournalEntryLineDetail.Entity)."""
LINE_REFS: Final = {"class": "ClassRef", "customer": "CustomerRef"}
"""Line dimensions an expense line carries; a department is a whole document's (DepartmentRef) but a journal line's."""
DEPARTMENT: Final = "department"
TAX_CALCULATION_EXCLUDED: Final = "TaxExcluded"
BILL_PAYMENT_BY_CHECK: Final = "Check"

DOCUMENT_URL_PATHS: Final = {
    DocumentKind.BILL: "/bill?txnId={id}",
    DocumentKind.CHARGE_CARD_TRANSACTION: "/expense?txnId={id}",
    DocumentKind.CHECK: "/check?txnId={id}",
    DocumentKind.JOURNAL_ENTRY: "/journal?txnId={id}",
    DocumentKind.PAYMENT: "/billpayment?txnId={id}",
}

# Fault codes (Fault.Error[].code).
CODE_THROTTLED: Final = "3001"
CODE_TOKEN: Final = "3200"  # noqa: S105 - a fault code, not a secret
CODE_FORBIDDEN: Final = "3100"
CODE_NOT_FOUND: Final = "610"
CODE_REQUIRED: Final = "2020"
CODE_STRING_LENGTH: Final = "2050"
CODE_INVALID_ENUM: Final = "2170"
CODE_INVALID_REFERENCE: Final = "2500"
CODE_MALFORMED: Final = "2010"
CODE_STALE: Final = "5010"
CODE_BUSINESS: Final = "6000"
CODE_DUPLICATE_DOC: Final = "6140"
CODE_PERIOD_CLOSED: Final = "6210"
CODE_DUPLICATE_NAME: Final = "6240"
SYSTEM_FAULT: Final = "SystemFault"
THROTTLE_RETRY_SECONDS: Final = 60
"""QuickBooks counts a realm's requests over a rolling minute; an item throttled inside a batch says no Retry-After."""

# Error codes Ledgerline shows on the dashboard.
CODE_INVALID_DOCUMENT: Final = "invalid_document"
CODE_INACTIVE_REFERENCE: Final = "inactive_reference"
CODE_DUPLICATE_REFERENCE: Final = "duplicate_reference"
CODE_NO_REALM: Final = "no_realm"
CODE_ITEM_FAILED: Final = "batch_item_failed"
"""A batch item answered with neither its document nor a refusal (a SystemFault): looked up before anything else."""
