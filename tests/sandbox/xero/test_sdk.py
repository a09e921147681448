"""The published `xero-python` SDK against the simulator, with only its base URLs changed (the token endpoint,
the identity API's and the accounting API's): the token refresh, connections, reads, and every write Ledgerline
makes — bills with an idempotency key and summarize_errors=False, spend money, manual journals, a payment and a
receipt attachment — each answer parsed into the SDK's models."""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from xero_python.accounting import (
    Account,
    AccountingApi,
    BankTransaction,
    BankTransactions,
    Contact,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    LineItemTracking,
    ManualJournal,
    ManualJournalLine,
    ManualJournals,
    Payment,
)
from xero_python.api_client import ApiClient, Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from sandbox.xero.constants import CLIENT_ID, CLIENT_SECRET, MAIN_TENANT, SEEDED_REFRESH_TOKEN, UK_TENANT
from tests.sandbox.xero.conftest import Xero

SCOPES = ["offline_access", "accounting.invoices", "accounting.settings", "accounting.contacts"]


@pytest.fixture
def sdk(xero: Xero, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[AccountingApi, IdentityApi, ApiClient]]:
    monkeypatch.setattr(TokenApi, "refresh_token_url", f"{xero.base}/identity/connect/token")
    monkeypatch.setattr(TokenApi, "revoke_token_url", f"{xero.base}/identity/connect/revocation")
    store: dict[str, Any] = {}
    client = ApiClient(
        Configuration(oauth2_token=OAuth2Token(client_id=CLIENT_ID, client_secret=CLIENT_SECRET)),
        pool_threads=1,
        oauth2_token_getter=lambda: store.get("token"),
        oauth2_token_saver=lambda token: store.update(token=token),
    )
    client.set_oauth2_token(
        {
            "access_token": "none-yet",
            "refresh_token": SEEDED_REFRESH_TOKEN,
            "scope": SCOPES,
            "expires_in": 0,
            "token_type": "Bearer",
            "expires_at": 0,
        }
    )
    refreshed = client.refresh_oauth2_token()
    assert refreshed["refresh_token"] != SEEDED_REFRESH_TOKEN
    yield (
        AccountingApi(client, base_url=f"{xero.base}/api.xro/2.0"),
        IdentityApi(client, base_url=xero.base),
        client,
    )


def test_connections_and_reads(sdk: tuple[AccountingApi, IdentityApi, ApiClient]) -> None:
    accounting, identity, _ = sdk
    connections = identity.get_connections()
    assert {str(c.tenant_id) for c in connections} == {MAIN_TENANT, UK_TENANT}
    assert connections[0].created_date_utc is not None
    organisation = accounting.get_organisations(MAIN_TENANT).organisations[0]
    assert organisation.base_currency.value == "USD" and organisation.short_code
    accounts = accounting.get_accounts(MAIN_TENANT, where='Type=="BANK"').accounts
    assert {a.code for a in accounts} == {"090", "091"} and accounts[0].updated_date_utc.year >= 2026
    contacts = accounting.get_contacts(MAIN_TENANT, page=1, page_size=5)
    assert len(contacts.contacts) == 5 and contacts.pagination.item_count == 21
    categories = accounting.get_tracking_categories(MAIN_TENANT).tracking_categories
    assert {c.name for c in categories} == {"Region", "Department"} and categories[0].options
    assert {r.tax_type for r in accounting.get_tax_rates(MAIN_TENANT).tax_rates} == {"NONE", "INPUT"}


def _contact(accounting: AccountingApi) -> str:
    return str(accounting.get_contacts(MAIN_TENANT, where='Name=="Delta Hotels"').contacts[0].contact_id)


def test_bills_with_idempotency_key_and_partial_errors(sdk: tuple[AccountingApi, IdentityApi, ApiClient]) -> None:
    accounting, _, _ = sdk
    contact = Contact(contact_id=_contact(accounting))
    line = LineItem(
        description="Hotel",
        quantity=1.0,
        unit_amount=120.5,
        account_code="493",
        tracking=[LineItemTracking(name="Region", option="North")],
    )
    good = Invoice(
        type="ACCPAY",
        contact=contact,
        date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        invoice_number="SDK-1",
        reference="report R-1",
        status="AUTHORISED",
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[line],
    )
    bad = Invoice(
        type="ACCPAY",
        contact=contact,
        date=date(2026, 11, 20),
        invoice_number="SDK-2",
        line_items=[LineItem(description="x", unit_amount=1.0, account_code="999")],
    )
    created = accounting.create_invoices(
        MAIN_TENANT, Invoices(invoices=[good, bad]), summarize_errors=False, idempotency_key="sdk-batch-1"
    )
    first, second = created.invoices
    assert first.status_attribute_string == "OK" and first.total == Decimal("120.5")
    assert first.date == date(2026, 11, 20) and first.updated_date_utc is not None
    assert second.has_errors and second.validation_errors[0].message
    again = accounting.create_invoices(
        MAIN_TENANT, Invoices(invoices=[good, bad]), summarize_errors=False, idempotency_key="sdk-batch-1"
    )
    assert again.invoices[0].invoice_id == first.invoice_id
    found = accounting.get_invoices(MAIN_TENANT, where='InvoiceNumber=="SDK-1"', page=1)
    assert [inv.invoice_id for inv in found.invoices] == [first.invoice_id]
    by_number = accounting.get_invoices(MAIN_TENANT, invoice_numbers=["SDK-1"])
    assert len(by_number.invoices) == 1
    with pytest.raises(ApiException) as refused:
        accounting.create_invoices(MAIN_TENANT, Invoices(invoices=[bad]))
    assert refused.value.status == 400

    attachment = accounting.create_invoice_attachment_by_file_name(
        MAIN_TENANT, first.invoice_id, "receipt.pdf", b"%PDF-1.4 receipt", idempotency_key="sdk-att-1"
    )
    assert attachment.attachments[0].file_name == "receipt.pdf"

    payment = accounting.create_payment(
        MAIN_TENANT,
        Payment(
            invoice=Invoice(invoice_id=first.invoice_id),
            account=Account(code="090"),
            date=date(2026, 11, 25),
            amount=120.5,
            reference="SDK-P-1",
        ),
    )
    assert payment.payments[0].amount == 120.5
    assert accounting.get_invoice(MAIN_TENANT, first.invoice_id).invoices[0].status == "PAID"


def test_spend_money_and_manual_journals(sdk: tuple[AccountingApi, IdentityApi, ApiClient]) -> None:
    accounting, _, _ = sdk
    spend = BankTransaction(
        type="SPEND",
        contact=Contact(contact_id=_contact(accounting)),
        bank_account=Account(code="091"),
        date=date(2026, 11, 21),
        reference="SDK-C-1",
        line_items=[LineItem(description="Lunch", quantity=1.0, unit_amount=18.4, account_code="420")],
    )
    created = accounting.create_bank_transactions(
        MAIN_TENANT, BankTransactions(bank_transactions=[spend]), summarize_errors=False, idempotency_key="sdk-bt-1"
    )
    assert created.bank_transactions[0].bank_transaction_id and created.bank_transactions[0].type == "SPEND"
    journal = ManualJournal(
        narration="SDK-J-1",
        date=date(2026, 11, 22),
        journal_lines=[
            ManualJournalLine(line_amount=55.0, account_code="493", description="Train"),
            ManualJournalLine(line_amount=-55.0, account_code="800", description="Owed"),
        ],
    )
    journals = accounting.create_manual_journals(
        MAIN_TENANT, ManualJournals(manual_journals=[journal]), summarize_errors=False, idempotency_key="sdk-mj-1"
    )
    assert journals.manual_journals[0].manual_journal_id and len(journals.manual_journals[0].journal_lines) == 2
