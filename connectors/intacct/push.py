"""Creating a batch of documents in one request, each exactly once.

Each document is its own function in a request with `uniqueid=true` whose control id is the documents' request key
(`IntacctConnector.request_keys`, derived from their references and generations; an unsettled document resent keeps
the key it first went out under): Intacct runs a control id once and refuses it afterwards. So:

- a lost answer (timeout, dropped connection, 5xx, off-line notice, unreadable body) may hide a commit → look every
  document up by reference at once, adopt what exists, and leave the rest unknown: the engine looks them up again
  before the next send, which resends them under the same control id — so that, if the first request is still on
  its way, whichever of the two arrives second is refused;
- a request refused because its control id already ran → look every document up: a document found is adopted, a
  document absent failed in that earlier run (settled: it is sent again under a new generation), and a failed lookup
  leaves it unknown.

Every document also stores its reference (`documents.REFERENCES`), which is what the lookups find. There is no
`transaction="true"`: one refused document must not take the others down with it.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from connectors.intacct.attachments import folder_body, supdoc_function, supdoc_id
from connectors.intacct.constants import CODE_CONTROL_ID_SPENT, CODE_CONTROL_ID_USED, DISPLAY_NAME
from connectors.intacct.documents import document_body
from connectors.intacct.envelope import Function
from connectors.intacct.errors import already_exists
from connectors.intacct.gateway import Answer, Gateway, new_control_id
from connectors.intacct.references import Found, find_many, record_urls
from core.domain import Document, RemoteDocument
from core.errors import LedgerlineError, OutcomeUnknown, Transient, ValidationError

Outcome = RemoteDocument | LedgerlineError


@dataclass
class Folder:
    """Whether the attachment folder is known to exist, so that it is created once per connector, not per batch."""

    ready: bool = False


@dataclass(frozen=True)
class Planned:
    position: int
    """Where the document sits in the batch (and its outcome in the answer)."""
    document: Document
    function: int
    """Index of the document's function in the request."""
    supdoc: int | None = None
    """Index of its attachments' `create_supdoc`, if it has any."""


@dataclass
class Plan:
    functions: list[Function] = field(default_factory=list)
    planned: list[Planned] = field(default_factory=list)
    refused: dict[int, LedgerlineError] = field(default_factory=dict)
    """Documents that cannot be valid as built: refused before any call."""
    folder: int | None = None


def _cost(document: Document, *, folder_planned: bool) -> int:
    """Functions a document adds to a request: its own, one for its attachments, and the attachment folder's if it
    is the request's first document with attachments."""
    if not document.attachments:
        return 1
    return 2 if folder_planned else 3


def batches(documents: Sequence[Document], max_functions: int) -> Iterator[Sequence[Document]]:
    """Cut documents into requests of at most `max_functions` functions (see `_cost`)."""
    batch: list[Document] = []
    used, folder_planned = 0, False
    for document in documents:
        cost = _cost(document, folder_planned=folder_planned)
        if batch and used + cost > max_functions:
            yield batch
            batch, used, folder_planned = [], 0, False
            cost = _cost(document, folder_planned=False)
        batch.append(document)
        used += cost
        folder_planned = folder_planned or bool(document.attachments)
    if batch:
        yield batch


def plan(documents: Sequence[Document], folder: Folder) -> Plan:
    result = Plan()
    if not folder.ready and any(document.attachments for document in documents):
        result.folder = len(result.functions)
        result.functions.append(Function(new_control_id(), folder_body()))
    seen: set[str] = set()
    for position, document in enumerate(documents):
        try:
            if document.reference in seen:
                raise ValidationError(
                    f"The reference {document.reference} appears twice in one batch.", code="duplicate_reference"
                )
            body = document_body(document, supdoc_id(document.reference) if document.attachments else None)
        except ValidationError as error:
            result.refused[position] = error
            continue
        seen.add(document.reference)
        supdoc = None
        if document.attachments:
            supdoc = len(result.functions)
            result.functions.append(supdoc_function(document))
        result.planned.append(Planned(position, document, len(result.functions), supdoc))
        result.functions.append(Function(document.reference, body))
    return result


def _cause(answer: Answer, planned: Planned) -> int:
    """The function to blame for a refused document: its attachments when they failed (the document then fails
    only for lack of them), else the document itself."""
    if planned.supdoc is not None:
        errors = answer.results[planned.supdoc].errors
        if errors and not already_exists(errors):
            return planned.supdoc
    return planned.function


async def push_batch(gateway: Gateway, documents: Sequence[Document], folder: Folder, control_id: str) -> list[Outcome]:
    return await send_plan(gateway, plan(documents, folder), len(documents), folder, control_id)


async def send_plan(gateway: Gateway, batch: Plan, count: int, folder: Folder, control_id: str) -> list[Outcome]:
    """Send a planned batch of `count` documents in one request under `control_id`; one outcome per document."""
    outcomes: dict[int, Outcome] = dict(batch.refused)
    if batch.planned:
        try:
            answer = await gateway.call(batch.functions, control_id=control_id)
        except LedgerlineError as error:
            outcomes.update(await _after_failure(gateway, batch.planned, error))
        else:
            if batch.folder is not None:
                folder_result = answer.results[batch.folder]
                folder.ready = folder_result.ok or already_exists(folder_result.errors)
            outcomes.update(await _outcomes(gateway, batch.planned, answer))
    return [outcomes[position] for position in range(count)]


async def _outcomes(gateway: Gateway, planned: Sequence[Planned], answer: Answer) -> dict[int, Outcome]:
    outcomes: dict[int, Outcome] = {}
    created: dict[int, str] = {}
    for item in planned:
        result = answer.results[item.function]
        if result.ok:
            created[item.position] = result.key
        else:
            outcomes[item.position] = answer.error(_cause(answer, item))
    kinds = {item.position: item.document.kind for item in planned}
    urls = await record_urls(gateway, [(kinds[position], remote_id) for position, remote_id in created.items()])
    for position, remote_id in created.items():
        outcomes[position] = RemoteDocument(remote_id, url=urls.get((kinds[position], remote_id)))
    return outcomes


async def _after_failure(gateway: Gateway, planned: Sequence[Planned], error: LedgerlineError) -> dict[int, Outcome]:
    """The whole request failed. If it may have been applied, adopt whatever the lookups find."""
    if error.code == CODE_CONTROL_ID_USED:
        return await _settle_spent(gateway, planned, error)
    outcomes: dict[int, Outcome] = {item.position: error for item in planned}
    if not isinstance(error, OutcomeUnknown):  # the answer proves nothing ran
        return outcomes
    try:
        found = await find_many(gateway, [(item.document.kind, item.document.reference) for item in planned])
    except LedgerlineError:
        return outcomes  # still unreachable: the original failure stands, and the retry looks up first
    for item, match in zip(planned, found, strict=True):
        if isinstance(match, RemoteDocument):
            outcomes[item.position] = match
    return outcomes


async def _settle_spent(gateway: Gateway, planned: Sequence[Planned], refusal: LedgerlineError) -> dict[int, Outcome]:
    """The request's control id already ran: each document is there (adopt it), or its function failed in that run
    (absent: settled, to be sent again under a new generation), or, while a lookup fails, unknown."""
    try:
        found: list[Found] = await find_many(
            gateway, [(item.document.kind, item.document.reference) for item in planned]
        )
    except LedgerlineError as error:
        found = [error] * len(planned)
    outcomes: dict[int, Outcome] = {}
    for item, match in zip(planned, found, strict=True):
        if isinstance(match, RemoteDocument):
            outcomes[item.position] = match
        elif match is None:
            outcomes[item.position] = Transient(
                f"{DISPLAY_NAME} had already run this batch's request, and {item.document.reference} is not in it: "
                "the earlier run refused it. It is sent again under a new control id.",
                code=CODE_CONTROL_ID_SPENT,
                hint="Nothing to do: the next attempt sends it again.",
                request=refusal.request,
                response=refusal.response,
            )
        else:
            outcomes[item.position] = OutcomeUnknown(
                f"{DISPLAY_NAME} had already run this batch's request, and looking {item.document.reference} up "
                f"failed ({match.message}).",
                code=CODE_CONTROL_ID_USED,
                hint="Before sending again, Ledgerline looks the document up by its reference.",
                request=refusal.request,
                response=refusal.response,
            )
    return outcomes
