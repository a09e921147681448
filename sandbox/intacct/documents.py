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
from sandbox.intacct.envelope import text_element
from sandbox.intacct.seed import Record
from sandbox.intacct.store import Lines, Table
from sandbox.intacct.values import format_amount, format_date, format_timestamp, parse_decimal


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


def apply_payment(table: Table, row: Record, amount: Decimal, paid_on: date, ctx_now: str) -> Record:
    """Record `amount` paid on a bill or expense report: totals, state (Paid / Partially Paid), payment date."""
    entered = parse_decimal(row.get("TOTALENTERED", "")) or Decimal(0)
    paid = (parse_decimal(row.get("TOTALPAID", "")) or Decimal(0)) + amount
    due = max(entered - paid, Decimal(0))
    updated = {
        **row,
        "TOTALPAID": format_amount(paid),
        "TOTALDUE": format_amount(due),
        "STATE": "Paid" if due == 0 else "Partially Paid",
        "WHENPAID": format_date(paid_on),
        "WHENMODIFIED": ctx_now,
    }
    for field, value in (("TRX_TOTALPAID", paid), ("TRX_TOTALDUE", due)):
        if field in updated:
            updated[field] = format_amount(value)
    table.replace(updated)
    return updated
