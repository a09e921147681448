"""Pushing to Xero, checked against exactly what goes on the wire and answers the simulator cannot give: per-item
refusals inside a 200, the Idempotency-Key of a batch and of its resend, an answer that leaves a document out, an
unreadable 200, a PUT that failed after it may have been applied, lock dates."""

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal

import httpx

from core.domain import DocumentLine, RemoteDocument
from core.errors import DestinationRejected, OutcomeUnknown, PeriodClosed, Transient, ValidationError
from tests.connectors.xero.documents import CONTACT, RECEIPT, TRAVEL, bill, journal, spend
from tests.connectors.xero.fake_xero import TENANT, FakeXero


def body_of(request: httpx.Request) -> dict[str, list[dict[str, object]]]:
    loaded: dict[str, list[dict[str, object]]] = json.loads(request.content)
    return loaded


async def test_one_put_per_batch_with_per_item_outcomes_and_the_tenant() -> None:
    fake = FakeXero(
        refuse=lambda body: ["Account code 'X' is not a valid code."] if body["InvoiceNumber"] == "b2" else []
    )
    async with fake.connector() as connector:
        outcomes = await connector.push([bill("b1"), bill("b2"), bill("b3")])
    assert isinstance(outcomes[0], RemoteDocument) and isinstance(outcomes[2], RemoteDocument)
    assert isinstance(outcomes[1], DestinationRejected) and not outcomes[1].retriable
    [put] = fake.sent("PUT", "/Invoices")
    assert put.url.params["summarizeErrors"] == "false"
    assert put.headers["xero-tenant-id"] == TENANT
    assert len(put.headers["Idempotency-Key"]) <= 128
    sent = body_of(put)["Invoices"]
    assert [item["InvoiceNumber"] for item in sent] == ["b1", "b2", "b3"]
    first = sent[0]
    assert first["Type"] == "ACCPAY" and first["Status"] == "AUTHORISED" and first["CurrencyCode"] == "NZD"
    assert first["Contact"] == {"ContactID": CONTACT}
    assert first["LineItems"][0]["Description"].startswith("tx1 ")  # type: ignore[index]
    assert first["LineItems"][0]["AccountID"] == TRAVEL  # type: ignore[index]


async def test_a_value_xero_cannot_take_is_a_validation_error() -> None:
    fake = FakeXero(refuse=lambda body: ["Email address must be valid."])
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("v1")])
    assert isinstance(outcome, ValidationError) and not isinstance(outcome, DestinationRejected)


async def test_the_key_is_stable_across_a_resend_and_new_for_a_new_generation() -> None:
    fake = FakeXero()
    async with fake.connector() as connector:
        documents = [bill("k1"), bill("k2")]
        keys = connector.request_keys(documents)
        assert keys[0] == keys[1]
        again = connector.request_keys([bill("k2"), bill("k1")])
        assert again == keys  # in any order
        assert connector.request_keys([bill("k1", generation=1), bill("k2")])[0] != keys[0]
        first = await connector.push(documents)
        resent = await connector.push([replace(document, request_key=keys[0]) for document in documents])
    puts = fake.sent("PUT", "/Invoices")
    assert len(puts) == 2 and puts[0].headers["Idempotency-Key"] == puts[1].headers["Idempotency-Key"]
    assert [outcome.remote_id for outcome in resent if isinstance(outcome, RemoteDocument)] == [
        outcome.remote_id for outcome in first if isinstance(outcome, RemoteDocument)
    ]
    assert len(fake.documents["Invoices"]) == 2


async def test_a_batch_of_kinds_goes_as_one_put_per_collection() -> None:
    fake = FakeXero()
    async with fake.connector() as connector:
        outcomes = await connector.push([bill("m1"), spend("m2"), journal("m3")])
    assert all(isinstance(outcome, RemoteDocument) for outcome in outcomes)
    [spent] = body_of(fake.sent("PUT", "/BankTransactions")[0])["BankTransactions"]
    assert spent["Type"] == "SPEND" and spent["Reference"] == "m2" and spent["Contact"] == {"Name": "Cafe Uno"}
    [posted] = body_of(fake.sent("PUT", "/ManualJournals")[0])["ManualJournals"]
    assert posted["Narration"] == "m3"
    assert [line["LineAmount"] for line in posted["JournalLines"]] == [10.0, -10.0]  # type: ignore[attr-defined]


async def test_a_lock_date_is_period_closed_from_the_day_after_the_later_lock() -> None:
    message = "The document date cannot be before the period lock date, currently set at 30-Nov-2026"
    fake = FakeXero(refuse=lambda body: [message])
    fake.organisation |= {
        "PeriodLockDate": "/Date(1795996800000+0000)/",
        "EndOfYearLockDate": "/Date(1774915200000+0000)/",
    }
    async with fake.connector() as connector:
        outcomes = await connector.push([bill("l1"), bill("l2")])
    for outcome in outcomes:
        assert isinstance(outcome, PeriodClosed)
        assert outcome.closed_on == date(2026, 11, 20)
        assert outcome.first_open_day == date(2026, 12, 1)
    assert len(fake.sent("GET", "/Organisation")) == 1  # read once for the batch


async def test_a_lock_date_without_the_organisation_keeps_the_day_the_message_names() -> None:
    message = "The document date cannot be before the end of year lock date, currently set at 31-Mar-2026"
    fake = FakeXero(refuse=lambda body: [message])
    fake.hooks.append(lambda request: httpx.Response(503) if request.url.path.endswith("/Organisation") else None)
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("l3")])
    assert isinstance(outcome, PeriodClosed) and outcome.first_open_day == date(2026, 4, 1)


async def test_commit_then_fail_is_adopted_not_duplicated() -> None:
    fake = FakeXero()
    failed: list[bool] = []

    def commit_then_fail(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and not failed:
            failed.append(True)
            fake._put(request, "Invoices")
            return httpx.Response(502)
        return None

    fake.hooks.append(commit_then_fail)
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("c1")])
    assert isinstance(outcome, RemoteDocument) and outcome.adopted
    assert len(fake.documents["Invoices"]) == 1
    [lookup] = fake.sent("GET", "/Invoices")
    assert lookup.url.params["InvoiceNumbers"] == "c1"
    assert "DELETED" not in lookup.url.params["Statuses"] and "VOIDED" not in lookup.url.params["Statuses"]


async def test_a_failed_put_whose_lookup_fails_stays_unknown() -> None:
    fake = FakeXero()
    fake.hooks.append(lambda request: httpx.Response(502))
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("u1")])
    assert isinstance(outcome, OutcomeUnknown)


async def test_an_unreadable_200_is_unknown_then_settled_by_the_lookup() -> None:
    fake = FakeXero()

    def garbled(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT":
            fake._put(request, "Invoices")
            return httpx.Response(200, content=b'{"Invoices": [')
        return None

    fake.hooks.append(garbled)
    async with fake.connector() as connector:
        [found] = await connector.push([bill("g1")])
    assert isinstance(found, RemoteDocument) and found.adopted

    lost = FakeXero()
    lost.hooks.append(lambda request: httpx.Response(200, content=b"<html>") if request.method == "PUT" else None)
    lost.hooks.append(lambda request: httpx.Response(500) if request.method == "GET" else None)
    async with lost.connector() as connector:
        [unknown] = await connector.push([bill("g2")])
    assert isinstance(unknown, OutcomeUnknown)


async def test_a_document_the_answer_leaves_out_is_looked_up_then_sent_under_a_new_key() -> None:
    fake = FakeXero()

    def drop_second(request: httpx.Request) -> httpx.Response | None:
        if request.method == "PUT" and len(fake.sent("PUT", "/Invoices")) == 1:
            body = body_of(request)["Invoices"][:1]
            created = {**body[0], "InvoiceID": "1d4a0b4e-1111-4222-8333-944455556666"}
            fake.documents["Invoices"].append(created)
            return httpx.Response(200, json={"Invoices": [created]})
        return None

    fake.hooks.append(drop_second)
    async with fake.connector() as connector:
        outcomes = await connector.push([bill("d1"), bill("d2")])
    assert all(isinstance(outcome, RemoteDocument) for outcome in outcomes)
    puts = fake.sent("PUT", "/Invoices")
    assert len(puts) == 2 and puts[0].headers["Idempotency-Key"] != puts[1].headers["Idempotency-Key"]
    assert [item["InvoiceNumber"] for item in body_of(puts[1])["Invoices"]] == ["d2"]
    assert len(fake.documents["Invoices"]) == 2


async def test_an_item_without_id_or_refusal_is_looked_up() -> None:
    fake = FakeXero()
    fake.hooks.append(
        lambda request: (
            httpx.Response(200, json={"Invoices": [{"InvoiceNumber": "n1"}]}) if request.method == "PUT" else None
        )
    )
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("n1")])
    assert isinstance(outcome, Transient) and not isinstance(outcome, OutcomeUnknown)  # proved absent: send again


async def test_receipts_go_once_each_under_their_own_key() -> None:
    fake = FakeXero()
    second = replace(RECEIPT, name="hotel.png", content_type="image/png")
    async with fake.connector() as connector:
        [created] = await connector.push([bill("r1", attachments=(RECEIPT, second))])
        assert isinstance(created, RemoteDocument)
        fake.documents["Invoices"][0]["Attachments"] = [{"FileName": "receipt.pdf"}]
        fake.hooks.append(
            lambda request: (
                httpx.Response(200, json={"Attachments": [{"FileName": "receipt.pdf"}]})
                if request.method == "GET" and request.url.path.endswith("/Attachments")
                else None
            )
        )
        await connector.attach_to_adopted([(bill("r1", attachments=(RECEIPT, second)), created)])
    puts = fake.sent("PUT", "/receipt.pdf") + fake.sent("PUT", "/hotel.png")
    assert len(fake.sent("PUT", "/receipt.pdf")) == 1  # already there: not sent again
    assert len(fake.sent("PUT", "/hotel.png")) == 2  # resent under the same key, which Xero answers once
    keys = {request.url.path: request.headers["Idempotency-Key"] for request in puts}
    assert len(set(keys.values())) == 2
    assert puts[0].content == RECEIPT.content


async def test_a_foreign_bill_states_its_currency_and_rate() -> None:
    fake = FakeXero()
    lines = (DocumentLine(amount=Decimal("100.00"), account=TRAVEL, base_amount=Decimal("160.00"), source_ids=("tx",)),)
    async with fake.connector() as connector:
        await connector.push([bill("f1", currency="USD", lines=lines)])
        [refused] = await connector.push([journal("f2", currency="USD")])  # base-currency only, and no base amounts
    assert isinstance(refused, ValidationError)
    assert not fake.sent("PUT", "/ManualJournals")
    [sent] = body_of(fake.sent("PUT", "/Invoices")[0])["Invoices"]
    assert sent["CurrencyCode"] == "USD" and sent["CurrencyRate"] == 0.625


async def test_part_of_a_batch_resent_under_its_key_is_looked_up_not_refused() -> None:
    fake = FakeXero()
    refused = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "The idempotency key has already been used for a different request.",
    }
    async with fake.connector() as connector:
        documents = [bill("p1"), bill("p2")]
        key = connector.request_keys(documents)[0]
        [created, _] = await connector.push(documents)
        fake.hooks.append(
            lambda request: (
                httpx.Response(400, json=refused)
                if request.method == "PUT" and request.headers["Idempotency-Key"].startswith(key)
                else None
            )
        )
        fake.documents["Invoices"] = fake.documents["Invoices"][:1]  # p2 never made it
        outcomes = await connector.push([replace(document, request_key=key) for document in documents])
    assert isinstance(outcomes[0], RemoteDocument) and outcomes[0].adopted
    assert isinstance(created, RemoteDocument) and outcomes[0].remote_id == created.remote_id
    assert isinstance(outcomes[1], RemoteDocument) and not outcomes[1].adopted
    last = fake.sent("PUT", "/Invoices")[-1]
    assert [item["InvoiceNumber"] for item in body_of(last)["Invoices"]] == ["p2"]
    assert not last.headers["Idempotency-Key"].startswith(key)
    assert len(fake.documents["Invoices"]) == 2


async def test_an_account_imported_by_code_is_named_by_code() -> None:
    fake = FakeXero()
    line = DocumentLine(amount=Decimal("9.99"), account="420", source_ids=("tx7",))
    async with fake.connector() as connector:
        await connector.push([bill("a1", lines=(line,)), spend("a2", account="090")])
    [sent] = body_of(fake.sent("PUT", "/Invoices")[0])["Invoices"]
    assert sent["LineItems"] == [{"AccountCode": "420", "Description": "tx7", "Quantity": 1, "UnitAmount": 9.99}]
    assert sent["LineAmountTypes"] == "NoTax"
    [spent] = body_of(fake.sent("PUT", "/BankTransactions")[0])["BankTransactions"]
    assert spent["BankAccount"] == {"Code": "090"}


async def test_a_whole_request_refused_fails_each_document_without_a_lookup() -> None:
    fake = FakeXero()
    elements = [{"ValidationErrors": [{"Message": "The Contact is archived."}]}]
    refused = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "A validation exception",
        "Elements": elements,
    }
    fake.hooks.append(lambda request: httpx.Response(400, json=refused) if request.method == "PUT" else None)
    async with fake.connector() as connector:
        outcomes = await connector.push([bill("w1"), bill("w2")])
    assert all(isinstance(outcome, DestinationRejected) for outcome in outcomes)
    assert "archived" in outcomes[0].message  # type: ignore[union-attr]
    assert not fake.sent("GET", "/Invoices")


async def test_a_derived_key_refused_too_leaves_the_documents_to_send_again_later() -> None:
    fake = FakeXero()
    refused = {
        "ErrorNumber": 10,
        "Type": "ValidationException",
        "Message": "The idempotency key has already been used for a different request.",
    }
    fake.hooks.append(lambda request: httpx.Response(400, json=refused) if request.method == "PUT" else None)
    async with fake.connector() as connector:
        [outcome] = await connector.push([bill("z1")])
    assert isinstance(outcome, Transient) and not isinstance(outcome, OutcomeUnknown)
    assert len(fake.sent("PUT", "/Invoices")) == 2  # the key, then one derived from it; never a third
