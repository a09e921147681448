"""Base and transaction currency in the simulator: every document keeps both amounts, converting each line at the rate
it is sent (or the company's daily rate when none is) and rounding each line to the cent; payments are made in the
paid document's currency against what it owes in that currency. What makes drift from the source's figures visible."""

from decimal import Decimal

import httpx
import pytest

from sandbox.intacct.constants import BASE_CURRENCY, DAILY_RATES
from tests.sandbox.intacct.helpers import GatewayClient, function
from tests.sandbox.intacct.test_writes import bill_xml, descriptions

DAY = "<year>2024</year><month>3</month><day>15</day>"


@pytest.fixture
def session_id(gateway: GatewayClient) -> str:
    return gateway.open_session()


def create_bill(gateway: GatewayClient, session_id: str, reference: str, *lines: str, extra: str = "") -> str:
    reply = gateway.call(
        session_id,
        function(bill_xml(reference=reference, lines=tuple(("70004", line) for line in lines), extra=extra)),
    )
    assert reply.statuses == ["success"], reply.errors
    return reply.rows()[0]["RECORDNO"]


def test_a_bill_converts_each_line_at_its_rate_and_totals_both_currencies(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    """Fyle booked 25406.83 + 52819.48 USD; at the six-place rate 1.083134 the lines come to 3 cents more."""
    extra = "<CURRENCY>EUR</CURRENCY><BASECURR>USD</BASECURR><EXCH_RATE_DATE>03/15/2024</EXCH_RATE_DATE>"
    recordno = create_bill(
        gateway, session_id, "ll-fx-1", "23456.78", "48765.43", extra=extra + "<EXCHANGE_RATE>1.083134</EXCHANGE_RATE>"
    )

    bill = control.get(f"/documents/APBILL/{recordno}").json()
    assert (bill["CURRENCY"], bill["BASECURR"], bill["EXCHANGE_RATE"]) == ("EUR", "USD", "1.083134")
    assert (bill["TRX_TOTALENTERED"], bill["TRX_TOTALDUE"]) == ("72222.21", "72222.21")
    assert (bill["TOTALENTERED"], bill["TOTALDUE"]) == ("78226.34", "78226.34")
    assert [(line["TRX_AMOUNT"], line["AMOUNT"], line["CURRENCY"]) for line in bill["lines"]] == [
        ("23456.78", "25406.84", "EUR"),
        ("48765.43", "52819.50", "EUR"),
    ]


def test_a_foreign_bill_without_a_rate_takes_the_daily_rate(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    recordno = create_bill(gateway, session_id, "ll-fx-2", "100.00", extra="<CURRENCY>GBP</CURRENCY>")

    bill = control.get(f"/documents/APBILL/{recordno}").json()
    assert bill["TOTALENTERED"] == str((Decimal("100.00") * DAILY_RATES["GBP"]).quantize(Decimal("0.01")))
    assert bill["BASECURR"] == BASE_CURRENCY


def test_a_bill_in_the_base_currency_has_equal_totals(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    recordno = create_bill(gateway, session_id, "ll-fx-3", "10.10", "5.05")

    bill = control.get(f"/documents/APBILL/{recordno}").json()
    assert (bill["CURRENCY"], bill["TOTALENTERED"], bill["TRX_TOTALENTERED"]) == ("USD", "15.15", "15.15")


def test_yen_amounts_are_whole_and_a_fraction_is_refused(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    extra = "<CURRENCY>JPY</CURRENCY><EXCHANGE_RATE>0.00667123</EXCHANGE_RATE>"
    recordno = create_bill(gateway, session_id, "ll-fx-4", "123457", extra=extra)
    bill = control.get(f"/documents/APBILL/{recordno}").json()
    assert (bill["TRX_TOTALENTERED"], bill["TOTALENTERED"]) == ("123457", "823.61")

    refused = gateway.call(
        session_id,
        function(bill_xml(reference="ll-fx-5", lines=(("70004", "100.50"),), extra=extra)),
    )
    assert refused.statuses == ["failure"]
    assert any("JPY" in text for text in descriptions(refused)), refused.errors


def test_a_base_currency_that_is_not_the_companys_is_refused(gateway: GatewayClient, session_id: str) -> None:
    reply = gateway.call(
        session_id,
        function(bill_xml(reference="ll-fx-6", extra="<CURRENCY>EUR</CURRENCY><BASECURR>EUR</BASECURR>")),
    )
    assert reply.statuses == ["failure"]
    assert any("base currency" in text.lower() for text in descriptions(reply)), reply.errors


def payment_xml(bill: str, amount: str, currency: str) -> str:
    return function(
        "<create><APPYMT><FINANCIALENTITY>BOA-01</FINANCIALENTITY><PAYMENTMETHOD>Cash</PAYMENTMETHOD>"
        f"<VENDORID>V00004</VENDORID><CURRENCY>{currency}</CURRENCY><PAYMENTDATE>03/20/2024</PAYMENTDATE>"
        f"<APPYMTDETAILS><APPYMTDETAIL><RECORDKEY>{bill}</RECORDKEY><TRX_PAYMENTAMOUNT>{amount}</TRX_PAYMENTAMOUNT>"
        "</APPYMTDETAIL></APPYMTDETAILS></APPYMT></create>"
    )


def test_a_payment_pays_what_the_bill_owes_in_its_own_currency(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    extra = "<CURRENCY>JPY</CURRENCY><EXCHANGE_RATE>0.00667123</EXCHANGE_RATE>"
    recordno = create_bill(gateway, session_id, "ll-fx-7", "123457", extra=extra)

    in_dollars = gateway.call(session_id, payment_xml(recordno, "823.61", "USD"))
    assert in_dollars.statuses == ["failure"]
    assert any("currency" in text.lower() for text in descriptions(in_dollars)), in_dollars.errors
    base_as_yen = gateway.call(session_id, payment_xml(recordno, "823.61", "JPY"))
    assert base_as_yen.statuses == ["failure"], "823.61 yen is a fraction of a yen"
    assert control.get(f"/documents/APBILL/{recordno}").json()["STATE"] == "Posted"

    paid = gateway.call(session_id, payment_xml(recordno, "123457", "JPY"))
    assert paid.statuses == ["success"], paid.errors
    bill = control.get(f"/documents/APBILL/{recordno}").json()
    assert (bill["STATE"], bill["TRX_TOTALDUE"], bill["TOTALDUE"]) == ("Paid", "0", "0.00")
    assert (bill["TRX_TOTALPAID"], bill["TOTALPAID"]) == ("123457", "823.61")


def test_paying_more_than_the_bill_owes_in_its_currency_is_refused(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    """The base figure (TOTALDUE, dollars) is more than the euros owed: paid as euros it is refused."""
    extra = "<CURRENCY>EUR</CURRENCY><EXCHANGE_RATE>1.08</EXCHANGE_RATE>"
    recordno = create_bill(gateway, session_id, "ll-fx-8", "100.00", extra=extra)
    assert control.get(f"/documents/APBILL/{recordno}").json()["TOTALDUE"] == "108.00"

    reply = gateway.call(session_id, payment_xml(recordno, "108.00", "EUR"))

    assert reply.statuses == ["failure"]
    assert control.get(f"/documents/APBILL/{recordno}").json()["TRX_TOTALDUE"] == "100.00"


def test_a_journal_line_without_a_currency_is_in_the_base_currency_and_each_line_converts(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    entries = (
        "<GLENTRY><ACCOUNTNO>70004</ACCOUNTNO><TR_TYPE>1</TR_TYPE><TRX_AMOUNT>123457</TRX_AMOUNT>"
        "<CURRENCY>JPY</CURRENCY><EXCH_RATE_DATE>03/15/2024</EXCH_RATE_DATE><EXCHANGE_RATE>0.00667123</EXCHANGE_RATE>"
        "</GLENTRY><GLENTRY><ACCOUNTNO>10000</ACCOUNTNO><TR_TYPE>-1</TR_TYPE><TRX_AMOUNT>123457</TRX_AMOUNT>"
        "<CURRENCY>JPY</CURRENCY><EXCHANGE_RATE>0.00667123</EXCHANGE_RATE></GLENTRY>"
        "<GLENTRY><ACCOUNTNO>70004</ACCOUNTNO><TR_TYPE>1</TR_TYPE><TRX_AMOUNT>5.00</TRX_AMOUNT></GLENTRY>"
        "<GLENTRY><ACCOUNTNO>10000</ACCOUNTNO><TR_TYPE>-1</TR_TYPE><TRX_AMOUNT>5.00</TRX_AMOUNT></GLENTRY>"
    )
    reply = gateway.call(
        session_id,
        function(
            "<create><GLBATCH><JOURNAL>GJ</JOURNAL><BATCH_DATE>03/15/2024</BATCH_DATE><BATCH_TITLE>fx</BATCH_TITLE>"
            f"<REFERENCENO>ll-fx-je</REFERENCENO><ENTRIES>{entries}</ENTRIES></GLBATCH></create>"
        ),
    )
    assert reply.statuses == ["success"], reply.errors

    batch = control.get(f"/documents/GLBATCH/{reply.rows()[0]['RECORDNO']}").json()
    assert [(line["CURRENCY"], line["TRX_AMOUNT"], line["AMOUNT"]) for line in batch["lines"]] == [
        ("JPY", "123457", "823.61"),
        ("JPY", "123457", "823.61"),
        ("USD", "5.00", "5.00"),
        ("USD", "5.00", "5.00"),
    ]


def test_a_journal_whose_base_amounts_do_not_balance_is_refused(gateway: GatewayClient, session_id: str) -> None:
    entries = (
        "<GLENTRY><ACCOUNTNO>70004</ACCOUNTNO><TR_TYPE>1</TR_TYPE><TRX_AMOUNT>100.00</TRX_AMOUNT>"
        "<CURRENCY>EUR</CURRENCY><EXCHANGE_RATE>1.08</EXCHANGE_RATE></GLENTRY>"
        "<GLENTRY><ACCOUNTNO>10000</ACCOUNTNO><TR_TYPE>-1</TR_TYPE><TRX_AMOUNT>100.00</TRX_AMOUNT>"
        "<CURRENCY>EUR</CURRENCY><EXCHANGE_RATE>1.09</EXCHANGE_RATE></GLENTRY>"
    )
    reply = gateway.call(
        session_id,
        function(
            "<create><GLBATCH><JOURNAL>GJ</JOURNAL><BATCH_DATE>03/15/2024</BATCH_DATE><BATCH_TITLE>fx</BATCH_TITLE>"
            f"<ENTRIES>{entries}</ENTRIES></GLBATCH></create>"
        ),
    )
    assert reply.statuses == ["failure"]
    assert any("debits and credits" in text.lower() for text in descriptions(reply)), reply.errors


def report_xml(*expenses: str, reference: str, currency: str = "USD") -> str:
    return function(
        f"<create_expensereport><employeeid>1004</employeeid><datecreated>{DAY}</datecreated><state>Submitted</state>"
        f"<description>{reference}</description><basecurr>USD</basecurr><currency>{currency}</currency>"
        f"<expenses>{''.join(expenses)}</expenses></create_expensereport>"
    )


def expense_xml(amount: str, *, currency: str = "", trx_amount: str = "", rate: str = "") -> str:
    foreign = f"<currency>{currency}</currency><trx_amount>{trx_amount}</trx_amount>" if currency else ""
    exchange = f"<exchratedate>{DAY}</exchratedate><exchrate>{rate}</exchrate>" if rate else ""
    return (
        f"<expense><expensetype>Travel</expensetype><amount>{amount}</amount>{foreign}{exchange}"
        f"<expensedate>{DAY}</expensedate><memo>Taxi</memo></expense>"
    )


def test_an_expense_report_reimburses_in_its_currency_lines_spent_in_others(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    reply = gateway.call(
        session_id,
        report_xml(
            expense_xml("823.61", currency="JPY", trx_amount="123457", rate="0.00667123"),
            expense_xml("12.50"),
            reference="ll-fx-er",
        ),
    )
    assert reply.statuses == ["success"], reply.errors

    report = control.get(f"/documents/EEXPENSES/{reply.results[0].findtext('key')}").json()
    assert (report["CURRENCY"], report["BASECURR"], report["TOTALENTERED"], report["TRX_TOTALDUE"]) == (
        "USD",
        "USD",
        "836.11",
        "836.11",
    )
    assert [(line["CURRENCY"], line["TRX_AMOUNT"], line["AMOUNT"]) for line in report["lines"]] == [
        ("JPY", "123457", "823.61"),
        ("USD", "12.50", "12.50"),
    ]


def test_an_expense_line_whose_amount_disagrees_with_its_rate_is_refused(
    gateway: GatewayClient, session_id: str
) -> None:
    reply = gateway.call(
        session_id,
        report_xml(expense_xml("823.58", currency="JPY", trx_amount="123457", rate="0.00667123"), reference="ll-x"),
    )
    assert reply.statuses == ["failure"]


def test_a_reimbursement_pays_what_the_report_owes_in_its_currency(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    created = gateway.call(
        session_id,
        report_xml(expense_xml("108.00", currency="EUR", trx_amount="100.00", rate="1.08"), reference="ll-fx-r"),
    )
    key = created.results[0].findtext("key", "")

    def reimburse(amount: str) -> list[str]:
        return gateway.call(
            session_id,
            function(
                "<create_reimbursementrequest><bankaccountid>BOA-01</bankaccountid><employeeid>1004</employeeid>"
                "<memo>ll-fx-reimb</memo><paymentmethod>Cash</paymentmethod><paymentdate><year>2024</year>"
                "<month>3</month><day>25</day></paymentdate><eppaymentrequestitems><eppaymentrequestitem>"
                f"<key>{key}</key><paymentamount>{amount}</paymentamount></eppaymentrequestitem>"
                "</eppaymentrequestitems></create_reimbursementrequest>"
            ),
        ).statuses

    assert reimburse("100.00") == ["success"]
    report = control.get(f"/documents/EEXPENSES/{key}").json()
    assert (report["STATE"], report["TRX_TOTALDUE"], report["TOTALDUE"]) == ("Partially Paid", "8.00", "8.00")
    assert reimburse("8.00") == ["success"]
    assert control.get(f"/documents/EEXPENSES/{key}").json()["STATE"] == "Paid"


def test_a_card_transaction_converts_at_its_rate(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    reply = gateway.call(
        session_id,
        function(
            f"<record_cctransaction><chargecardid>AMEX-1001</chargecardid><paymentdate>{DAY}</paymentdate>"
            "<referenceno>ll-fx-cc</referenceno><payee>Lawson</payee><currency>JPY</currency>"
            "<exchrate>0.00667123</exchrate><ccpayitems><ccpayitem><accountlabel>Travel</accountlabel>"
            "<paymentamount>123457</paymentamount></ccpayitem></ccpayitems></record_cctransaction>"
        ),
    )
    assert reply.statuses == ["success"], reply.errors

    row = control.get(f"/documents/CCTRANSACTION/{reply.results[0].findtext('key')}").json()
    assert (row["CURRENCY"], row["TRX_TOTALENTERED"], row["TOTALENTERED"]) == ("JPY", "123457", "823.61")


def test_tax_entries_count_in_both_totals_each_converted_on_its_own(
    gateway: GatewayClient, session_id: str, control: httpx.Client
) -> None:
    tax = "<TAXENTRIES><TAXENTRY><DETAILID>VAT</DETAILID><TRX_TAX>10.01</TRX_TAX></TAXENTRY></TAXENTRIES>"
    reply = gateway.call(
        session_id,
        function(
            bill_xml(
                reference="ll-fx-tax",
                lines=(("70004", "100.01"),),
                extra_line=tax,
                extra="<CURRENCY>EUR</CURRENCY><EXCHANGE_RATE>1.5</EXCHANGE_RATE>",
            )
        ),
    )
    assert reply.statuses == ["success"], reply.errors

    bill = control.get(f"/documents/APBILL/{reply.rows()[0]['RECORDNO']}").json()
    # 100.01 x 1.5 = 150.015 -> 150.02 and 10.01 x 1.5 = 15.015 -> 15.02; the gross at once would give 165.03
    assert (bill["TRX_TOTALENTERED"], bill["TOTALENTERED"]) == ("110.02", "165.04")
