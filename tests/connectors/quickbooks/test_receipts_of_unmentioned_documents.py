"""A document the kept answer under a request id leaves out, found by the lookup that follows and adopted inside the
push, gets its receipts there and then: the engine attaches receipts of adopted items only before the push, so
nothing else would, and the item would succeed without them."""

from dataclasses import replace

from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.quickbooks import QuickBooksConnector
from core.domain import RemoteDocument
from core.errors import OutcomeUnknown
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.quickbooks.conftest import QboWorld, bill_of
from tests.connectors.quickbooks.test_push import RECEIPT
from tests.connectors.quickbooks.test_receipts_after_failure import attachables_of


async def test_a_document_left_out_of_the_kept_answer_and_adopted_still_gets_its_receipt(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """As in test_split_resends: the answer kept under the batch's request id does not mention `other`, which
    QuickBooks holds already (created by a send that stopped before its receipt went). It is adopted; its receipt
    must then be attached (or the item left unsettled), not dropped."""
    with world.control() as control:
        control.put(f"/realms/{MAIN_REALM}/preferences", json={"duplicate_doc_number_check": False}).raise_for_status()
    first = bill_of(world.seeded, "ll-rv-kept-a", attachments=(RECEIPT,))
    other = bill_of(world.seeded, "ll-rv-kept-b", attachments=(RECEIPT,))
    key = connector.request_keys([first, other])[0]
    [sent] = await connector.push([replace(first, request_key=key)])
    assert isinstance(sent, RemoteDocument)
    [made] = await connector.push([replace(other, attachments=())])  # created; the send stopped before its receipt
    assert isinstance(made, RemoteDocument)
    assert attachables_of(world, made.remote_id) == []

    [outcome] = await connector.push([replace(other, request_key=key)])
    assert [bill["Id"] for bill in world.documents("Bill", "ll-rv-kept-b")] == [made.remote_id]  # not created twice
    unsettled = isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE
    assert unsettled or len(attachables_of(world, made.remote_id)) == 1, (
        f"adopted as {outcome!r} and reported done, but its receipt was never uploaded: "
        f"{attachables_of(world, made.remote_id)}"
    )
