"""Writes: validation like the real service, closed periods, balanced journals, payments, entities, references."""

import httpx
import pytest

from sandbox.intacct.constants import MULTI_ENTITY_COMPANY
from tests.sandbox.intacct.helpers import GatewayClient, Reply, function

Rows = list[dict[str, str]]


def bill_xml(
    *,
    vendor: str = "V00004",
    reference: str = "ll-1",
    date: str = "03/15/2024",
    due: str = "04/14/2024",
    lines: tuple[tuple[str, str], ...] = (("70004", "100.00"),),
    extra_line: str = "",
    extra: str = "",
) -> str:
    items = "".join(
        f"<APBILLITEM><ACCOUNTNO>{account}</ACCOUNTNO><TRX_AMOUNT>{amount}</TRX_AMOUNT>{extra_line}</APBILLITEM>"
        for account, amount in lines
    )
    return (
        f"<create><APBILL><VENDORID>{vendor}</VENDORID><RECORDID>{reference}</RECORDID>"
        f"<WHENCREATED>{date}</WHENCREATED><WHENDUE>{due}</WHENDUE>{extra}<APBILLITEMS>{items}</APBILLITEMS>"
        "</APBILL></create>"
    )


def journal_xml(*entries: tuple[str, str, str], date: str = "03/15/2024", journal: str = "GJ") -> str:
    lines = "".join(
        f"<GLENTRY><ACCOUNTNO>{account}</ACCOUNTNO><TR_TYPE>{side}</TR_TYPE><TRX_AMOUNT>{amount}</TRX_AMOUNT>"
        f"<DESCRIPTION>line</DESCRIPTION></GLENTRY>"
        for account, side, amount in entries
    )
    return (
        f"<create><GLBATCH><JOURNAL>{journal}</JOURNAL><BATCH_DATE>{date}</BATCH_DATE>"
        f"<BATCH_TITLE>ll-je-1</BATCH_TITLE><ENTRIES>{lines}</ENTRIES></GLBATCH></create>"
    )


def report_xml(*, employee: str = "1004", day: int = 15, amount: str = "80.00", description: str = "ll-er-1") -> str:
    return (
        f"<create_expensereport><employeeid>{employee}</employeeid><datecreated><year>2024</year><month>3</month>"
        f"<day>{day}</day></datecreated><state>Submitted</state><description>{description}</description>"
        f"<currency>USD</currency><expenses><expense><expensetype>Travel</expensetype><amount>{amount}</amount>"
        "<expensedate><year>2024</year><month>3</month><day>1</day></expensedate><memo>Taxi</memo></expense>"
        "</expenses></create_expensereport>"
    )


def rows_where(gateway: GatewayClient, session_id: str, object_name: str, query_text: str, fields: str) -> Rows:
    reply = gateway.call(
        session_id,
        function(
            f"<readByQuery><object>{object_name}</object><fields>{fields}</fields>"
            f"<query>{query_text}</query><pagesize>100</pagesize></readByQuery>"
        ),
    )
    assert reply.statuses == ["success"], reply.errors
    return reply.rows()


def descriptions(reply: Reply) -> list[str]:
    return [error["description2"] for error in reply.errors]


@pytest.fixture
def session_id(gateway: GatewayClient) -> str:
    return gateway.open_session()


def test_posting_into_a_closed_period_names_the_date_in_the_real_wording(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    control.put("/periods", json={"open_from": "2024-04-01"}).raise_for_status()

    reply = gateway.call(
        session_id,
        function(bill_xml(date="03/15/2024")),
        function(journal_xml(("70004", "1", "5"), ("10000", "-1", "5"), date="03/31/2024")),
        function(report_xml(day=20)),
        function(bill_xml(reference="ll-2", date="04/02/2024")),
    )

    assert reply.statuses == ["failure", "failure", "failure", "success"]
    assert descriptions(reply)[0] == (
        "Periods are closed. Your transaction date (03/15/2024) is within a period that's been closed."
    )
    assert "'Month Ended March 2024'" in reply.errors[0]["correction"]
    assert [row["RECORDID"] for row in control.get("/documents").json()["data"]] == ["ll-2"]


def test_unbalanced_journal_is_refused_and_balanced_one_posts(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    reply = gateway.call(
        session_id,
        function(journal_xml(("70004", "1", "100.00"), ("10000", "-1", "90.00"))),
        function(journal_xml(("70004", "1", "60.00"), ("70060", "1", "40"), ("10000", "-1", "100"))),
        function(journal_xml(("70004", "2", "1"), ("10000", "-1", "1"))),
    )

    assert reply.statuses == ["failure", "success", "failure"]
    assert reply.errors[0]["description2"].startswith("Debits and credits are not equal")
    stored = control.get("/documents", params={"object": "GLBATCH"}).json()["data"]
    assert [len(row["lines"]) for row in stored] == [3]
    assert stored[0]["JOURNAL"] == "GJ" and stored[0]["STATE"] == "Posted"


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        (bill_xml(vendor="V00013"), "The vendor 'V00013' is inactive."),
        (bill_xml(lines=(("99999", "1.00"),)), "Account 99999 is not valid"),
        (bill_xml(lines=(("70004", "12,50"),)), "TRX_AMOUNT '12,50' is not a valid number."),
        (bill_xml(due="03/01/2024"), "Date Due cannot be earlier than date of transaction"),
        (bill_xml(extra_line="<DEPARTMENTID>999</DEPARTMENTID>"), "Department 999 is not valid"),
        (bill_xml(extra_line="<PROJECTID>1</PROJECTID>"), "Invalid Project '1' specified."),
        (bill_xml(extra_line="<GLDIMPARTNER>Nobody</GLDIMPARTNER>"), "Invalid Partner 'Nobody' specified."),
        (bill_xml(extra="<CURRENCY>XXX</CURRENCY>"), "Currency XXX is not valid"),
        (bill_xml(date="31/03/2024"), "WHENCREATED '31/03/2024' is not a valid date."),
        (report_xml(employee="9999"), "The employee '9999' is invalid."),
        (journal_xml(("70004", "1", "1"), ("10000", "-1", "1"), journal="NOPE"), "Invalid Journal NOPE"),
    ],
)
def test_invalid_references_and_values_are_refused(
    gateway: GatewayClient, session_id: str, control: httpx.Client, xml: str, message: str
) -> None:
    reply = gateway.call(session_id, function(xml))

    assert reply.statuses == ["failure"]
    assert message in descriptions(reply)
    assert all(error["errorno"] == "BL01001973" for error in reply.errors)
    assert control.get("/counts").json()["objects"]["document"] == dict.fromkeys(
        ["APBILL", "GLBATCH", "APPYMT", "EEXPENSES", "CCTRANSACTION", "EPPAYMENT"], 0
    )


def test_documents_are_found_by_their_references(gateway: GatewayClient, session_id: str) -> None:
    card = (
        "<record_cctransaction><chargecardid>AMEX-1001</chargecardid><paymentdate><year>2024</year><month>3</month>"
        "<day>3</day></paymentdate><referenceno>ll-cc-9</referenceno><payee>Cafe</payee><description>lunch"
        "</description><ccpayitems><ccpayitem><glaccountno>70004</glaccountno><paymentamount>12.30</paymentamount>"
        "</ccpayitem></ccpayitems></record_cctransaction>"
    )
    reply = gateway.call(
        session_id,
        function(bill_xml(reference="ll-bill-9")),
        function(report_xml(description="ll-er-9")),
        function(card),
    )
    assert reply.statuses == ["success"] * 3

    assert rows_where(gateway, session_id, "APBILL", "RECORDID = 'll-bill-9'", "RECORDNO,TOTALDUE") == [
        {"RECORDNO": reply.rows(0)[0]["RECORDNO"], "TOTALDUE": "100.00"}
    ]
    assert rows_where(gateway, session_id, "EEXPENSES", "DESCRIPTION = 'll-er-9'", "RECORDNO") == [
        {"RECORDNO": reply.results[1].findtext("key", "")}
    ]
    assert rows_where(gateway, session_id, "CCTRANSACTION", "RECORDID = 'll-cc-9'", "TOTALENTERED") == [
        {"TOTALENTERED": "12.30"}
    ]


def test_payments_mark_documents_paid_for_payment_sync(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    created = gateway.call(
        session_id,
        function(bill_xml(reference="ll-pay-1")),
        function(bill_xml(reference="ll-pay-2")),
        function(report_xml()),
    )
    first, second = created.rows(0)[0]["RECORDNO"], created.rows(1)[0]["RECORDNO"]
    report = created.results[2].findtext("key", "")

    payment = gateway.call(
        session_id,
        function(
            "<create><APPYMT><FINANCIALENTITY>BOA-01</FINANCIALENTITY><PAYMENTMETHOD>EFT</PAYMENTMETHOD>"
            "<VENDORID>V00004</VENDORID><PAYMENTDATE>03/20/2024</PAYMENTDATE><APPYMTDETAILS><APPYMTDETAIL>"
            f"<RECORDKEY>{first}</RECORDKEY><TRX_PAYMENTAMOUNT>100.00</TRX_PAYMENTAMOUNT></APPYMTDETAIL></APPYMTDETAILS>"
            "</APPYMT></create>"
        ),
    )
    assert payment.statuses == ["success"], payment.errors
    partial = control.post(f"/documents/APBILL/{second}/paid", json={"amount": "40", "paid_on": "2024-03-21"})
    assert partial.json()["STATE"] == "Partially Paid"
    assert control.post(f"/documents/EEXPENSES/{report}/paid", json={}).json()["STATE"] == "Paid"
    assert control.post(f"/documents/EEXPENSES/{report}/paid", json={}).status_code == 409

    paid = rows_where(
        gateway,
        session_id,
        "APBILL",
        "STATE = 'Paid' OR STATE = 'Partially Paid'",
        "RECORDID,STATE,TOTALPAID,TOTALDUE,WHENPAID",
    )
    assert paid == [
        {"RECORDID": "ll-pay-1", "STATE": "Paid", "TOTALPAID": "100.00", "TOTALDUE": "0.00", "WHENPAID": "03/20/2024"},
        {
            "RECORDID": "ll-pay-2",
            "STATE": "Partially Paid",
            "TOTALPAID": "40.00",
            "TOTALDUE": "60.00",
            "WHENPAID": "03/21/2024",
        },
    ]
    assert rows_where(gateway, session_id, "EEXPENSES", "STATE = 'Paid'", "TOTALPAID") == [{"TOTALPAID": "80.00"}]


def test_reimbursement_request_pays_the_expense_report(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    key = gateway.call(session_id, function(report_xml(amount="55.00"))).results[0].findtext("key", "")

    reply = gateway.call(
        session_id,
        function(
            "<create_reimbursementrequest><bankaccountid>BOA-01</bankaccountid><employeeid>1004</employeeid>"
            "<memo>ll-reimb-1</memo><paymentmethod>EFT</paymentmethod><paymentdate><year>2024</year><month>3</month>"
            "<day>25</day></paymentdate><eppaymentrequestitems><eppaymentrequestitem>"
            f"<key>{key}</key><paymentamount>55.00</paymentamount></eppaymentrequestitem></eppaymentrequestitems>"
            "</create_reimbursementrequest>"
        ),
    )

    assert reply.statuses == ["success"], reply.errors
    report = control.get(f"/documents/EEXPENSES/{key}").json()
    assert (report["STATE"], report["TOTALDUE"], report["WHENPAID"]) == ("Paid", "0.00", "03/25/2024")


def test_a_create_of_several_objects_is_all_or_nothing(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    two = bill_xml(reference="ok").replace("</create>", "") + bill_xml(vendor="V-NONE").replace("<create>", "")

    reply = gateway.call(session_id, function(two))

    assert reply.statuses == ["failure"]
    assert control.get("/documents").json()["count"] == 0


def test_vendor_ids_are_unique(gateway: GatewayClient, session_id: str) -> None:
    vendor = "<create><VENDOR><VENDORID>V00001</VENDORID><NAME>Copy</NAME></VENDOR></create>"

    reply = gateway.call(session_id, function(vendor))

    assert reply.errors[0]["errorno"] == "BL34000061"
    assert reply.errors[0]["description2"] == "Another Vendor with the given value(s) V00001 already exists"


def test_attachments_need_a_folder_and_base64(gateway: GatewayClient, session_id: str, control: httpx.Client) -> None:
    supdoc = (
        "<create_supdoc><supdocid>S1</supdocid><supdocfoldername>F</supdocfoldername><attachments><attachment>"
        "<attachmentname>r</attachmentname><attachmenttype>pdf</attachmenttype><attachmentdata>{data}"
        "</attachmentdata></attachment></attachments></create_supdoc>"
    )
    refused = gateway.call(session_id, function(supdoc.format(data="JVBERi0=")))
    assert "Attachment folder 'F' does not exist." in descriptions(refused)

    reply = gateway.call(
        session_id,
        function("<create_supdocfolder><supdocfoldername>F</supdocfoldername></create_supdocfolder>"),
        function(supdoc.format(data="not base64!")),
        function(supdoc.format(data="JVBERi0=")),
        function(bill_xml(extra="<SUPDOCID>S1</SUPDOCID>")),
    )

    assert reply.statuses == ["success", "failure", "success", "success"]
    assert control.get("/attachments").json()["data"][0]["supdocid"] == "S1"
    bill = reply.rows(3)[0]["RECORDNO"]
    update = gateway.call(
        session_id, function(f"<update><APBILL><RECORDNO>{bill}</RECORDNO><SUPDOCID>S9</SUPDOCID></APBILL></update>")
    )
    assert update.errors[0]["description2"] == "Invalid attachment ID 'S9' specified."


def test_entity_sessions_write_into_their_entity(gateway: GatewayClient, control: httpx.Client) -> None:
    e100 = gateway.open_session(MULTI_ENTITY_COMPANY, entity="E100")
    e200 = gateway.open_session(MULTI_ENTITY_COMPANY, entity="E200")
    private_e100 = rows_where(gateway, e100, "VENDOR", "MEGAENTITYID = 'E100'", "VENDORID")[0]["VENDORID"]
    account = rows_where(gateway, e100, "GLACCOUNT", "STATUS = 'T' AND ACCOUNTNO >= 70000", "ACCOUNTNO")[0]
    lines = ((account["ACCOUNTNO"], "10"),)

    in_e100 = gateway.call(e100, function(bill_xml(vendor=private_e100, reference="ll-e100", lines=lines)))
    from_e200 = gateway.call(e200, function(bill_xml(vendor=private_e100, reference="ll-e200", lines=lines)))

    assert in_e100.statuses == ["success"], in_e100.errors
    assert f"Invalid Vendor '{private_e100}' specified." in descriptions(from_e200)
    stored = control.get("/documents", params={"company": MULTI_ENTITY_COMPANY}).json()["data"]
    assert [(row["RECORDID"], row["MEGAENTITYID"], row["CURRENCY"]) for row in stored] == [("ll-e100", "E100", "USD")]
    assert rows_where(gateway, e200, "APBILL", "RECORDID = 'll-e100'", "RECORDNO") == []
    assert len(rows_where(gateway, e100, "APBILL", "RECORDID = 'll-e100'", "RECORDNO")) == 1


def test_an_entity_closes_its_periods_on_its_own_calendar(gateway: GatewayClient, control: httpx.Client) -> None:
    company = MULTI_ENTITY_COMPANY
    control.put("/periods", json={"company": company, "entity": "E200", "open_from": "2024-04-01"}).raise_for_status()
    e100 = gateway.open_session(company, entity="E100")
    e200 = gateway.open_session(company, entity="E200")
    account = rows_where(gateway, e100, "GLACCOUNT", "STATUS = 'T' AND ACCOUNTNO >= 70000", "ACCOUNTNO")[0]
    lines = ((account["ACCOUNTNO"], "10"),)

    in_e100 = gateway.call(e100, function(bill_xml(vendor="V00001", reference="ll-e100", lines=lines)))
    in_e200 = gateway.call(e200, function(bill_xml(vendor="V00001", reference="ll-e200", lines=lines)))

    assert (in_e100.statuses, in_e200.statuses) == (["success"], ["failure"])
    assert descriptions(in_e200)[0].startswith("Periods are closed. Your transaction date (03/15/2024)")
    assert control.get("/periods", params={"company": company, "entity": "E200"}).json()["open_from"] == "2024-04-01"
    assert control.get("/periods", params={"company": company}).json()["open_from"] == "2000-01-01"
    unknown = control.put("/periods", json={"company": company, "entity": "E900", "open_from": "2024-04-01"})
    assert unknown.status_code == 422 and "E900" in unknown.text
