"""Write functions: generic `create`/`update` (one or more objects, all or nothing) and the legacy functions."""

from collections.abc import Callable
from xml.etree.ElementTree import Element

from sandbox.intacct.attachments import create_folder, create_supdoc
from sandbox.intacct.context import Context, Handler, Outcome
from sandbox.intacct.documents import created
from sandbox.intacct.errors import IntacctError, business
from sandbox.intacct.expenses import (
    create_expense_report,
    create_reimbursement,
    record_charge_card_transaction,
    update_charge_card_transaction,
    update_expense_report,
)
from sandbox.intacct.journals import create_journal
from sandbox.intacct.payables import create_bill, create_payment, create_vendor, update_bill
from sandbox.intacct.seed import Record

ObjectWriter = Callable[[Context, Element], Record]
CREATORS: dict[str, ObjectWriter] = {
    "APBILL": create_bill,
    "GLBATCH": create_journal,
    "APPYMT": create_payment,
    "VENDOR": create_vendor,
}
UPDATERS: dict[str, ObjectWriter] = {"APBILL": update_bill}
RETURNED: dict[str, tuple[str, ...]] = {"VENDOR": ("VENDORID",)}
"""Fields the response carries besides RECORDNO, per object."""


def _generic(writers: dict[str, ObjectWriter], verb: str) -> Handler:
    def handle(ctx: Context, body: Element) -> Outcome:
        if not len(body):
            raise IntacctError(business(f"The {verb} function names no object."))
        rows = []
        for element in body:
            writer = writers.get(element.tag)
            if writer is None:
                supported = ", ".join(writers)
                raise IntacctError(
                    business(
                        f"The sandbox cannot {verb} {element.tag} objects.", f"Objects it can {verb}: {supported}."
                    )
                )
            rows.append((element.tag, writer(ctx, element)))
        return Outcome(data=created(rows, RETURNED))

    return handle


WRITE_FUNCTIONS: dict[str, Handler] = {
    "create": _generic(CREATORS, "create"),
    "update": _generic(UPDATERS, "update"),
    "create_expensereport": create_expense_report,
    "update_expensereport": update_expense_report,
    "record_cctransaction": record_charge_card_transaction,
    "update_cctransaction": update_charge_card_transaction,
    "create_reimbursementrequest": create_reimbursement,
    "create_supdoc": create_supdoc,
    "create_supdocfolder": create_folder,
}
