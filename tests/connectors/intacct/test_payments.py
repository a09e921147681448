"""Payment status: what Intacct says about a bill or expense report once someone pays it."""

from datetime import date
from decimal import Decimal

import httpx
import pytest

from connectors.intacct import IntacctConnector
from core.domain import Document, DocumentKind, PaymentState, PaymentStatus, RemoteDocument
from core.errors import ValidationError
from tests.connectors.intacct import factories


async def pushed(connector: IntacctConnector, *documents: Document) -> list[str]:
    outcomes = await connector.push(documents)
    created = [outcome for outcome in outcomes if isinstance(outcome, RemoteDocument)]
    assert len(created) == len(documents), outcomes
    return [outcome.remote_id for outcome in created]


async def test_bills_report_unpaid_partly_paid_and_paid(
    connector: IntacctConnector, control: httpx.AsyncClient
) -> None:
    unpaid, partly, paid = await pushed(connector, *(factories.bill(f"ll-ps-{n}") for n in range(3)))
    (
        await control.post(f"/documents/APBILL/{partly}/paid", json={"amount": "40", "paid_on": "2024-03-21"})
    ).raise_for_status()
    (await control.post(f"/documents/APBILL/{paid}/paid", json={"paid_on": "2024-03-22"})).raise_for_status()

    statuses = await connector.payment_status(DocumentKind.BILL, [paid, unpaid, partly, "999999"])

    assert statuses == [
        PaymentStatus(paid, PaymentState.PAID, Decimal("100.10"), date(2024, 3, 22)),
        PaymentStatus(unpaid, PaymentState.UNPAID, Decimal("0.00"), None),
        PaymentStatus(partly, PaymentState.PARTIALLY_PAID, Decimal("40.00"), date(2024, 3, 21)),
    ]
    assert all(isinstance(status.paid_amount, Decimal) for status in statuses)


async def test_an_expense_report_is_paid_by_a_reimbursement(connector: IntacctConnector) -> None:
    [report] = await pushed(connector, factories.expense_report("ll-ps-er"))
    await pushed(connector, factories.reimbursement("ll-ps-reimb", report))

    [status] = await connector.payment_status(DocumentKind.EXPENSE_REPORT, [report])

    assert (status.state, status.paid_amount, status.paid_on) == (
        PaymentState.PAID,
        Decimal("92.50"),
        date(2024, 3, 25),
    )


async def test_many_documents_are_read_in_chunks(connector: IntacctConnector, control: httpx.AsyncClient) -> None:
    ids = await pushed(connector, *(factories.bill(f"ll-ps-many-{n}") for n in range(45)))
    for remote_id in ids[::2]:
        (await control.post(f"/documents/APBILL/{remote_id}/paid", json={})).raise_for_status()

    statuses = await connector.payment_status(DocumentKind.BILL, ids * 3)

    assert [status.remote_id for status in statuses] == ids * 3
    assert [status.state for status in statuses[:4]] == [PaymentState.PAID, PaymentState.UNPAID] * 2


async def test_journal_entries_have_no_payment_status(connector: IntacctConnector) -> None:
    with pytest.raises(ValidationError):
        await connector.payment_status(DocumentKind.JOURNAL_ENTRY, ["1"])
