"""Every name, path, header, code and limit of the Xero connector, in one place."""

from typing import Final

from core.domain import DocumentKind

SYSTEM: Final = "xero"
DISPLAY_NAME: Final = "Xero"
API_URL: Final = "api"
APP_URL: Final = "app"
CONNECTIONS_URL: Final = "connections"

TENANT_ID_SETTING: Final = "tenant_id"
"""The organisation every call of a connection goes to (`xero-tenant-id`), learnt from GET /connections."""
TENANT_HEADER: Final = "xero-tenant-id"
ORGANISATION_TENANT: Final = "ORGANISATION"
"""`tenantType` of an organisation in GET /connections (practice-manager tenants are not books)."""
IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
IF_MODIFIED_SINCE: Final = "If-Modified-Since"
RATE_PROBLEM_HEADER: Final = "X-Rate-Limit-Problem"
DAY_PROBLEM: Final = "day"

# Paths under {api}.
ORGANISATION_PATH: Final = "/Organisation"
ACCOUNTS_PATH: Final = "/Accounts"
CONTACTS_PATH: Final = "/Contacts"
TRACKING_PATH: Final = "/TrackingCategories"
TAX_RATES_PATH: Final = "/TaxRates"
ITEMS_PATH: Final = "/Items"
INVOICES_PATH: Final = "/Invoices"
BANK_TRANSACTIONS_PATH: Final = "/BankTransactions"
MANUAL_JOURNALS_PATH: Final = "/ManualJournals"
PAYMENTS_PATH: Final = "/Payments"
ATTACHMENT_PATH: Final = "{collection}/{remote_id}/Attachments/{file_name}"

# Paging: Xero's pageSize is at most 1,000; Accounts, TrackingCategories, TaxRates and Items are never paged.
MAX_PAGE_SIZE: Final = 1000
LOOKUP_BATCH: Final = 25
"""References per lookup call: `InvoiceNumbers=` and `where=… OR …` travel in the URL, which must stay short."""

# Ledgerline's reference on each document.
MAX_REFERENCE_LENGTH: Final = 255
"""InvoiceNumber, a bank transaction's and a payment's Reference hold 255 characters."""
REFERENCE_DIGEST_PREFIX: Final = "LL"
IDEMPOTENCY_PREFIX: Final = "ll-x-"
IDEMPOTENCY_HEX: Final = 59
"""Request key = prefix + 59 hex characters of a digest: 64 characters, what an export item's request key holds;
the header adds the collection and stays under Xero's 128."""
MAX_DESCRIPTION_LENGTH: Final = 4000
MAX_NARRATION_LENGTH: Final = 4000

BILL_TYPE: Final = "ACCPAY"
SPEND_TYPE: Final = "SPEND"
AUTHORISED: Final = "AUTHORISED"
POSTED: Final = "POSTED"
PAID: Final = "PAID"
GONE_STATUSES: Final = frozenset({"DELETED", "VOIDED"})
"""A document in these states holds a reference no more: a lookup ignores it."""
LIVE_BILL_STATUSES: Final = ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID")
LINE_AMOUNTS_EXCLUSIVE: Final = "Exclusive"
LINE_AMOUNTS_INCLUSIVE: Final = "Inclusive"
LINE_AMOUNTS_NO_TAX: Final = "NoTax"
CARD_CONTACT_FALLBACK: Final = "Card expenses"
"""A spend-money transaction names a contact; a card expense whose merchant is unknown is made out to this one."""

# Objects, by what Ledgerline calls them.
OBJECTS: Final = {
    DocumentKind.BILL: ("Invoices", INVOICES_PATH, "InvoiceID"),
    DocumentKind.CHARGE_CARD_TRANSACTION: ("BankTransactions", BANK_TRANSACTIONS_PATH, "BankTransactionID"),
    DocumentKind.JOURNAL_ENTRY: ("ManualJournals", MANUAL_JOURNALS_PATH, "ManualJournalID"),
    DocumentKind.PAYMENT: ("Payments", PAYMENTS_PATH, "PaymentID"),
}
"""kind → (the answer's collection key, the path, the id field)."""
TRACKING_PREFIX: Final = "tracking:"
"""`tracking:<category name>` names one of an organisation's tracking categories (spec `user_dimensions`)."""

DOCUMENT_URL_PATHS: Final = {
    DocumentKind.BILL: "/AccountsPayable/View.aspx?InvoiceID={id}",
    DocumentKind.CHARGE_CARD_TRANSACTION: "/Bank/ViewTransaction.aspx?bankTransactionID={id}",
    DocumentKind.JOURNAL_ENTRY: "/Journal/View.aspx?invoiceID={id}",
}

# Error codes Ledgerline shows on the dashboard.
CODE_INVALID_DOCUMENT: Final = "invalid_document"
CODE_REJECTED: Final = "rejected"
CODE_NO_TENANT: Final = "no_tenant"
CODE_DAY_LIMIT: Final = "day_limit"
CODE_UNREADABLE: Final = "unreadable_answer"
CODE_MISSING_FROM_ANSWER: Final = "missing_from_answer"
CODE_KEY_REUSED: Final = "idempotency_key_reused"
CODE_KEY_IN_PROGRESS: Final = "idempotency_key_in_progress"
KEY_REUSED_WORDS: Final = "idempotency key"
"""Xero refuses a request under a key used before for a different request ("The idempotency key has already been
used for a different request."): nothing ran, and the key's first request may or may not hold the documents."""
LOCK_DATE_WORDS: Final = "lock date"
"""Xero refuses a date in a locked period with "The document date cannot be before the period lock date, currently
set at 30-Nov-2018" (or "… end of year lock date …")."""
EMPTY_ID: Final = "00000000-0000-0000-0000-000000000000"
"""The id Xero gives an item of a `summarizeErrors=false` answer that it did not create."""
