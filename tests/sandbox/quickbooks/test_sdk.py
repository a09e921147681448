"""The published `intuit-oauth` and `python-quickbooks` packages against the simulator, changed only in their base
URLs: `AuthClient` takes the simulator's discovery document in place of its environment name, and the QuickBooks
client's `api_url_v3` points at the simulator. (requests-oauthlib refuses plain http unless
OAUTHLIB_INSECURE_TRANSPORT is set, so the test sets it; the sandbox serves loopback http.)"""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from intuitlib.client import AuthClient  # type: ignore[import-untyped]
from intuitlib.enums import Scopes  # type: ignore[import-untyped]
from intuitlib.exceptions import AuthClientError  # type: ignore[import-untyped]
from quickbooks import QuickBooks  # type: ignore[import-untyped]
from quickbooks.batch import batch_create  # type: ignore[import-untyped]
from quickbooks.cdc import change_data_capture  # type: ignore[import-untyped]
from quickbooks.exceptions import QuickbooksException  # type: ignore[import-untyped]
from quickbooks.objects.account import Account  # type: ignore[import-untyped]
from quickbooks.objects.attachable import Attachable  # type: ignore[import-untyped]
from quickbooks.objects.base import AttachableRef, Ref  # type: ignore[import-untyped]
from quickbooks.objects.bill import Bill  # type: ignore[import-untyped]
from quickbooks.objects.detailline import (  # type: ignore[import-untyped]
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
)
from quickbooks.objects.journalentry import (  # type: ignore[import-untyped]
    JournalEntry,
    JournalEntryLine,
    JournalEntryLineDetail,
)
from quickbooks.objects.purchase import Purchase  # type: ignore[import-untyped]
from quickbooks.objects.vendor import Vendor  # type: ignore[import-untyped]

from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM
from tests.sandbox.quickbooks.conftest import Qbo

REDIRECT = "https://app.ledgerline.test/oauth/quickbooks/callback"


@pytest.fixture
def auth_client(qbo: Qbo, monkeypatch: pytest.MonkeyPatch) -> AuthClient:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    discovery = f"{qbo.base}/.well-known/openid_sandbox_configuration/"
    return AuthClient(CLIENT_ID, CLIENT_SECRET, REDIRECT, discovery)


def consent(qbo: Qbo, url: str) -> dict[str, str]:
    """Open the consent page the SDK's URL names, choose the main company and allow; return the callback query."""
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and "Connect" in page.text
    form = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    response = httpx.post(url.split("?")[0], data=form | {"decision": "allow", "realmId": MAIN_REALM}, timeout=10)
    assert response.status_code == 302
    return {key: values[0] for key, values in parse_qs(urlsplit(response.headers["location"]).query).items()}


@pytest.fixture
def client(qbo: Qbo, auth_client: AuthClient) -> Iterator[QuickBooks]:
    callback = consent(qbo, auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-1"))
    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    quickbooks = QuickBooks(
        auth_client=auth_client, refresh_token=auth_client.refresh_token, company_id=MAIN_REALM, minorversion=75
    )
    quickbooks.api_url_v3 = f"{qbo.base}/v3"
    yield quickbooks


def _bill(account_id: str, vendor_id: str, doc_number: str, amounts: list[str]) -> Bill:
    bill = Bill()
    bill.VendorRef = Ref()
    bill.VendorRef.value = vendor_id
    bill.DocNumber = doc_number
    bill.TxnDate = "2026-11-20"
    for amount in amounts:
        line = AccountBasedExpenseLine()
        line.Amount = Decimal(amount)
        line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
        line.AccountBasedExpenseLineDetail.AccountRef = Ref()
        line.AccountBasedExpenseLineDetail.AccountRef.value = account_id
        bill.Line.append(line)
    return bill


def _journal_line(posting: str, account_id: str, amount: str) -> JournalEntryLine:
    line = JournalEntryLine()
    line.Amount = Decimal(amount)
    line.JournalEntryLineDetail = JournalEntryLineDetail()
    line.JournalEntryLineDetail.PostingType = posting
    line.JournalEntryLineDetail.AccountRef = Ref()
    line.JournalEntryLineDetail.AccountRef.value = account_id
    return line


def _ids(client: QuickBooks) -> tuple[str, str, str]:
    travel = Account.filter(Name="Travel", qb=client)[0].Id
    payable = Account.filter(Name="Employee Reimbursements Payable", qb=client)[0].Id
    vendor = Vendor.filter(DisplayName="Delta Air Lines", qb=client)[0].Id
    return travel, payable, vendor


def test_sdk_completes_oauth_with_state_and_realm_then_refreshes_to_a_new_refresh_token(
    qbo: Qbo, auth_client: AuthClient
) -> None:
    url = auth_client.get_authorization_url([Scopes.ACCOUNTING], state_token="csrf-42")
    assert url.startswith(f"{qbo.base}/connect/oauth2?")
    callback = consent(qbo, url)
    assert callback["state"] == "csrf-42" and callback["realmId"] == MAIN_REALM

    auth_client.get_bearer_token(callback["code"], realm_id=callback["realmId"])
    first_refresh = auth_client.refresh_token
    assert auth_client.access_token and auth_client.expires_in == 3600
    assert auth_client.x_refresh_token_expires_in == 100 * 24 * 3600

    auth_client.refresh()
    assert auth_client.refresh_token != first_refresh
    with pytest.raises(AuthClientError) as refused:
        auth_client.get_bearer_token(callback["code"], realm_id=MAIN_REALM)  # a code works once
    assert refused.value.status_code == 400


def test_sdk_revoke_ends_the_grant(qbo: Qbo, auth_client: AuthClient, client: QuickBooks) -> None:
    assert auth_client.revoke(token=auth_client.refresh_token) is True
    with pytest.raises(AuthClientError):
        auth_client.refresh()


def test_sdk_creates_a_bill_and_a_journal_entry_and_queries_them_back(client: QuickBooks) -> None:
    travel, payable, vendor = _ids(client)
    bill = _bill(travel, vendor, "SDK-BILL-1", ["120.50", "9.50"]).save(qb=client)
    assert bill.Id and bill.TotalAmt == 130 and bill.SyncToken == "0"

    journal = JournalEntry()
    journal.DocNumber = "SDK-JE-1"
    journal.TxnDate = "2026-11-21"
    journal.Line = [_journal_line("Debit", travel, "45.10"), _journal_line("Credit", payable, "45.10")]
    saved = journal.save(qb=client)
    assert saved.Id and saved.TotalAmt == 45.1

    found = Bill.filter(DocNumber="SDK-BILL-1", qb=client)
    assert [found_bill.Id for found_bill in found] == [bill.Id]
    assert Bill.get(bill.Id, qb=client).Balance == 130
    assert [entry.Id for entry in JournalEntry.where("DocNumber = 'SDK-JE-1'", qb=client)] == [saved.Id]
    assert JournalEntry.count(qb=client) == 1


def test_sdk_update_with_a_stale_sync_token_is_refused_with_5010(client: QuickBooks) -> None:
    travel, _, vendor = _ids(client)
    bill = _bill(travel, vendor, "SDK-BILL-2", ["10"]).save(qb=client)
    bill.PrivateNote = "first edit"
    bill.save(qb=client)
    bill.PrivateNote = "second edit, from the stale copy"
    with pytest.raises(QuickbooksException) as stale:
        bill.save(qb=client)
    assert stale.value.error_code == 5010


def test_sdk_unbalanced_journal_is_a_6000_validation_error(client: QuickBooks) -> None:
    travel, payable, _ = _ids(client)
    journal = JournalEntry()
    journal.Line = [_journal_line("Debit", travel, "10"), _journal_line("Credit", payable, "9.99")]
    with pytest.raises(QuickbooksException) as refused:  # the SDK has no class of its own for 6xxx codes
        journal.save(qb=client)
    assert refused.value.error_code == 6000


def test_sdk_batch_creates_bills_and_reports_a_faulty_one_per_item(client: QuickBooks) -> None:
    travel, _, vendor = _ids(client)
    bills = [_bill(travel, vendor, f"SDK-BATCH-{number}", ["25"]) for number in range(3)]
    bills.append(_bill("999999", vendor, "SDK-BATCH-BAD", ["25"]))

    result = batch_create(bills, qb=client)

    assert sorted(bill.DocNumber for bill in result.successes) == ["SDK-BATCH-0", "SDK-BATCH-1", "SDK-BATCH-2"]
    assert len(result.faults) == 1
    assert result.faults[0].Error[0].code == "2500"
    assert result.faults[0].original_object.DocNumber == "SDK-BATCH-BAD"
    assert len(Bill.where("DocNumber LIKE 'SDK-BATCH-%'", qb=client)) == 3


def test_sdk_change_data_capture_lists_new_bills(client: QuickBooks) -> None:
    travel, _, vendor = _ids(client)
    bill = _bill(travel, vendor, "SDK-CDC-1", ["5"]).save(qb=client)
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="seconds")
    changes = change_data_capture([Bill, Vendor], since, qb=client)
    assert [changed.Id for changed in changes.Bill] == [bill.Id]


def test_sdk_creates_a_vendor_a_card_purchase_and_uploads_a_receipt_to_it(client: QuickBooks) -> None:
    vendor = Vendor()
    vendor.DisplayName = "Sandbox Taxi Co"
    vendor = vendor.save(qb=client)
    assert vendor.Id and vendor.DisplayName == "Sandbox Taxi Co"

    travel = Account.filter(Name="Ground Transportation", qb=client)[0].Id
    card = Account.filter(Name="Corporate Visa", qb=client)[0].Id
    purchase = Purchase()
    purchase.PaymentType = "CreditCard"
    purchase.AccountRef = Ref()
    purchase.AccountRef.value = card
    purchase.EntityRef = Ref()
    purchase.EntityRef.value, purchase.EntityRef.type = vendor.Id, "Vendor"
    purchase.DocNumber = "SDK-CC-1"
    line = AccountBasedExpenseLine()
    line.Amount = Decimal("42.00")
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = Ref()
    line.AccountBasedExpenseLineDetail.AccountRef.value = travel
    purchase.Line.append(line)
    purchase = purchase.save(qb=client)
    assert purchase.TotalAmt == 42 and purchase.PaymentType == "CreditCard"

    attachment = Attachable()
    reference = AttachableRef()
    reference.EntityRef = Ref()
    reference.EntityRef.value, reference.EntityRef.type = purchase.Id, "Purchase"
    attachment.AttachableRef.append(reference)
    attachment.FileName = "taxi.pdf"
    attachment.ContentType = "application/pdf"
    attachment._FileBytes = b"%PDF-1.4 taxi receipt"
    saved = attachment.save(qb=client)
    assert saved.Id and saved.Size == len(b"%PDF-1.4 taxi receipt")
    assert saved.AttachableRef[0].EntityRef.value == purchase.Id
