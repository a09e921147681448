"""Reading from Xero and naming its failures, against exactly what goes on the wire: organisations a consent covers,
imports since a cursor (If-Modified-Since, paged contacts, archived values inactive, tracking categories as user
dimensions), payment status and payments recorded once, the books read back, and 401/403/429 (minute and day)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from connectors.base import PaymentToRecord, RecordedPayment
from core.domain import DocumentKind, DocumentLine, PaymentState, RemoteDocument
from core.errors import AuthError, RateLimited, ValidationError
from tests.connectors.xero.documents import CARD, TRAVEL, bill
from tests.connectors.xero.fake_xero import TENANT, FakeXero

OTHER_TENANT = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
REGION = "351953c4-8672-4a1b-9c5f-1f6d0e2b3a4c"
NORTH = "ce05a2c7-d1a1-4f0f-9c0d-5b3e2a1f0e9d"
SOUTH = "7a6b5c4d-3e2f-4a1b-8c9d-0e1f2a3b4c5d"


def limited(problem: str, retry_after: str) -> FakeXero:
    fake = FakeXero()
    headers = {"Retry-After": retry_after, "X-Rate-Limit-Problem": problem}
    fake.hooks.append(lambda request: httpx.Response(429, headers=headers))
    return fake


async def test_a_minute_limit_retries_after_its_seconds() -> None:
    async with limited("minute", "7").connector() as connector:
        with pytest.raises(RateLimited) as raised:
            await connector.check()
    assert raised.value.retry_at is not None
    assert timedelta(seconds=5) < raised.value.retry_at - datetime.now(UTC) <= timedelta(seconds=8)
    assert raised.value.code != "day_limit"


async def test_a_day_limit_defers_until_the_day_returns() -> None:
    async with limited("day", "43200").connector() as connector:
        with pytest.raises(RateLimited) as raised:
            await connector.check()
    assert raised.value.code == "day_limit"
    assert raised.value.retry_at is not None and raised.value.retry_at - datetime.now(UTC) > timedelta(hours=11)
    fake = FakeXero()
    fake.hooks.append(lambda request: httpx.Response(429, headers={"X-Rate-Limit-Problem": "day"}))
    async with fake.connector() as connector:
        with pytest.raises(RateLimited) as midnight:
            await connector.check()
    assert midnight.value.retry_at is not None
    assert midnight.value.retry_at.time() == datetime.min.time() and midnight.value.retry_at > datetime.now(UTC)


async def test_a_disconnected_organisation_is_an_auth_error() -> None:
    fake = FakeXero()
    fake.hooks.append(lambda request: httpx.Response(403, json={"Detail": "AuthorizationUnsuccessful"}))
    async with fake.connector() as connector:
        with pytest.raises(AuthError) as raised:
            await connector.check()
    assert "organisation" in raised.value.message


async def test_every_organisation_of_a_consent_is_an_account() -> None:
    fake = FakeXero()
    fake.lists["connections"] = [
        {"tenantId": TENANT, "tenantName": "Demo NZ", "tenantType": "ORGANISATION"},
        {"tenantId": OTHER_TENANT, "tenantName": "Demo AU", "tenantType": "ORGANISATION"},
        {"tenantId": "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", "tenantName": "Practice", "tenantType": "PRACTICEMANAGER"},
    ]
    async with fake.connector() as connector:
        accounts = await connector.authorized_accounts({})
    assert [(account.account_id, account.name) for account in accounts] == [
        (TENANT, "Demo NZ"),
        (OTHER_TENANT, "Demo AU"),
    ]
    assert accounts[1].settings == {"tenant_id": OTHER_TENANT}
    fake.lists["connections"] = []
    async with fake.connector() as connector:
        with pytest.raises(AuthError):
            await connector.authorized_accounts({})


async def test_imports_since_a_cursor_send_if_modified_since_and_page_contacts() -> None:
    fake = FakeXero()
    contacts = [{"ContactID": f"c{n}", "Name": f"Person {n}", "ContactStatus": "ACTIVE"} for n in range(1000)]
    contacts.append({"ContactID": "c-archived", "Name": "Gone", "ContactStatus": "ARCHIVED"})

    def paged(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/Contacts"):
            return None
        page, size = int(request.url.params["page"]), int(request.url.params["pageSize"])
        return httpx.Response(200, json={"Contacts": contacts[(page - 1) * size : page * size]})

    fake.hooks.append(paged)
    since = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
    async with fake.connector() as connector:
        values = [value async for value in connector.import_dimensions("contact", since=since)]
    assert len(values) == 1001 and [value.active for value in values].count(False) == 1
    requests = fake.sent("GET", "/Contacts")
    assert [request.url.params["page"] for request in requests] == ["1", "2"]
    assert all(request.headers["If-Modified-Since"] == "Tue, 01 Dec 2026 08:30:00 GMT" for request in requests)
    assert all(request.url.params["includeArchived"] == "true" for request in requests)


async def test_a_full_pass_sends_no_cursor_and_reads_archived_accounts_inactive() -> None:
    fake = FakeXero()
    fake.lists["Accounts"] = [
        {"AccountID": TRAVEL, "Code": "420", "Name": "Travel", "Type": "EXPENSE", "Status": "ACTIVE"},
        {"AccountID": CARD, "Name": "Visa", "Type": "BANK", "Status": "ACTIVE", "CurrencyCode": "NZD"},
        {"AccountID": "old", "Code": "999", "Name": "Old", "Type": "EXPENSE", "Status": "ARCHIVED"},
    ]
    async with fake.connector() as connector:
        values = [value async for value in connector.import_dimensions("account", since=None)]
    assert [(value.remote_id, value.code, value.active) for value in values] == [
        ("420", "420", True),
        (CARD, None, True),
        ("999", "999", False),
    ]
    assert values[1].detail["account_type"] == "BANK" and values[0].detail["account_id"] == TRAVEL
    assert "If-Modified-Since" not in fake.sent("GET", "/Accounts")[0].headers


async def test_tracking_categories_are_user_dimensions_and_lines_name_category_and_option() -> None:
    fake = FakeXero()
    options = [
        {"TrackingOptionID": NORTH, "Name": "North", "Status": "ACTIVE"},
        {"TrackingOptionID": SOUTH, "Name": "South", "Status": "ARCHIVED"},
    ]
    fake.lists["TrackingCategories"] = [
        {"TrackingCategoryID": REGION, "Name": "Region", "Status": "ACTIVE", "Options": options}
    ]
    async with fake.connector() as connector:
        types = await connector.attribute_types()
        values = [value async for value in connector.import_dimensions("tracking:Region", since=None)]
        line = DocumentLine(amount=Decimal("5.00"), account=TRAVEL, dimensions={"tracking:Region": NORTH})
        [created] = await connector.push([bill("t1", lines=(line,))])
    assert types == ("account", "contact", "tax_rate", "item", "tracking:Region")
    assert [(value.remote_id, value.name, value.active) for value in values] == [
        (NORTH, "North", True),
        (SOUTH, "South", False),
    ]
    assert isinstance(created, RemoteDocument)
    [sent] = fake.documents["Invoices"]
    assert sent["LineItems"][0]["Tracking"] == [
        {"TrackingCategoryID": REGION, "TrackingOptionID": NORTH, "Name": "Region", "Option": "North"}
    ]


async def test_payment_status_reads_bills_by_id() -> None:
    fake = FakeXero()
    fake.documents["Invoices"] += [
        {
            "InvoiceID": "a",
            "Status": "PAID",
            "AmountPaid": 50,
            "AmountDue": 0,
            "FullyPaidOnDate": "/Date(1795996800000+0000)/",
        },
        {
            "InvoiceID": "b",
            "Status": "AUTHORISED",
            "AmountPaid": 10,
            "AmountDue": 5,
            "Payments": [{"Date": "2026-11-02T00:00:00"}],
        },
        {"InvoiceID": "c", "Status": "AUTHORISED", "AmountPaid": 0, "AmountDue": 5},
    ]
    async with fake.connector() as connector:
        statuses = await connector.payment_status(DocumentKind.BILL, ["a", "b", "c"])
    assert [(status.state, status.paid_amount, status.paid_on) for status in statuses] == [
        (PaymentState.PAID, Decimal(50), date(2026, 11, 30)),
        (PaymentState.PARTIALLY_PAID, Decimal(10), date(2026, 11, 2)),
        (PaymentState.UNPAID, Decimal(0), None),
    ]
    assert fake.sent("GET", "/Invoices")[0].url.params["IDs"] == "a,b,c"


async def test_a_payment_is_looked_up_first_and_recorded_once() -> None:
    fake = FakeXero()
    bill_id = "2b9e2a64-5c4d-4e3f-8a1b-0c9d8e7f6a5b"
    fake.documents["Invoices"].append(
        {"InvoiceID": bill_id, "Type": "ACCPAY", "AmountDue": 150.75, "Status": "AUTHORISED"}
    )
    paid = PaymentToRecord(DocumentKind.BILL, bill_id, "ll-pay-1-paid", date(2026, 12, 2), CARD)
    async with fake.connector() as connector:
        [first] = await connector.record_payments([paid])
        [second] = await connector.record_payments([paid])
    assert isinstance(first, RecordedPayment) and first.amount == Decimal("150.75") and first.payment is not None
    assert isinstance(second, RecordedPayment) and second.amount == 0
    assert second.payment is not None and second.payment.adopted and second.payment.remote_id == first.payment.remote_id
    [put] = fake.sent("PUT", "/Payments")
    [sent] = fake.documents["Payments"]
    assert sent["Invoice"] == {"InvoiceID": bill_id} and sent["Account"] == {"AccountID": CARD}
    assert sent["Reference"] == "ll-pay-1-paid" and sent["Amount"] == 150.75
    lookups = fake.sent("GET", "/Payments")
    assert lookups[0].url.params["where"] == 'Reference=="ll-pay-1-paid"'
    assert put.headers["Idempotency-Key"]


async def test_the_books_read_back_lines_tax_included_without_deleted_documents() -> None:
    fake = FakeXero()

    def pages(request: httpx.Request) -> httpx.Response | None:
        if not request.url.path.endswith("/Invoices"):
            return None
        if request.url.params.get("page") != "1":
            return httpx.Response(200, json={"Invoices": []})
        rows = [
            {
                "InvoiceID": "i1",
                "Type": "ACCPAY",
                "Status": "AUTHORISED",
                "InvoiceNumber": "ll-1",
                "CurrencyCode": "NZD",
                "Date": "/Date(1795996800000+0000)/",
                "LineAmountTypes": "Exclusive",
                "LineItems": [{"LineAmount": 100, "TaxAmount": 15, "Description": "tx1 Flight"}],
            },
            {"InvoiceID": "i2", "Type": "ACCPAY", "Status": "DELETED", "InvoiceNumber": "ll-2", "LineItems": []},
        ]
        return httpx.Response(200, json={"Invoices": rows})

    fake.hooks.append(pages)
    async with fake.connector() as connector:
        booked = [document async for document in connector.booked_documents(DocumentKind.BILL, since=date(2026, 11, 1))]
        with pytest.raises(ValidationError):
            [document async for document in connector.booked_documents(DocumentKind.PAYMENT, since=date(2026, 11, 1))]
    assert [(document.remote_id, document.reference, document.transaction_date) for document in booked] == [
        ("i1", "ll-1", date(2026, 11, 30))
    ]
    assert [(line.amount, line.trace) for line in booked[0].lines] == [(Decimal(115), "tx1 Flight")]
    where = fake.sent("GET", "/Invoices")[0].url.params["where"]
    assert where == 'Type=="ACCPAY" AND Date >= DateTime(2026, 11, 01)'


async def test_short_lists_without_if_modified_since_are_read_whole() -> None:
    fake = FakeXero()
    fake.lists["TaxRates"] = [
        {"TaxType": "INPUT", "Name": "Tax on Purchases", "Status": "ACTIVE", "EffectiveRate": 8.5},
        {"TaxType": "OLD", "Name": "Old rate", "Status": "DELETED"},
    ]
    async with fake.connector() as connector:
        values = [value async for value in connector.import_dimensions("tax_rate", since=datetime.now(UTC))]
    assert [(value.remote_id, value.active) for value in values] == [("INPUT", True), ("OLD", False)]
    assert "If-Modified-Since" not in fake.sent("GET", "/TaxRates")[0].headers
