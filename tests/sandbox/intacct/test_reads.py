"""readByQuery/readMore and query: paging without duplicates or gaps, the query language, filters, entities."""

from collections.abc import Callable
from xml.sax.saxutils import escape

import pytest

from sandbox.intacct.constants import MULTI_ENTITY_COMPANY
from tests.sandbox.intacct.helpers import GatewayClient, Reply, function

Rows = list[dict[str, str]]


def read_by_query(object_name: str, query: str = "", fields: str = "*", pagesize: int = 1000) -> str:
    return function(
        f"<readByQuery><object>{object_name}</object><fields>{fields}</fields>"
        f"<query>{escape(query)}</query><pagesize>{pagesize}</pagesize></readByQuery>"
    )


def query(
    object_name: str, *fields: str, filter_xml: str = "", extra: str = "", pagesize: int = 2000, offset: int = 0
) -> str:
    select = "".join(f"<field>{field}</field>" for field in fields)
    filter_part = f"<filter>{filter_xml}</filter>" if filter_xml else ""
    return function(
        f"<query><object>{object_name}</object><select>{select}</select>{filter_part}{extra}"
        f"<pagesize>{pagesize}</pagesize><offset>{offset}</offset></query>"
    )


def everything(gateway: GatewayClient, session_id: str, object_name: str, *fields: str, extra: str = "") -> Rows:
    rows: Rows = []
    while True:
        reply = gateway.call(session_id, query(object_name, *fields, extra=extra, offset=len(rows)))
        rows += reply.rows()
        if reply.data().get("numremaining") == "0":
            return rows


def by_query(gateway: GatewayClient, session_id: str, object_name: str, query_text: str) -> Rows:
    reply = gateway.call(session_id, read_by_query(object_name, query_text, fields="RECORDNO,VENDORID,NAME,STATUS"))
    assert reply.statuses == ["success"], reply.errors
    return reply.rows()


@pytest.fixture
def session_id(gateway: GatewayClient) -> str:
    return gateway.open_session()


def test_read_by_query_and_read_more_page_without_duplicates_or_gaps(gateway: GatewayClient, session_id: str) -> None:
    first = gateway.call(session_id, read_by_query("GLACCOUNT", fields="RECORDNO,ACCOUNTNO"))
    data = first.data()
    assert (data.get("listtype"), data.get("count"), data.get("totalcount"), data.get("numremaining")) == (
        "glaccount",
        "1000",
        "2500",
        "1500",
    )
    result_id = data.get("resultId", "")
    assert result_id
    pages = [first.rows()]
    while pages[-1] and data.get("numremaining") != "0":
        reply = gateway.call(session_id, function(f"<readMore><resultId>{result_id}</resultId></readMore>"))
        data = reply.data()
        pages.append(reply.rows())

    numbers = [int(row["RECORDNO"]) for page in pages for row in page]
    assert [len(page) for page in pages] == [1000, 1000, 500]
    assert numbers == list(range(1, 2501))
    assert data.get("resultId") == ""
    done = gateway.call(session_id, function(f"<readMore><resultId>{result_id}</resultId></readMore>"))
    assert done.statuses == ["failure"]
    assert done.errors[0]["errorno"] == "Query Failed"


def test_read_more_pages_a_snapshot_while_data_changes(gateway: GatewayClient, session_id: str) -> None:
    first = gateway.call(session_id, read_by_query("VENDOR", fields="VENDORID", pagesize=1000))
    gateway.call(
        session_id, function("<create><VENDOR><VENDORID>V-NEW</VENDORID><NAME>New Co</NAME></VENDOR></create>")
    )

    rest = []
    while True:
        reply = gateway.call(session_id, function("<readMore><object>VENDOR</object></readMore>"))
        if reply.statuses != ["success"]:
            break
        rest += reply.rows()

    ids = [row["VENDORID"] for row in first.rows() + rest]
    assert len(ids) == len(set(ids)) == 2400
    assert "V-NEW" not in ids
    assert int(gateway.call(session_id, read_by_query("VENDOR", pagesize=1)).data().get("totalcount", "")) == 2401


@pytest.mark.parametrize(
    ("query_text", "expected"),
    [
        ("STATUS = 'F'", lambda row: row["STATUS"] == "inactive"),
        (
            "STATUS = 'active' AND NAME LIKE 'Summit%'",
            lambda row: row["STATUS"] == "active" and row["NAME"].startswith("Summit"),
        ),
        ("VENDORID IN ('V00001', 'V00002', 'V00999')", lambda row: row["VENDORID"] in {"V00001", "V00002", "V00999"}),
        (
            "VENDORID NOT IN ('V00001') AND RECORDNO <= 3",
            lambda row: row["VENDORID"] != "V00001" and int(row["RECORDNO"]) <= 3,
        ),
        (
            "RECORDNO > 2390 OR VENDORID = 'V00007'",
            lambda row: int(row["RECORDNO"]) > 2390 or row["VENDORID"] == "V00007",
        ),
        ("VENDORID != 'V00001' AND VENDORID <> 'V00002' AND RECORDNO < 5", lambda row: int(row["RECORDNO"]) in (3, 4)),
        (
            "NOT (STATUS = 'active') AND (NAME LIKE '%Labs%' OR NAME LIKE '%Media%')",
            lambda row: row["STATUS"] == "inactive" and ("Labs" in row["NAME"] or "Media" in row["NAME"]),
        ),
        ("recordno >= 10 and recordno < 12", lambda row: int(row["RECORDNO"]) in (10, 11)),
    ],
)
def test_read_by_query_language(
    gateway: GatewayClient, session_id: str, query_text: str, expected: Callable[[dict[str, str]], bool]
) -> None:
    everyone = everything(gateway, session_id, "VENDOR", "RECORDNO", "VENDORID", "NAME", "STATUS")

    found = by_query(gateway, session_id, "VENDOR", query_text)

    wanted = [row for row in everyone if expected(row)]
    assert [row["RECORDNO"] for row in found] == [row["RECORDNO"] for row in wanted]
    assert found


def test_read_by_query_compares_numbers_dates_and_escaped_quotes(gateway: GatewayClient, session_id: str) -> None:
    accounts = everything(gateway, session_id, "GLACCOUNT", "ACCOUNTNO", "WHENMODIFIED")
    in_range = [row for row in accounts if 70000 <= int(row["ACCOUNTNO"]) < 71000]
    reply = gateway.call(session_id, read_by_query("GLACCOUNT", "ACCOUNTNO >= 70000 AND ACCOUNTNO < 71000"))
    assert [row["ACCOUNTNO"] for row in reply.rows()] == [row["ACCOUNTNO"] for row in in_range]

    recent = gateway.call(session_id, read_by_query("GLACCOUNT", "WHENMODIFIED >= '10/01/2023 00:00:00'", pagesize=1))
    expected = sum(row["WHENMODIFIED"][6:10] + row["WHENMODIFIED"][:2] >= "202310" for row in accounts)
    assert int(recent.data().get("totalcount", "")) == expected

    quoted = gateway.call(session_id, read_by_query("VENDOR", r"NAME = 'Erin\'s Deli'"))
    assert quoted.statuses == ["success"] and quoted.rows() == []


@pytest.mark.parametrize(
    ("query_text", "message"),
    [("NOPE = 'x'", "Invalid field 'NOPE'"), ("RECORDNO = 'abc'", "Invalid number"), ("STATUS = ", "Invalid query")],
)
def test_read_by_query_refuses_bad_queries(
    gateway: GatewayClient, session_id: str, query_text: str, message: str
) -> None:
    reply = gateway.call(session_id, read_by_query("VENDOR", query_text))

    assert reply.statuses == ["failure"]
    assert reply.errors[0]["errorno"] == "Query Failed"
    assert message in reply.errors[0]["description2"]


def test_page_sizes_are_bounded(gateway: GatewayClient, session_id: str) -> None:
    too_big = gateway.call(
        session_id, read_by_query("VENDOR", pagesize=1001), query("VENDOR", "RECORDNO", pagesize=2001)
    )

    assert too_big.statuses == ["failure", "failure"]


def test_unknown_object_is_reported(gateway: GatewayClient, session_id: str) -> None:
    reply = gateway.call(session_id, read_by_query("VENDOR9"))

    assert reply.errors[0]["description2"] == "Object definition VENDOR9 not found"


def test_query_filters_as_the_sdk_sends_them(gateway: GatewayClient, session_id: str) -> None:
    vendors = everything(gateway, session_id, "VENDOR", "RECORDNO", "VENDORID", "NAME", "STATUS", "WHENMODIFIED")

    def ids(reply: Reply) -> list[str]:
        return [row["VENDORID"] for row in reply.rows()]

    both = gateway.call(
        session_id,
        query(
            "VENDOR",
            "VENDORID",
            filter_xml=(
                "<and><equalto><field>STATUS</field><value>active</value></equalto>"
                "<greaterthanorequalto><field>WHENMODIFIED</field><value>2023-10-01T00:00:00</value></greaterthanorequalto>"
                "</and>"
            ),
        ),
    )
    assert ids(both) == [
        row["VENDORID"]
        for row in vendors
        if row["STATUS"] == "active" and row["WHENMODIFIED"][6:10] + row["WHENMODIFIED"][:2] >= "202310"
    ]

    nested = gateway.call(
        session_id,
        query(
            "VENDOR",
            "VENDORID",
            filter_xml=(
                "<and><lessthan><field>RECORDNO</field><value>100</value></lessthan>"
                "<or><like><field>NAME</field><value>summit%</value></like>"
                "<in><field>VENDORID</field><value>V00001</value><value>V00050</value></in></or></and>"
            ),
            extra="<options><caseinsensitive>true</caseinsensitive></options>",
        ),
    )
    assert ids(nested) == [
        row["VENDORID"]
        for row in vendors
        if int(row["RECORDNO"]) < 100
        and (row["NAME"].lower().startswith("summit") or row["VENDORID"] in ("V00001", "V00050"))
    ]

    repeated = gateway.call(
        session_id,
        query(
            "VENDOR",
            "VENDORID",
            filter_xml=(
                "<or><equalto><field>VENDORID</field><value>V00003</value></equalto>"
                "<equalto><field>VENDORID</field><value>V00009</value></equalto></or>"
            ),
        ),
    )
    assert ids(repeated) == ["V00003", "V00009"]

    ranged = gateway.call(
        session_id,
        query(
            "VENDOR",
            "VENDORID",
            filter_xml=("<between><field>RECORDNO</field><value>5</value><value>7</value></between>"),
        ),
    )
    assert ids(ranged) == ["V00005", "V00006", "V00007"]

    empty = gateway.call(
        session_id,
        query("VENDOR", "VENDORID", filter_xml=("<isnull><field>DISPLAYCONTACT.EMAIL2</field></isnull>"), pagesize=1),
    )
    assert empty.data().get("totalcount") == "2400"


def test_query_orders_and_offsets(gateway: GatewayClient, session_id: str) -> None:
    order = "<orderby><order><field>ACCOUNTNO</field><descending/></order></orderby>"
    pages = [
        gateway.call(session_id, query("GLACCOUNT", "ACCOUNTNO", extra=order, pagesize=1000, offset=offset))
        for offset in (0, 1000, 2000)
    ]

    numbers = [int(row["ACCOUNTNO"]) for page in pages for row in page.rows()]
    assert numbers == sorted(numbers, reverse=True)
    assert len(set(numbers)) == 2500
    assert [page.data().get("numremaining") for page in pages] == ["1500", "500", "0"]
    assert pages[0].data().get("listtype") == "GLACCOUNT"


def test_query_unknown_select_field_fails(gateway: GatewayClient, session_id: str) -> None:
    reply = gateway.call(session_id, query("VENDOR", "NOT_A_FIELD"))

    assert reply.statuses == ["failure"]
    assert "NOT_A_FIELD" in reply.errors[0]["description2"]


def test_read_lookup_inspect_and_dimensions(gateway: GatewayClient, session_id: str) -> None:
    reply = gateway.call(
        session_id,
        function("<read><object>VENDOR</object><keys>1,3</keys><fields>VENDORID</fields></read>"),
        function("<lookup><object>APBILL</object></lookup>"),
        function("<inspect><object>*</object></inspect>"),
        function("<getDimensions/>"),
        query("PARTNER", "id", "name", pagesize=10),
    )

    assert reply.statuses == ["success"] * 5
    assert [row["VENDORID"] for row in reply.rows(0)] == ["V00001", "V00003"]
    fields = {field.findtext("ID"): field.findtext("DATATYPE") for field in reply.data(1).iter("Field")}
    assert fields["TOTALDUE"] == "DECIMAL" and fields["WHENDUE"] == "DATE" and fields["RECORDID"] == "TEXT"
    assert {entry.get("typename") for entry in reply.data(2)} >= {"APBILL", "GLACCOUNT", "EEACCOUNTLABEL"}
    dimensions = {
        entry.findtext("objectName"): entry.findtext("userDefinedDimension")
        for entry in reply.data(3).iter("dimension")
    }
    assert dimensions["DEPARTMENT"] == "false" and dimensions["PARTNER"] == "true"
    assert reply.data(4).get("totalcount") == "45"


def test_entities_see_shared_rows_and_their_own(gateway: GatewayClient) -> None:
    top = gateway.open_session(MULTI_ENTITY_COMPANY)
    e100 = gateway.open_session(MULTI_ENTITY_COMPANY, entity="E100")
    e200 = gateway.open_session(MULTI_ENTITY_COMPANY, entity="E200")
    show_private = "<options><showprivate>true</showprivate></options>"

    everyone = everything(gateway, top, "VENDOR", "VENDORID", "MEGAENTITYID", extra=show_private)
    owners = {row["VENDORID"]: row["MEGAENTITYID"] for row in everyone}
    assert set(owners.values()) == {"", "E100", "E200"}
    for session_id, entity in ((top, ""), (e100, "E100"), (e200, "E200")):
        seen = everything(gateway, session_id, "VENDOR", "VENDORID")
        assert {row["VENDORID"] for row in seen} == {
            vendor for vendor, owner in owners.items() if owner in ("", entity)
        }

    assert gateway.call(e100, read_by_query("LOCATION", "MEGAENTITYID = 'E200'")).rows() == []
