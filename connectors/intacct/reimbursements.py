"""Recording in Intacct a payment the source made: an AP payment (APPYMT) for a bill, a reimbursement request for an
expense report, each for what the document still owes in its own currency and each exactly once.

The amount and the payee come from the paid document itself (one `read` per object), so a document paid meanwhile
in Intacct is never paid twice. The payment is then a document like any other pushed one (`push.py`): its request's
control id derives from its reference and generation, sent with `uniqueid=true`, and the reference is kept in its
DESCRIPTION / memo. A replayed request is refused as used and the earlier payment adopted; a lost answer is settled
by looking the reference up.
"""

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from connectors.base import PaymentToRecord, RecordedPayment
from connectors.intacct.constants import CODE_INVALID_REFERENCE, CODE_MALFORMED, PAYMENT_METHOD, READ_KEYS_PER_CALL
from connectors.intacct.documents import REFERENCES
from connectors.intacct.envelope import Function
from connectors.intacct.gateway import Gateway, batch_control_id, new_control_id
from connectors.intacct.push import Folder, plan, send_plan
from connectors.intacct.reads import read_keys
from core.domain import Document, DocumentKind, DocumentLine, RemoteDocument
from core.errors import LedgerlineError, ValidationError

Outcome = RecordedPayment | LedgerlineError
Row = dict[str, str]

PAYMENTS = {DocumentKind.BILL: DocumentKind.PAYMENT, DocumentKind.EXPENSE_REPORT: DocumentKind.REIMBURSEMENT}
"""What pays each kind of document: an AP payment pays a bill, a reimbursement request an expense report."""
PAYEE_FIELDS = {DocumentKind.BILL: "VENDORID", DocumentKind.EXPENSE_REPORT: "EMPLOYEEID"}
DUE_FIELDS = ("RECORDNO", "TRX_TOTALDUE", "CURRENCY", "BASECURR")
"""What a document owes is TRX_TOTALDUE, in its own currency (a bill's, an expense report's reimbursement currency),
which is what a payment pays: TOTALDUE is the same debt in the base currency."""
METHOD_TAGS = {DocumentKind.PAYMENT: "APPYMT/PAYMENTMETHOD", DocumentKind.REIMBURSEMENT: "paymentmethod"}
"""Where the payment method sits in each payment's function body (the document builders write the default)."""


async def record_payments(gateway: Gateway, payments: Sequence[PaymentToRecord], max_functions: int) -> list[Outcome]:
    """Each payment recorded once, in requests of at most `max_functions` payments; one outcome per payment."""
    owed = await _owed(gateway, payments)
    outcomes: dict[int, Outcome] = {}
    due: list[tuple[int, PaymentToRecord, Document]] = []
    for position, payment in enumerate(payments):
        found = owed.get((payment.kind, payment.remote_id))
        if isinstance(found, LedgerlineError):
            outcomes[position] = found
        elif found is None:
            outcomes[position] = ValidationError(
                f"Sage Intacct has no {payment.kind.value} {payment.remote_id} to record a payment against.",
                code=CODE_INVALID_REFERENCE,
                hint="The document was deleted in Sage Intacct; pay it there or skip the item.",
            )
        elif (amount := _amount_due(found)) is None:
            outcomes[position] = ValidationError(
                f"Sage Intacct answered an unreadable amount due ({found.get('TRX_TOTALDUE')!r}) for "
                f"{payment.remote_id}.",
                code=CODE_MALFORMED,
            )
        elif amount <= 0:
            outcomes[position] = RecordedPayment(None, Decimal(0))
        else:
            due.append((position, payment, _payment_document(payment, found, amount)))
    for start in range(0, len(due), max_functions):
        sent = due[start : start + max_functions]
        results = await _send(
            gateway, [document for _, _, document in sent], [payment.method for _, payment, _ in sent]
        )
        for (position, _, document), result in zip(sent, results, strict=True):
            outcomes[position] = (
                RecordedPayment(result, Decimal(0) if result.adopted else document.total)
                if isinstance(result, RemoteDocument)
                else result
            )
    return [outcomes[position] for position in range(len(payments))]


async def _owed(
    gateway: Gateway, payments: Sequence[PaymentToRecord]
) -> dict[tuple[DocumentKind, str], Row | LedgerlineError]:
    """The paid documents as Intacct has them now (amount due, payee, currency), read in one request."""
    keys: dict[DocumentKind, list[str]] = {}
    for payment in payments:
        if payment.kind not in PAYMENTS:
            raise ValidationError(f"Sage Intacct records no payment of {payment.kind.value} documents.")
        keys.setdefault(payment.kind, []).append(payment.remote_id)
    reads: list[tuple[DocumentKind, list[str], Function]] = []
    for kind, ids in keys.items():
        fields = (*DUE_FIELDS, PAYEE_FIELDS[kind])
        for start in range(0, len(ids), READ_KEYS_PER_CALL):
            chunk = ids[start : start + READ_KEYS_PER_CALL]
            reads.append((kind, chunk, Function(new_control_id(), read_keys(REFERENCES[kind].object, fields, chunk))))
    if not reads:
        return {}
    answer = await gateway.call([function for _, _, function in reads])
    owed: dict[tuple[DocumentKind, str], Row | LedgerlineError] = {}
    for index, ((kind, chunk, _), result) in enumerate(zip(reads, answer.results, strict=True)):
        if not result.ok:
            owed.update(dict.fromkeys(((kind, remote_id) for remote_id in chunk), answer.error(index)))
            continue
        owed.update({(kind, row["RECORDNO"]): row for row in result.rows()})
    return owed


def _payment_document(payment: PaymentToRecord, paid: Row, amount: Decimal) -> Document:
    return Document(
        kind=PAYMENTS[payment.kind],
        reference=payment.reference,
        transaction_date=payment.paid_on,
        currency=paid.get("CURRENCY", ""),
        base_currency=paid.get("BASECURR") or None,
        lines=(DocumentLine(amount=amount),),
        counterparty=paid.get(PAYEE_FIELDS[payment.kind]) or None,
        account=payment.account,
        applies_to=payment.remote_id,
        generation=payment.generation,
    )


async def _send(
    gateway: Gateway, documents: Sequence[Document], methods: Sequence[str | None]
) -> list[RemoteDocument | LedgerlineError]:
    """Push the payment documents like any others (see `push.py`), each with its own method in place of the default."""
    folder = Folder(ready=True)  # payments carry no attachments
    batch = plan(documents, folder)
    for planned in batch.planned:
        _set_method(batch.functions[planned.function].body, planned.document.kind, methods[planned.position])
    control_id = batch_control_id([(document.reference, document.generation) for document in documents])
    return await send_plan(gateway, batch, len(documents), folder, control_id)


def _set_method(body: Element, kind: DocumentKind, method: str | None) -> None:
    field = body.find(METHOD_TAGS[kind])
    if field is not None:
        field.text = method or PAYMENT_METHOD


def _amount_due(row: Row) -> Decimal | None:
    """TRX_TOTALDUE as a Decimal; None when unreadable, which must never pass for "nothing due"."""
    try:
        due = Decimal(row.get("TRX_TOTALDUE", ""))
    except InvalidOperation:
        return None
    return due if due.is_finite() else None
