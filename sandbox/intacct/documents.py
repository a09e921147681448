"""Storing created documents (record number, URL, entity, stamps) and applying payments to them.

Payments come from APPYMT and reimbursement requests on the wire, and from the control API (`mark paid`), so
payment sync can be tested either way; all of them land here.
"""

import base64
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.constants import RECORD_URL_BASE
from sandbox.intacct.context import Context
from sandbox.intacct.currencies import convert, format_money
from sandbox.intacct.envelope import text_element
from sandbox.intacct.seed import Record
from sandbox.intacct.store import Lines, Table
from sandbox.intacct.values import format_date, format_timestamp, parse_decimal


def entity_fields(ctx: Context) -> Record:
    if not ctx.entity:
        return {"MEGAENTITYKEY": "", "MEGAENTITYID": "", "MEGAENTITYNAME": ""}
    table = ctx.store.table("LOCATIONENTITY")
    entity = table.find(ctx.entity) if table is not None else None
    return {
        "MEGAENTITYKEY": entity["RECORDNO"] if entity else "",
        "MEGAENTITYID": ctx.entity,
        "MEGAENTITYNAME": entity["NAME"] if entity else "",
    }


def store_document(ctx: Context, object_name: str, values: Record, lines: Lines = ()) -> Record:
    """Insert a document with every field of its object, the entity of the session and a record URL."""
    table = ctx.store.tables[object_name]
    now = ctx.clock.now()
    row = dict.fromkeys(table.definition.field_names, "")
    row.update(values)
    row.update(entity_fields(ctx))
    row["WHENMODIFIED"] = format_timestamp(now)
    if "AUWHENCREATED" in row:
        row["AUWHENCREATED"] = format_timestamp(now)
    stored = table.insert(row, lines)
    if "RECORD_URL" in stored:
        token = base64.urlsafe_b64encode(f"{ctx.store.company_id}:{object_name}:{stored['RECORDNO']}".encode())
        stored = {**stored, "RECORD_URL": RECORD_URL_BASE + token.decode().rstrip("=")}
        table.replace(stored)
    return stored


def created(rows: list[tuple[str, Record]], extra: dict[str, tuple[str, ...]]) -> Element:
    """The `data` of a generic create/update: `<data listtype="objects" count="n"><apbill><RECORDNO>…`."""
    data = Element("data", {"listtype": "objects", "count": str(len(rows))})
    for object_name, row in rows:
        element = SubElement(data, object_name.lower())
        for field in ("RECORDNO", *extra.get(object_name, ())):
            text_element(element, field, row[field])
    return data


def flatten(element: Element, prefix: str = "") -> Record:
    """Child elements as `FIELD` / `PARENT.FIELD` keys (`DISPLAYCONTACT.EMAIL1`)."""
    values: Record = {}
    for child in element:
        if len(child):
            values.update(flatten(child, f"{prefix}{child.tag}."))
        else:
            values[f"{prefix}{child.tag}"] = (child.text or "").strip()
    return values


def line_rows(lines: list[Element]) -> Lines:
    """Lines as stored: every field the client sent, flattened, plus the line number."""
    return tuple({**flatten(line), "LINE_NO": str(number)} for number, line in enumerate(lines, start=1))


def _figure(row: Record, field: str) -> Decimal:
    return parse_decimal(row.get(field, "")) or Decimal(0)


def amount_due(row: Record) -> Decimal:
    """What a document still owes in its own currency (`TRX_TOTALDUE`; `TOTALDUE` for one without it)."""
    return _figure(row, "TRX_TOTALDUE" if row.get("TRX_TOTALDUE") else "TOTALDUE")


def apply_payment(table: Table, row: Record, amount: Decimal, paid_on: date, ctx_now: str) -> Record:
    """Record `amount`, in the document's own currency, paid on a bill, expense report or card transaction: both
    currencies' paid and due totals, state (Paid / Partially Paid), payment date.

    The base figures follow at the document's rate; a payment settling what it owes settles its base total too
    (a gain or loss on exchange is not modelled)."""
    currency = row.get("CURRENCY", "")
    base = row.get("BASECURR") or currency
    entered = _figure(row, "TOTALENTERED")
    trx_entered = _figure(row, "TRX_TOTALENTERED") if row.get("TRX_TOTALENTERED") else entered
    trx_paid = (_figure(row, "TRX_TOTALPAID") if row.get("TRX_TOTALPAID") else _figure(row, "TOTALPAID")) + amount
    trx_due = max(trx_entered - trx_paid, Decimal(0))
    rate = parse_decimal(row.get("EXCHANGE_RATE", "")) or Decimal(1)
    paid = entered if trx_due == 0 else min(_figure(row, "TOTALPAID") + convert(amount, rate, base), entered)
    due = entered - paid
    updated = {
        **row,
        "TOTALPAID": format_money(paid, base),
        "TOTALDUE": format_money(due, base),
        "TRX_TOTALPAID": format_money(trx_paid, currency),
        "TRX_TOTALDUE": format_money(trx_due, currency),
        "STATE": "Paid" if trx_due == 0 else "Partially Paid",
        "WHENPAID": format_date(paid_on),
        "WHENMODIFIED": ctx_now,
    }
    table.replace(updated)
    return updated
