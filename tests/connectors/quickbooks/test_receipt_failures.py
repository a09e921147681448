"""A receipt upload QuickBooks refuses or loses leaves the document created: the failure is classified and logged
(the multipart request, whose body is a stream, is described without its content), never raised out of the push."""

from connectors.quickbooks import QuickBooksConnector
from core.domain import RemoteDocument
from tests.connectors.conformance import inject
from tests.connectors.quickbooks.conftest import QboWorld, bill_of
from tests.connectors.quickbooks.test_push import RECEIPT

UPLOAD_OPERATION = "POST upload"


async def test_a_failed_receipt_upload_leaves_the_bill_created(connector: QuickBooksConnector, world: QboWorld) -> None:
    inject(world.sandbox, system="quickbooks", operation=UPLOAD_OPERATION, mode="error", status=503, times=1)
    [outcome] = await connector.push([bill_of(world.seeded, "ll-upload-503", attachments=(RECEIPT,))])
    assert isinstance(outcome, RemoteDocument) and not outcome.adopted, outcome
    assert [bill["Id"] for bill in world.documents("Bill", "ll-upload-503")] == [outcome.remote_id]


async def test_an_upload_applied_then_answered_with_a_failure_leaves_the_bill_and_its_receipt(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    inject(world.sandbox, system="quickbooks", operation=UPLOAD_OPERATION, mode="commit_then_fail", status=502)
    [outcome] = await connector.push([bill_of(world.seeded, "ll-upload-ctf", attachments=(RECEIPT,))])
    assert isinstance(outcome, RemoteDocument), outcome
    linked = [
        attachable
        for attachable in world.documents("Attachable")
        if any(ref["EntityRef"]["value"] == outcome.remote_id for ref in attachable.get("AttachableRef", []))
    ]
    assert len(linked) == 1
