"""Receipts of documents adopted after a batch whose answer was lost: the batch was applied, so its documents are
there; their receipts must follow them as they would after a plain answer, not be left behind."""

from dataclasses import replace
from typing import Any

from connectors.quickbooks import QuickBooksConnector
from core.domain import RemoteDocument
from core.errors import OutcomeUnknown
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.conformance import inject
from tests.connectors.quickbooks.conftest import BATCH_OPERATION, QboWorld, bill_of
from tests.connectors.quickbooks.test_push import RECEIPT


def attachables_of(world: QboWorld, bill_id: str) -> list[dict[str, Any]]:
    return [
        attachable
        for attachable in world.documents("Attachable")
        if any(ref["EntityRef"]["value"] == bill_id for ref in attachable.get("AttachableRef", []))
    ]


async def test_documents_adopted_after_a_commit_then_fail_batch_get_their_receipts_once(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    documents = [bill_of(world.seeded, f"ll-ctf-receipt-{n}", attachments=(RECEIPT,)) for n in range(3)]
    keys = connector.request_keys(documents)
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="commit_then_fail", status=502, times=1)
    outcomes = await connector.push(documents)
    assert all(isinstance(outcome, RemoteDocument) and outcome.adopted for outcome in outcomes), outcomes
    bills = [outcome.remote_id for outcome in outcomes if isinstance(outcome, RemoteDocument)]
    assert [len(attachables_of(world, bill)) for bill in bills] == [1, 1, 1]

    # The same documents sent again under their request key (as after a crash): no receipt twice.
    await connector.push([replace(document, request_key=key) for document, key in zip(documents, keys, strict=True)])
    assert [len(attachables_of(world, bill)) for bill in bills] == [1, 1, 1]
    with world.control() as control:
        stored = control.get(f"/realms/{MAIN_REALM}/attachments/{attachables_of(world, bills[0])[0]['Id']}").json()
    assert stored["file"]["size"] == len(RECEIPT.content)


async def test_receipts_of_a_document_adopted_later_are_attached_once_however_often_asked(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """The send that created the bill stopped before its receipts went (here: its answer lost and the lookups after
    it failed, as a worker killed between the two would leave it). The engine adopts the bill by lookup later and
    hands it over: the receipts go then, once, whether asked once or again after a lost answer."""
    document = bill_of(world.seeded, "ll-adopted-receipt", attachments=(RECEIPT,))
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="commit_then_fail", status=502, times=1)
    inject(world.sandbox, system="quickbooks", operation=BATCH_OPERATION, mode="error", status=503, times=1)
    [unknown] = await connector.push([document])
    assert isinstance(unknown, OutcomeUnknown)
    [bill] = world.documents("Bill", "ll-adopted-receipt")
    assert attachables_of(world, bill["Id"]) == []

    found = await connector.find_by_reference(document.kind, document.reference)
    assert found is not None
    await connector.attach_to_adopted([(document, found)])
    await connector.attach_to_adopted([(document, found)])
    assert [attachable["FileName"] for attachable in attachables_of(world, bill["Id"])] == [RECEIPT.name]
