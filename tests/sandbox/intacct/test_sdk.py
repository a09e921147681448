"""The official `sageintacctsdk`, unchanged apart from its base URL, against the simulator."""

import httpx
import pytest
from sageintacctsdk import SageIntacctSDK  # type: ignore[import-untyped]
from sageintacctsdk.exceptions import InvalidTokenError, WrongParamsError  # type: ignore[import-untyped]

from sandbox.intacct.constants import SENDER_ID, SINGLE_ENTITY_COMPANY, USER_ID

BILL = {
    "WHENCREATED": "2024-03-01",
    "VENDORID": "V00004",
    "RECORDID": "ll-export-0001",
    "WHENDUE": "2024-03-31",
    "CURRENCY": "USD",
    "APBILLITEMS": {
        "APBILLITEM": [
            {"ACCOUNTNO": "70004", "TRX_AMOUNT": "120.50", "ENTRYDESCRIPTION": "Team offsite", "DEPARTMENTID": "100"},
            {"ACCOUNTNO": "70004", "TRX_AMOUNT": "9.50", "ENTRYDESCRIPTION": "Parking", "LOCATIONID": "100"},
        ]
    },
}


def _count(control: httpx.Client, object_name: str) -> int:
    counts = control.get("/counts").json()["objects"]
    return int(counts["master"].get(object_name) or counts["document"].get(object_name) or 0)


def test_sdk_gets_a_session_pointing_back_at_the_sandbox(sdk: SageIntacctSDK) -> None:
    assert sdk.accounts.count() > 0  # every call after the constructor rides on the session it opened


def test_sdk_pages_every_account_and_vendor_with_totals_matching_the_control_api(
    sdk: SageIntacctSDK, control: httpx.Client
) -> None:
    accounts = sdk.accounts.get_all()
    vendor_pages = list(sdk.vendors.get_all_generator())

    assert len(accounts) == _count(control, "GLACCOUNT") == 2500
    assert len({account["RECORDNO"] for account in accounts}) == len(accounts)
    assert len(vendor_pages) > 1
    vendors = [vendor for page in vendor_pages for vendor in page]
    assert len(vendors) == _count(control, "VENDOR") == 2400
    assert len({vendor["VENDORID"] for vendor in vendors}) == len(vendors)
    assert {vendor["STATUS"] for vendor in vendors} == {"active", "inactive"}
    assert sdk.accounts.count() == sum(account["STATUS"] == "active" for account in accounts)


def test_sdk_bill_appears_in_the_control_api_and_by_its_reference(sdk: SageIntacctSDK, control: httpx.Client) -> None:
    created = sdk.bills.post(BILL)

    recordno = created["data"]["apbill"]["RECORDNO"]
    stored = control.get(f"/documents/APBILL/{recordno}").json()
    assert stored["RECORDID"] == "ll-export-0001"
    assert stored["TOTALENTERED"] == "130.00"
    assert stored["STATE"] == "Posted"
    assert [line["TRX_AMOUNT"] for line in stored["lines"]] == ["120.50", "9.50"]
    found = sdk.bills.get(field="RECORDID", value="ll-export-0001")
    assert found["@totalcount"] == "1"
    assert found["apbill"]["RECORDNO"] == recordno
    assert found["apbill"]["RECORD_URL"].split("?.r=", 1)[1]


def test_sdk_reports_an_unknown_vendor_by_name(sdk: SageIntacctSDK, control: httpx.Client) -> None:
    with pytest.raises(WrongParamsError) as raised:
        sdk.bills.post({**BILL, "VENDORID": "V-MISSING"})

    errors = raised.value.response["error"]
    assert errors[0]["errorno"] == "BL01001973"
    assert "V-MISSING" in errors[0]["description2"]
    assert errors[-1]["description2"] == "Could not create Bill record!"
    assert control.get("/documents", params={"object": "APBILL"}).json()["count"] == 0


def test_sdk_expense_report_with_attachment(sdk: SageIntacctSDK, control: httpx.Client) -> None:
    sdk.attachments.create_attachments_folder({"supdocfoldername": "Ledgerline"})
    sdk.attachments.post(
        {
            "supdocid": "LL-RCPT-1",
            "supdocfoldername": "Ledgerline",
            "supdocdescription": "Receipts",
            "attachments": {
                "attachment": [{"attachmentname": "taxi", "attachmenttype": "pdf", "attachmentdata": "JVBERi0xLjQK"}]
            },
        }
    )
    created = sdk.expense_reports.post(
        {
            "employeeid": "1004",
            "datecreated": {"year": 2024, "month": 3, "day": 2},
            "state": "Submitted",
            "description": "ll-report-0007",
            "currency": "USD",
            "expenses": {
                "expense": [
                    {
                        "expensetype": "Travel",
                        "amount": "42.10",
                        "expensedate": {"year": 2024, "month": 3, "day": 1},
                        "memo": "Taxi",
                    }
                ]
            },
        }
    )
    sdk.expense_reports.update_attachment(key=created["key"], supdocid="LL-RCPT-1")

    report = control.get(f"/documents/EEXPENSES/{created['key']}").json()
    assert report["DESCRIPTION"] == "ll-report-0007"
    assert report["SUPDOCID"] == "LL-RCPT-1"
    assert report["TOTALDUE"] == "42.10"
    assert control.get("/attachments").json()["data"][0]["attachments"][0]["size"] == 9


def test_sdk_sees_an_expired_session_as_an_invalid_token(sdk: SageIntacctSDK, sandbox_clock: httpx.Client) -> None:
    sandbox_clock.put("/clock", json={"advance_seconds": 31 * 60}).raise_for_status()

    with pytest.raises(InvalidTokenError) as raised:
        sdk.accounts.count()
    assert raised.value.response["error"]["errorno"] == "XL03000006"


def test_sdk_wrong_sender_password_is_a_control_failure(sdk_to_sandbox: None) -> None:
    with pytest.raises(WrongParamsError) as raised:
        SageIntacctSDK(
            sender_id=SENDER_ID,
            sender_password="wrong",
            user_id=USER_ID,
            company_id=SINGLE_ENTITY_COMPANY,
            user_password="whatever",
        )
    assert raised.value.response["error"][0]["description2"] == "Incorrect Intacct XML Partner ID or password."
