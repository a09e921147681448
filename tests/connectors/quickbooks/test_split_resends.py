"""A batch's documents resent apart under the batch's request key (the first send never arrived; the engine resends
the unsettled ones in whatever claims they fall into): the first resend's answer is what QuickBooks keeps for that
`requestid`, so a later resend of the others is answered with it and finds them not mentioned. They were never
created under that key, so they must be created now, once, rather than stay unknown for ever."""

from dataclasses import replace

from connectors.quickbooks import QuickBooksConnector
from core.domain import RemoteDocument
from sandbox.quickbooks.constants import MAIN_REALM
from tests.connectors.quickbooks.conftest import QboWorld, bill_of


async def test_documents_of_one_batch_resent_apart_under_its_key_are_all_created_once(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    documents = [bill_of(world.seeded, f"ll-apart-{n}") for n in range(3)]
    key = connector.request_keys(documents)[0]
    resent = [replace(document, request_key=key) for document in documents]
    [first] = await connector.push(resent[:1])
    assert isinstance(first, RemoteDocument)

    others = await connector.push(resent[1:])
    assert all(isinstance(outcome, RemoteDocument) for outcome in others), others
    again = await connector.push(resent[1:])  # the same resend repeated (its answer lost): nothing new
    assert [outcome.remote_id for outcome in again if isinstance(outcome, RemoteDocument)] == [
        outcome.remote_id for outcome in others if isinstance(outcome, RemoteDocument)
    ]
    assert [len(world.documents("Bill", f"ll-apart-{n}")) for n in range(3)] == [1, 1, 1]


async def test_a_document_an_answer_leaves_out_but_quickbooks_holds_is_adopted_not_created_again(
    connector: QuickBooksConnector, world: QboWorld
) -> None:
    """Left out of the answer kept under its key, yet created meanwhile (under another request): the lookup before
    the re-keyed send finds it. With the company's duplicate-number warning off nothing else would stop a second."""
    with world.control() as control:
        control.put(f"/realms/{MAIN_REALM}/preferences", json={"duplicate_doc_number_check": False}).raise_for_status()
    first, other = bill_of(world.seeded, "ll-kept-a"), bill_of(world.seeded, "ll-kept-b")
    key = connector.request_keys([first, other])[0]
    [sent] = await connector.push([replace(first, request_key=key)])
    [made] = await connector.push([other])
    assert isinstance(sent, RemoteDocument) and isinstance(made, RemoteDocument)

    [outcome] = await connector.push([replace(other, request_key=key)])
    assert isinstance(outcome, RemoteDocument) and outcome.adopted and outcome.remote_id == made.remote_id
    assert len(world.documents("Bill", "ll-kept-b")) == 1
