"""Reads: Organisation, Accounts, Contacts (paging, where, order, includeArchived, If-Modified-Since),
TrackingCategories, TaxRates, Items, Currencies; the where grammar; Xero's JSON dates; unknown fields refused."""

from datetime import UTC, datetime, timedelta

import httpx

from sandbox.xero.constants import MAIN_TENANT, UK_TENANT
from tests.sandbox.xero.conftest import Xero, ok


def test_organisation_names_base_currency_and_short_code(api: httpx.Client, xero: Xero) -> None:
    org = ok(api.get("/Organisation"))["Organisations"][0]
    assert org["BaseCurrency"] == "USD" and org["ShortCode"] and org["Name"] == "Ledgerline Demo Co (US)"
    with xero.api(UK_TENANT) as uk:
        assert ok(uk.get("/Organisation"))["Organisations"][0]["BaseCurrency"] == "GBP"


def test_accounts_come_whole_with_where_and_order(api: httpx.Client) -> None:
    accounts = ok(api.get("/Accounts"))["Accounts"]
    assert "pagination" not in ok(api.get("/Accounts", params={"page": 1}))
    assert len(accounts) > 20
    banks = ok(api.get("/Accounts", params={"where": 'Type=="BANK"', "order": "Code DESC"}))["Accounts"]
    assert [acc["Code"] for acc in banks] == ["091", "090"]
    assert accounts[0]["UpdatedDateUTC"].startswith("/Date(")


def test_contacts_page_and_page_size(api: httpx.Client) -> None:
    first = ok(api.get("/Contacts", params={"page": 1, "pageSize": 5}))
    assert len(first["Contacts"]) == 5
    assert first["pagination"] == {"page": 1, "pageSize": 5, "pageCount": 5, "itemCount": 21}
    last = ok(api.get("/Contacts", params={"page": 5, "pageSize": 5}))["Contacts"]
    assert len(last) == 1
    beyond = ok(api.get("/Contacts", params={"page": 6, "pageSize": 5}))["Contacts"]
    assert beyond == []
    capped = ok(api.get("/Contacts", params={"page": 1, "pageSize": 5000}))["pagination"]
    assert capped["pageSize"] == 1000


def test_contacts_default_page_size_is_one_hundred(api: httpx.Client) -> None:
    assert ok(api.get("/Contacts", params={"page": 1}))["pagination"]["pageSize"] == 100


def test_archived_contacts_only_with_include_archived(api: httpx.Client) -> None:
    active = ok(api.get("/Contacts"))["Contacts"]
    every = ok(api.get("/Contacts", params={"includeArchived": "true"}))["Contacts"]
    assert len(every) == len(active) + 2
    assert {c["ContactStatus"] for c in every} == {"ACTIVE", "ARCHIVED"}


def test_where_grammar(api: httpx.Client) -> None:
    def names(where: str) -> set[str]:
        return {c["Name"] for c in ok(api.get("/Contacts", params={"where": where}))["Contacts"]}

    assert names('Name.Contains("rail")') == {"Metro Rail"}
    assert names('Name.StartsWith("c") AND Name.EndsWith("s")') == {"City Cabs"}
    assert names('Name=="City Cabs" || Name=="Corner Coffee"') == {"City Cabs", "Corner Coffee"}
    assert names('(Name=="City Cabs" OR Name=="Metro Rail") AND NOT Name=="Metro Rail"') == {"City Cabs"}
    assert names('DefaultCurrency=="EUR"') == {"Overseas Supplier (EUR)"}
    cid = ok(api.get("/Contacts", params={"where": 'Name=="Metro Rail"'}))["Contacts"][0]["ContactID"]
    assert names(f'ContactID==Guid("{cid}")') == {"Metro Rail"}
    assert len(names("IsSupplier==true")) == 21
    assert names("DefaultCurrency!=null") == {"Overseas Supplier (EUR)"}


def test_unknown_where_field_is_refused_like_xero(api: httpx.Client) -> None:
    refused = api.get("/Contacts", params={"where": 'Colour=="red"'})
    assert refused.status_code == 400
    assert refused.json()["Type"] == "QueryParseException"
    assert "No property or field 'Colour' exists in type 'Contact'" in refused.json()["Message"]
    assert api.get("/Contacts", params={"order": "Colour"}).status_code == 400
    assert api.get("/Contacts", params={"where": 'Name=="x'}).status_code == 400


def test_if_modified_since_returns_only_later_changes(api: httpx.Client, xero: Xero) -> None:
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert ok(api.get("/Contacts", headers={"If-Modified-Since": later.isoformat()}))["Contacts"] == []
    xero.sandbox.control().put("/clock", json={"advance_seconds": 120})
    archived = ok(api.get("/Contacts", params={"where": 'Name=="Metro Rail"'}))["Contacts"][0]
    renamed = xero.control.patch(
        f"/organisations/{MAIN_TENANT}/dimensions/Contacts/{archived['ContactID']}", json={"name": "Metro Rail Co"}
    )
    assert renamed.status_code == 200
    changed = ok(api.get("/Contacts", headers={"If-Modified-Since": later.isoformat()}))["Contacts"]
    assert [c["Name"] for c in changed] == ["Metro Rail Co"]
    http_date = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert len(ok(api.get("/Contacts", headers={"If-Modified-Since": http_date}))["Contacts"]) == 1


def test_tracking_categories_tax_rates_items_currencies(api: httpx.Client) -> None:
    categories = ok(api.get("/TrackingCategories"))["TrackingCategories"]
    assert {cat["Name"] for cat in categories} == {"Region", "Department"}
    assert all(len(cat["Options"]) == 4 for cat in categories)
    rates = ok(api.get("/TaxRates"))["TaxRates"]
    assert {rate["TaxType"] for rate in rates} == {"NONE", "INPUT"}
    assert {item["Code"] for item in ok(api.get("/Items"))["Items"]} == {"MILEAGE", "PERDIEM", "TRAIN"}
    assert {c["Code"] for c in ok(api.get("/Currencies"))["Currencies"]} == {"USD", "EUR"}


def test_object_by_id_and_missing_is_404(api: httpx.Client) -> None:
    account = ok(api.get("/Accounts"))["Accounts"][0]
    assert ok(api.get(f"/Accounts/{account['AccountID']}"))["Accounts"][0]["Code"] == account["Code"]
    missing = api.get("/Accounts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert api.get("/NoSuchThing").status_code == 404


def test_every_answer_carries_the_remaining_quota_headers(api: httpx.Client) -> None:
    for path in ("/Organisation", "/Accounts", "/Contacts/none"):
        response = api.get(path)
        for header in ("X-MinLimit-Remaining", "X-DayLimit-Remaining", "X-AppMinLimit-Remaining"):
            assert header in response.headers, (path, header)
