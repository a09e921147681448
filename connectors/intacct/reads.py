"""Read function bodies (readByQuery/readMore, query, read by keys, getDimensions) and their pages.

Imports use readByQuery + readMore: Intacct keeps a snapshot behind the `resultId`, so pages neither repeat nor
skip rows while data changes. Lookups by reference use `query` with an XML filter, so a reference needs XML
escaping only, never the quoting rules of the readByQuery string.
"""

from collections.abc import Iterable, Sequence
from xml.etree.ElementTree import Element, SubElement

from connectors.intacct.constants import CONTINUATION_SEPARATOR
from connectors.intacct.envelope import Result, text_element
from connectors.pagination import Page

Row = dict[str, str]


def read_by_query(object_name: str, fields: Sequence[str], query: str, page_size: int) -> Element:
    element = Element("readByQuery")
    text_element(element, "object", object_name)
    text_element(element, "fields", ",".join(fields))
    text_element(element, "query", query)
    text_element(element, "pagesize", str(page_size))
    return element


def read_more(token: str) -> Element:
    element = Element("readMore")
    text_element(element, "resultId", token.rpartition(CONTINUATION_SEPARATOR)[0])
    return element


def page(result: Result) -> Page[Row]:
    """A readByQuery/readMore page; its `resultId` continues it while rows remain.

    Intacct keeps one `resultId` for the whole result set, but the paginator takes a continuation seen twice for a
    loop, so the token is `resultId` plus the rows remaining: it changes on every page that makes progress and
    repeats exactly when the gateway serves the same position again.
    """
    data = result.data
    if data is None:
        return Page(records=[])
    remaining = int(data.get("numremaining") or 0)
    result_id = data.get("resultId") or ""
    total = data.get("totalcount")
    return Page(
        records=result.rows(),
        next_token=f"{result_id}{CONTINUATION_SEPARATOR}{remaining}" if remaining > 0 and result_id else None,
        total=int(total) if total else None,
    )


def query_equal(object_name: str, fields: Iterable[str], field: str, value: str) -> Element:
    """`SELECT fields FROM object WHERE field = value`, oldest record first."""
    element = Element("query")
    text_element(element, "object", object_name)
    select = SubElement(element, "select")
    for name in fields:
        text_element(select, "field", name)
    condition = SubElement(SubElement(element, "filter"), "equalto")
    text_element(condition, "field", field)
    text_element(condition, "value", value)
    order = SubElement(SubElement(element, "orderby"), "order")
    text_element(order, "field", "RECORDNO")
    return element


def read_keys(object_name: str, fields: Iterable[str], keys: Iterable[str]) -> Element:
    element = Element("read")
    text_element(element, "object", object_name)
    text_element(element, "keys", ",".join(keys))
    text_element(element, "fields", ",".join(fields))
    return element


def get_dimensions() -> Element:
    return Element("getDimensions")


def user_defined_dimensions(result: Result) -> list[str]:
    """Object names of the company's user-defined dimensions, from a getDimensions result."""
    data = result.data
    dimensions = data.findall("dimensions/dimension") if data is not None else []
    return [
        (dimension.findtext("objectName") or "").strip()
        for dimension in dimensions
        if (dimension.findtext("userDefinedDimension") or "").strip().lower() == "true"
    ]
