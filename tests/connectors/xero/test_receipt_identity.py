"""A receipt's upload is keyed and named by the receipt itself (its source file id), never by its place in one
attempt's list of receipts.

That list moves: `sync.receipts.ReceiptFetcher` drops a receipt the source no longer serves and sends the document
with the receipts it has. So when the first receipt went (its answer lost: `receipts_incomplete`) and is gone from the
source by the next attempt, the second moves to the first place. Keyed by place, it went under the first one's
Idempotency-Key, Xero refused the key as used for another request, and the receipt was lost while the item
succeeded; named by place, a receipt named alike took the first one's name and was skipped as attached."""

import hashlib
from dataclasses import replace

from connectors.constants import RECEIPTS_INCOMPLETE_CODE
from connectors.xero import XeroConnector
from core.domain import Attachment
from core.errors import OutcomeUnknown
from tests.connectors.conformance import inject
from tests.connectors.xero.conftest import XeroWorld, bill_of
from tests.connectors.xero.test_adversarial_faults import attachments

ATTACH = "PUT Invoices/{id}/Attachments"
TAXI = Attachment(name="taxi.pdf", content_type="application/pdf", content=b"%PDF-1.4 taxi receipt", source_id="fi1")
HOTEL = Attachment(name="hotel.pdf", content_type="application/pdf", content=b"%PDF-1.4 hotel receipt", source_id="fi2")


async def test_a_receipt_that_moves_up_a_place_is_not_dropped_under_its_neighbours_key(
    connector: XeroConnector, world: XeroWorld
) -> None:
    document = bill_of(world.seeded, "rv-x-shift", attachments=(TAXI, HOTEL), attachment_ids=("fi1", "fi2"))
    inject(world.sandbox, system="xero", operation=ATTACH, mode="commit_then_fail", times=1)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome
    assert [item["file_name"] for item in attachments(world)] == ["taxi.pdf"]  # hotel.pdf not sent yet

    # Next attempt: the engine adopts the bill; the source no longer serves taxi.pdf (ReceiptFetcher notes it as
    # missing and fills the document with the receipts it has), so the document carries hotel.pdf alone.
    found = await connector.find_by_reference(document.kind, document.reference)
    assert found is not None
    [result] = await connector.attach_to_adopted([(replace(document, attachments=(HOTEL,)), found)])

    names = sorted(item["file_name"] for item in attachments(world))
    unsettled = isinstance(result, OutcomeUnknown)
    assert unsettled or "hotel.pdf" in names, (
        f"attach_to_adopted said {result!r} (done), yet hotel.pdf was never attached: the bill has {names}"
    )


async def test_a_receipt_named_alike_that_moves_up_a_place_is_not_skipped_as_already_attached(
    connector: XeroConnector, world: XeroWorld
) -> None:
    """The same with receipts named alike (phones name them `receipt.jpg`): the second one, moved to the first
    place, takes the first one's name, the listing shows that name, and it is skipped as if attached."""
    taxi = Attachment(name="receipt.jpg", content_type="image/jpeg", content=b"taxi receipt", source_id="fi1")
    hotel = Attachment(name="receipt.jpg", content_type="image/jpeg", content=b"hotel receipt", source_id="fi2")
    document = bill_of(world.seeded, "rv-x-alike", attachments=(taxi, hotel), attachment_ids=("fi1", "fi2"))
    inject(world.sandbox, system="xero", operation=ATTACH, mode="commit_then_fail", times=1)
    [outcome] = await connector.push([document])
    assert isinstance(outcome, OutcomeUnknown) and outcome.code == RECEIPTS_INCOMPLETE_CODE, outcome

    found = await connector.find_by_reference(document.kind, document.reference)
    assert found is not None
    [result] = await connector.attach_to_adopted([(replace(document, attachments=(hotel,)), found)])

    hashes = {item["sha256"] for item in attachments(world)}
    unsettled = isinstance(result, OutcomeUnknown)
    assert unsettled or hashlib.sha256(hotel.content).hexdigest() in hashes, (
        f"attach_to_adopted said {result!r} (done), yet the hotel receipt was never attached: "
        f"{[item['file_name'] for item in attachments(world)]}"
    )
