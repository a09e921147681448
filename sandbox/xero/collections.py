"""The accounting API's collections as the simulator serves them: the type name Xero's errors use, the id field,
whether GET pages, the fields a `where`/`order` may name (the OpenAPI schema's properties), and how a write
body names its array."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Collection:
    name: str
    type_name: str
    id_field: str
    paged: bool
    fields: frozenset[str]


def _fields(text: str) -> frozenset[str]:
    return frozenset(text.split())


COLLECTIONS: dict[str, Collection] = {
    c.name.lower(): c
    for c in (
        Collection(
            "Accounts",
            "Account",
            "AccountID",
            False,
            _fields(
                "AccountID BankAccountNumber BankAccountType Class Code CurrencyCode Description "
                "EnablePaymentsToAccount HasAttachments Name ReportingCode ReportingCodeName ShowInExpenseClaims "
                "Status SystemAccount TaxType Type "
                "UpdatedDateUTC"
            ),
        ),
        Collection(
            "Contacts",
            "Contact",
            "ContactID",
            True,
            _fields(
                "AccountNumber ContactID ContactNumber ContactStatus DefaultCurrency EmailAddress FirstName "
                "HasAttachments IsCustomer IsSupplier LastName Name TaxNumber UpdatedDateUTC Website"
            ),
        ),
        Collection(
            "TrackingCategories",
            "TrackingCategory",
            "TrackingCategoryID",
            False,
            _fields("Name Status TrackingCategoryID Options"),
        ),
        Collection(
            "TaxRates",
            "TaxRate",
            "TaxType",
            False,
            _fields("Name TaxType Status ReportTaxType DisplayTaxRate EffectiveRate CanApplyToExpenses"),
        ),
        Collection(
            "Items",
            "Item",
            "ItemID",
            False,
            _fields("Code Description IsPurchased IsSold IsTrackedAsInventory ItemID Name UpdatedDateUTC"),
        ),
        Collection("Currencies", "Currency", "Code", False, _fields("Code Description")),
        Collection(
            "Invoices",
            "Invoice",
            "InvoiceID",
            True,
            _fields(
                "AmountCredited AmountDue AmountPaid Contact CurrencyCode CurrencyRate Date DueDate FullyPaidOnDate "
                "HasAttachments InvoiceID InvoiceNumber LineAmountTypes Reference Status SubTotal Total TotalTax Type "
                "UpdatedDateUTC"
            ),
        ),
        Collection(
            "BankTransactions",
            "BankTransaction",
            "BankTransactionID",
            True,
            _fields(
                "BankAccount BankTransactionID Contact CurrencyCode CurrencyRate Date HasAttachments IsReconciled "
                "LineAmountTypes Reference Status SubTotal Total TotalTax Type UpdatedDateUTC"
            ),
        ),
        Collection(
            "ManualJournals",
            "ManualJournal",
            "ManualJournalID",
            True,
            _fields(
                "Date HasAttachments LineAmountTypes ManualJournalID Narration ShowOnCashBasisReports Status "
                "UpdatedDateUTC"
            ),
        ),
        Collection(
            "Payments",
            "Payment",
            "PaymentID",
            True,
            _fields(
                "Account Amount BankAmount CurrencyRate Date Invoice IsReconciled PaymentID PaymentType Reference "
                "Status UpdatedDateUTC"
            ),
        ),
    )
}
ATTACHABLE = frozenset({"Invoices", "BankTransactions", "ManualJournals", "Contacts", "Accounts"})


def collection_named(segment: str) -> Collection | None:
    """Xero's paths are case-insensitive (`/invoices` works as well as `/Invoices`)."""
    return COLLECTIONS.get(segment.lower())
