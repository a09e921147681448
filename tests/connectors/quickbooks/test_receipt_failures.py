"""A receipt upload QuickBooks refuses or loses leaves the document created, and never raised out of the push.
One that may pass (a 5xx, an answer lost) leaves the document unsettled, so the next attempt finds it by its
reference and attaches the receipt then — never a second bill, never a lost receipt, never a receipt twice. One
refused for good leaves the bill standing without it."""

from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.quickbooks import QuickBooksConnector
from core.domain import DocumentKind, RemoteDocument
from core.errors import OutcomeUnknown
from tests.connectors.conformance import inject
from tests.connectors.quickbooks.conftest import QboWorld, bill_of
from tests.connectors.quickbooks.test_push import RECEIPT
from tests.connectors.quickbooks.test_receipts_after_failure import attachables_of

UPLOAD_OPERATION = "POST upload"


async def _found_again(connector: QuickBooksConnector, reference: str) -> RemoteDocument:
    """What the engine's next attempt does first with an unsettled item: look it up (then attach what it lacks)."""
    found = await connector.find_by_reference(DocumentKind.BILL, reference)
    assert found is not None
    return found


async def test_a_failed_receipt_upload_leaves_the_bill_unsettled_until_its_receipt_is_attached(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    document = bill_of(world.seeded, "ll-upload-503", attachments=(RECEIPT,))
    inject(world.sandbox, system="quickbooks", operation=UPLOAD_OPERATION, mode="error", status=503, times=2)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome
    [bill] = world.documents("Bill", "ll-upload-503")
    assert attachables_of(world, bill["Id"]) == []

    found = await _found_again(connector, document.reference)
    [again] = await connector.attach_to_adopted([(document, found)])  # the upload fails a second time
    assert isinstance(again, OutcomeUnknown) and again.code == RECEIPTS_INCOMPLETE_CODE, again
    assert await connector.attach_to_adopted([(document, found)]) == [None]
    assert [bill["Id"] for bill in world.documents("Bill", "ll-upload-503")] == [found.remote_id]
    assert len(attachables_of(world, found.remote_id)) == 1


async def test_an_upload_applied_then_answered_with_a_failure_attaches_its_receipt_once(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    document = bill_of(world.seeded, "ll-upload-ctf", attachments=(RECEIPT,))
    inject(world.sandbox, system="quickbooks", operation=UPLOAD_OPERATION, mode="commit_then_fail", status=502, times=1)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome
    found = await _found_again(connector, document.reference)
    assert await connector.attach_to_adopted([(document, found)]) == [None]
    assert len(attachables_of(world, found.remote_id)) == 1


async def test_a_receipt_refused_for_good_leaves_the_bill_created(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    inject(world.sandbox, system="quickbooks", operation=UPLOAD_OPERATION, mode="error", status=400, times=1)
    [outcome] = await connector.push([bill_of(world.seeded, "ll-upload-400", attachments=(RECEIPT,))])
    assert isinstance(outcome, RemoteDocument) and not outcome.adopted, outcome
    assert [bill["Id"] for bill in world.documents("Bill", "ll-upload-400")] == [outcome.remote_id]
