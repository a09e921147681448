"""Read functions: readByQuery + readMore (legacy, lower-case `listtype`, `resultId` paging), query (XML filter,
upper-case `listtype`, offset paging), read by keys, lookup, inspect and getDimensions."""

from collections.abc import Iterable
from xml.etree.ElementTree import Element, SubElement

from sandbox.intacct.constants import (
    LINE_CONTAINERS,
    QUERY_DEFAULT_PAGESIZE,
    QUERY_MAX_PAGESIZE,
    READ_BY_QUERY_DEFAULT_PAGESIZE,
    READ_BY_QUERY_MAX_PAGESIZE,
)
from sandbox.intacct.context import Context, Handler, Outcome
from sandbox.intacct.envelope import records, text_element
from sandbox.intacct.errors import query_failed
from sandbox.intacct.filters import Predicate, matches, parse_filter, resolve_field, sort_key
from sandbox.intacct.querylang import parse_query
from sandbox.intacct.resultsets import ResultSet
from sandbox.intacct.schema import STANDARD_DIMENSIONS, Kind, ObjectDef
from sandbox.intacct.seed import Record
from sandbox.intacct.store import Table, visible


def _table(ctx: Context, body: Element) -> Table:
    name = (body.findtext("object") or "").strip()
    table = ctx.store.table(name) if name else None
    if table is None:
        raise query_failed(f"Object definition {name or '(empty)'} not found")
    return table


def _pagesize(body: Element, default: int, maximum: int) -> int:
    text = (body.findtext("pagesize") or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise query_failed(f"Invalid pagesize '{text}': use a whole number from 1 to {maximum}.")
    return int(text)


def _fields(definition: ObjectDef, names: Iterable[str]) -> tuple[str, ...]:
    wanted = [name.strip() for name in names if name.strip()]
    if not wanted or wanted == ["*"]:
        return definition.field_names
    return tuple(dict.fromkeys(resolve_field(definition, name).name for name in wanted))


def _rows(
    ctx: Context,
    table: Table,
    predicate: Predicate | None,
    *,
    show_private: bool = False,
    case_insensitive: bool = False,
) -> list[Record]:
    return [
        row
        for row in table.rows()
        if visible(row, ctx.entity, show_private) and (predicate is None or matches(predicate, row, case_insensitive))
    ]


def _legacy_page(result: ResultSet, page: list[Record]) -> Outcome:
    tag = result.object_name.lower()
    data = Element(
        "data",
        {
            "listtype": tag,
            "count": str(len(page)),
            "totalcount": str(len(result.rows)),
            "numremaining": str(result.remaining),
            "resultId": result.result_id if result.remaining else "",
        },
    )
    records(data, tag, page, result.fields)
    return Outcome(data=data)


def read_by_query(ctx: Context, body: Element) -> Outcome:
    table = _table(ctx, body)
    fields = _fields(table.definition, (body.findtext("fields") or "*").split(","))
    predicate = parse_query(body.findtext("query") or "", table.definition)
    pagesize = _pagesize(body, READ_BY_QUERY_DEFAULT_PAGESIZE, READ_BY_QUERY_MAX_PAGESIZE)
    result = ctx.result_sets.open(
        owner=ctx.owner,
        object_name=table.definition.name,
        fields=fields,
        rows=_rows(ctx, table, predicate),
        pagesize=pagesize,
    )
    outcome = _legacy_page(result, result.next_page())
    if not result.remaining:
        ctx.result_sets.close(result)
    return outcome


def read_more(ctx: Context, body: Element) -> Outcome:
    result_id = (body.findtext("resultId") or "").strip()
    object_name = (body.findtext("object") or "").strip()
    result = ctx.result_sets.find(ctx.owner, result_id=result_id, object_name=object_name)
    if result is None or not result.remaining:
        raise query_failed(
            f"There is no open result set for resultId '{result_id or object_name}': it does not "
            "exist, has expired or has been read to the end."
        )
    outcome = _legacy_page(result, result.next_page())
    if not result.remaining:
        ctx.result_sets.close(result)
    return outcome


def _order(rows: list[Record], definition: ObjectDef, orderby: Element | None) -> list[Record]:
    """Stable sort by each `<order>` (last one first), so ties keep record-number order."""
    for order in reversed(orderby.findall("order") if orderby is not None else []):
        field = resolve_field(definition, order.findtext("field") or "")
        rows.sort(
            key=lambda row: sort_key(field, row.get(field.name, "")), reverse=order.find("descending") is not None
        )
    return rows


def _option(body: Element, name: str) -> bool:
    return (body.findtext(f"options/{name}") or "").strip().lower() == "true"


def query(ctx: Context, body: Element) -> Outcome:
    table = _table(ctx, body)
    definition = table.definition
    select = body.find("select")
    if select is None or not len(select):
        raise query_failed("The select element needs at least one field.")
    if any(child.tag != "field" for child in select):
        raise query_failed("Aggregate functions in select are not supported by the sandbox; select fields only.")
    fields = _fields(definition, (child.text or "" for child in select))
    filter_element = body.find("filter")
    predicate = parse_filter(filter_element, definition) if filter_element is not None else None
    offset_text = (body.findtext("offset") or "0").strip() or "0"
    if not offset_text.isdigit():
        raise query_failed(f"Invalid offset '{offset_text}': use a whole number from 0.")
    offset = int(offset_text)
    pagesize = _pagesize(body, QUERY_DEFAULT_PAGESIZE, QUERY_MAX_PAGESIZE)
    rows = _rows(
        ctx,
        table,
        predicate,
        show_private=_option(body, "showprivate"),
        case_insensitive=_option(body, "caseinsensitive"),
    )
    rows = _order(rows, definition, body.find("orderby"))
    page = rows[offset : offset + pagesize]
    data = Element(
        "data",
        {
            "listtype": definition.name,
            "totalcount": str(len(rows)),
            "offset": str(offset),
            "count": str(len(page)),
            "numremaining": str(max(0, len(rows) - offset - len(page))),
        },
    )
    records(data, definition.name, page, fields)
    return Outcome(data=data)


def read(ctx: Context, body: Element) -> Outcome:
    table = _table(ctx, body)
    fields = _fields(table.definition, (body.findtext("fields") or "*").split(","))
    found = []
    for key in (body.findtext("keys") or "").split(","):
        row = table.get(int(key)) if key.strip().isdigit() else None
        if row is not None and visible(row, ctx.entity, False):
            found.append(row)
    tag = table.definition.name.lower()
    data = Element("data", {"listtype": tag, "count": str(len(found))})
    records(data, tag, found, fields)
    container = LINE_CONTAINERS.get(table.definition.name)
    if container is not None and fields == table.definition.field_names:
        for element, row in zip(data, found, strict=True):
            _lines(SubElement(element, container[0]), container[1], table.lines(int(row["RECORDNO"])))
    return Outcome(data=data)


def _lines(parent: Element, tag: str, lines: Iterable[Record]) -> None:
    """A document's lines as `read` returns them with every field: one element per line, each field the client
    sent (`TAXENTRIES.TAXENTRY.TRX_TAX` nested again as it came)."""
    for line in lines:
        element = SubElement(parent, tag)
        for key, value in line.items():
            *path, name = key.split(".")
            node = element
            for step in path:
                child = node.find(step)
                node = child if child is not None else SubElement(node, step)
            text_element(node, name, value)


def _type_element(parent: Element, definition: ObjectDef) -> Element:
    element = SubElement(parent, "Type", {"Name": definition.name, "DocumentType": ""})
    fields = SubElement(element, "Fields")
    for field in definition.fields:
        entry = SubElement(fields, "Field")
        text_element(entry, "ID", field.name)
        text_element(entry, "LABEL", field.name.replace("_", " ").replace(".", " ").title())
        text_element(entry, "DESCRIPTION", "")
        text_element(entry, "REQUIRED", "true" if field.name == definition.key else "false")
        text_element(entry, "READONLY", "true" if field.name in ("RECORDNO", "id", "WHENMODIFIED") else "false")
        text_element(entry, "DATATYPE", field.datatype)
        if field.valid_values:
            valid = SubElement(entry, "VALIDVALUES")
            for value in field.valid_values:
                text_element(valid, "VALIDVALUE", value)
        text_element(entry, "ISCUSTOM", "true" if definition.kind is Kind.DIMENSION else "false")
    SubElement(element, "Relationships")
    return element


def lookup(ctx: Context, body: Element) -> Outcome:
    data = Element("data")
    _type_element(data, _table(ctx, body).definition)
    return Outcome(data=data)


def inspect(ctx: Context, body: Element) -> Outcome:
    name = (body.findtext("object") or "*").strip()
    if name == "*":
        catalog = ctx.store.catalog
        data = Element("data", {"listtype": "All", "count": str(len(catalog))})
        for definition in catalog.values():
            text_element(data, "type", definition.label).set("typename", definition.name)
        return Outcome(data=data)
    definition = _table(ctx, body).definition
    data = Element("data", {"listtype": definition.name, "count": "1"})
    element = SubElement(data, "Type", {"Name": definition.name})
    fields = SubElement(element, "Fields")
    for field in definition.fields:
        text_element(fields, "Field", field.name)
    return Outcome(data=data)


def get_dimensions(ctx: Context, body: Element) -> Outcome:
    data = Element("data")
    dimensions = SubElement(data, "dimensions")
    entries = [(name, label, False) for name, label in STANDARD_DIMENSIONS]
    entries += [(name, ctx.store.catalog[name].label, True) for name in ctx.store.udd_names]
    for name, label, user_defined in entries:
        dimension = SubElement(dimensions, "dimension")
        text_element(dimension, "objectName", name)
        text_element(dimension, "objectLabel", label)
        text_element(dimension, "termLabel", label)
        text_element(dimension, "userDefinedDimension", "true" if user_defined else "false")
        text_element(dimension, "enabledInGL", "true")
    return Outcome(data=data)


READ_FUNCTIONS: dict[str, Handler] = {
    "readByQuery": read_by_query,
    "readMore": read_more,
    "query": query,
    "read": read,
    "lookup": lookup,
    "inspect": inspect,
    "getDimensions": get_dimensions,
}
