"""Deleting a document through the control API, as a person may in Intacct: lookups by its reference find nothing
afterwards, the count drops, and a document is deleted once."""

import httpx

from tests.sandbox.intacct.helpers import GatewayClient, function
from tests.sandbox.intacct.test_writes import bill_xml, rows_where


def test_a_deleted_bill_is_not_found_by_its_reference_and_cannot_be_deleted_twice(
    gateway: GatewayClient, control: httpx.Client
) -> None:
    session_id = gateway.open_session()
    before = control.get("/counts").json()["objects"]["document"]["APBILL"]
    created = gateway.call(session_id, function(bill_xml(reference="ll-del-1")), function(bill_xml(reference="ll-2")))
    assert created.statuses == ["success"] * 2
    recordno = created.rows(0)[0]["RECORDNO"]

    deleted = control.delete(f"/documents/APBILL/{recordno}")
    assert deleted.status_code == 200 and deleted.json()["deleted"]["recordno"] == int(recordno)
    assert rows_where(gateway, session_id, "APBILL", "RECORDID = 'll-del-1'", "RECORDNO") == []
    assert len(rows_where(gateway, session_id, "APBILL", "RECORDID = 'll-2'", "RECORDNO")) == 1
    assert control.get("/documents", params={"record_id": "ll-del-1"}).json()["count"] == 0
    assert control.get("/counts").json()["objects"]["document"]["APBILL"] == before + 1
    assert control.delete(f"/documents/APBILL/{recordno}").status_code == 404
