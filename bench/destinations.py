"""The destinations a benchmark or chaos world exports to, each as the sandbox serves it: how a connection to it is
stored, which imported account and vendor the world maps everything to, and how its documents are read back from the
simulator's control API for counting (a document's reference and the expense ids its lines name).

A world names its destination by system; everything particular to that system's simulator lives here, beside the
other sandbox helpers of `bench/`, and none of it in the product's packages.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr

from mappings.settings import ExportSettings
from sandbox.constants import CONTROL_PREFIX
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sandbox.quickbooks.constants import CLIENT_ID, CLIENT_SECRET, MAIN_REALM, SEEDED_REFRESH_TOKEN_PREFIX
from sandbox.xero import constants as xero

HTTP_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Booked:
    """One document as the destination's simulator holds it."""

    reference: str
    """What identifies the item it exports (Intacct's RECORDID, QuickBooks' DocNumber)."""
    expenses: tuple[str, ...]
    """The expense id each line names (the chaos tenant's line memo is `{expense_id}`)."""


@dataclass(frozen=True)
class SandboxDestination:
    system: str
    app: dict[str, SecretStr]
    """Ledgerline's app credentials for the system on the sandbox (`Settings.connector_apps`)."""
    credentials: Callable[[str], dict[str, Any]]
    """Sandbox URL → what the connection's vault holds."""
    documents: Callable[[httpx.AsyncClient], Awaitable[list[Booked]]]
    """Every exported document, read through the sandbox's control API (`/_sandbox`)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """System-written connection settings (the company a grant names)."""
    account: Callable[[str], str | None] = lambda url: None
    """Sandbox URL → remote id of the account every category is mapped to; None: the first active imported one."""
    vendor: Callable[[str], str | None] = lambda url: None
    """Sandbox URL → remote id of the vendor every employee is mapped to; None: the first active imported one."""
    receipt_operations: frozenset[str] = frozenset()
    """The sandbox operations that carry receipts rather than documents (counted apart in the benchmarks)."""
    counterparty_type: str = "vendor"
    """The attribute type employees are mapped to (`employee_as`): a vendor, or Xero's contact."""

    def export_settings(self, export: "ExportSettings | ExportPlan", url: str) -> ExportSettings:
        """`export` (or what it plans for the sandbox at `url`) with employees mapped to this system's counterparty
        type."""
        chosen = export if isinstance(export, ExportSettings) else export(url)
        return chosen.model_copy(update={"employee_as": self.counterparty_type})


ExportPlan = Callable[[str], ExportSettings]
"""Sandbox URL → export settings, for settings naming ids only the running simulator knows (a card account)."""


# -- Sage Intacct ----------------------------------------------------------------------------------------------------

INTACCT = "intacct"


async def _intacct_bills(control: httpx.AsyncClient) -> list[Booked]:
    response = await control.get("/intacct/documents", params={"object": "APBILL"})
    response.raise_for_status()
    return [
        Booked(str(bill.get("RECORDID")), tuple(str(line.get("ENTRYDESCRIPTION")) for line in bill.get("lines", [])))
        for bill in response.json()["data"]
    ]


INTACCT_DESTINATION = SandboxDestination(
    system=INTACCT,
    app={"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
    credentials=lambda url: {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD},
    documents=_intacct_bills,
    receipt_operations=frozenset({"create_supdoc", "create_supdocfolder"}),
)

# -- QuickBooks Online -----------------------------------------------------------------------------------------------

QUICKBOOKS = "quickbooks"
QUICKBOOKS_HOME_CURRENCY = "USD"
QUICKBOOKS_EXPENSE_ACCOUNT = "Travel"
QUICKBOOKS_OBJECTS = ("Bill", "Purchase")
"""What bills and card purchases are created as."""


def _quickbooks_control(url: str) -> httpx.Client:
    return httpx.Client(base_url=f"{url}/_sandbox/quickbooks/realms/{MAIN_REALM}", timeout=HTTP_TIMEOUT_SECONDS)


def _quickbooks_listed(url: str, entity: str) -> list[dict[str, Any]]:
    with _quickbooks_control(url) as control:
        response = control.get("/documents", params={"entity": entity})
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["data"]
    return rows


def quickbooks_tokens(url: str) -> dict[str, Any]:
    """Tokens of a refresh grant with the main company's seeded refresh token, as the connect flow stores them."""
    response = httpx.post(
        f"{url}/quickbooks/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": SEEDED_REFRESH_TOKEN_PREFIX + MAIN_REALM},
        auth=(CLIENT_ID, CLIENT_SECRET),
        headers={"Accept": "application/json"},
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    issued = response.json()
    return {
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
        "expires_at": (datetime.now(UTC) + timedelta(seconds=issued["expires_in"])).isoformat(),
    }


def quickbooks_account(url: str, name: str) -> str:
    [account] = [row for row in _quickbooks_listed(url, "Account") if row["Name"] == name]
    return str(account["Id"])


def _quickbooks_vendor(url: str) -> str:
    """A vendor in the home currency: a bill's currency must be its vendor's."""
    return min(
        (
            str(row["Id"])
            for row in _quickbooks_listed(url, "Vendor")
            if row.get("Active", True)
            and (row.get("CurrencyRef") or {}).get("value", QUICKBOOKS_HOME_CURRENCY) == QUICKBOOKS_HOME_CURRENCY
        ),
        key=int,
    )


async def _quickbooks_documents(control: httpx.AsyncClient) -> list[Booked]:
    booked = []
    for entity in QUICKBOOKS_OBJECTS:
        response = await control.get(f"/quickbooks/realms/{MAIN_REALM}/documents", params={"entity": entity})
        response.raise_for_status()
        booked += [
            Booked(str(row.get("DocNumber")), tuple(str(line.get("Description")) for line in row.get("Line", [])))
            for row in response.json()["data"]
        ]
    return booked


QUICKBOOKS_DESTINATION = SandboxDestination(
    system=QUICKBOOKS,
    app={"client_id": SecretStr(CLIENT_ID), "client_secret": SecretStr(CLIENT_SECRET)},
    credentials=quickbooks_tokens,
    settings={"realm_id": MAIN_REALM},
    account=lambda url: quickbooks_account(url, QUICKBOOKS_EXPENSE_ACCOUNT),
    vendor=_quickbooks_vendor,
    documents=_quickbooks_documents,
    receipt_operations=frozenset({"POST upload"}),
)

# -- Xero -----------------------------------------------------------------------------------------------------------

XERO = "xero"
XERO_BASE_CURRENCY = "USD"
"""The main organisation's."""
XERO_EXPENSE_ACCOUNT = "Travel - National"
XERO_CARD_ACCOUNT = "Company Credit Card"
XERO_BANK_ACCOUNT = "Business Bank Account"
XERO_OBJECTS = (("Invoices", "InvoiceNumber"), ("BankTransactions", "Reference"))
"""What bills and card expenses are created as, and the field holding each one's reference."""
XERO_GONE = frozenset({"DELETED", "VOIDED"})
"""Statuses of a document that no longer counts (nor holds its reference)."""
XERO_CONTROL_PATH = f"/xero/organisations/{xero.MAIN_TENANT}"
"""The main organisation in the control API, under `/_sandbox`."""


def xero_tokens(url: str) -> dict[str, Any]:
    """Tokens of a refresh grant with the seeded refresh token (it covers every seeded organisation), as the connect
    flow stores them. The refresh token rotates: the seeded one is spent by this call."""
    response = httpx.post(
        f"{url}/xero{xero.TOKEN_PATH}",
        data={"grant_type": "refresh_token", "refresh_token": xero.SEEDED_REFRESH_TOKEN},
        auth=(xero.CLIENT_ID, xero.CLIENT_SECRET),
        timeout=HTTP_TIMEOUT_SECONDS,
    )
    response.raise_for_status()
    issued = response.json()
    return {
        "access_token": issued["access_token"],
        "refresh_token": issued["refresh_token"],
        "expires_at": (datetime.now(UTC) + timedelta(seconds=issued["expires_in"])).isoformat(),
    }


def xero_listed(url: str, collection: str) -> list[dict[str, Any]]:
    """One collection of the main organisation as Xero renders it, through the control API (no token spent, no call
    counted against the organisation's limits)."""
    with httpx.Client(base_url=f"{url}{CONTROL_PREFIX}", timeout=HTTP_TIMEOUT_SECONDS) as control:
        response = control.get(f"{XERO_CONTROL_PATH}/documents", params={"collection": collection})
    response.raise_for_status()
    rows: list[dict[str, Any]] = response.json()["items"]
    return rows


def xero_account(url: str, name: str) -> str:
    """The account's code: what the connector imports as its id, and what Xero takes wherever an account is named."""
    [account] = [row for row in xero_listed(url, "Accounts") if row["Name"] == name]
    return str(account["Code"])


def _xero_contact(url: str) -> str:
    """An active supplier in the base currency: a bill's currency must be one its contact may be billed in."""
    return min(
        str(row["ContactID"])
        for row in xero_listed(url, "Contacts")
        if row.get("ContactStatus") == "ACTIVE" and row.get("DefaultCurrency") in (None, XERO_BASE_CURRENCY)
    )


async def _xero_documents(control: httpx.AsyncClient) -> list[Booked]:
    booked = []
    for collection, reference_field in XERO_OBJECTS:
        response = await control.get(f"{XERO_CONTROL_PATH}/documents", params={"collection": collection})
        response.raise_for_status()
        booked += [
            Booked(str(row.get(reference_field)), tuple(str(line.get("Description")) for line in row["LineItems"]))
            for row in response.json()["items"]
            if row.get("Status") not in XERO_GONE
        ]
    return booked


XERO_DESTINATION = SandboxDestination(
    system=XERO,
    app={"client_id": SecretStr(xero.CLIENT_ID), "client_secret": SecretStr(xero.CLIENT_SECRET)},
    credentials=xero_tokens,
    settings={"tenant_id": xero.MAIN_TENANT},
    account=lambda url: xero_account(url, XERO_EXPENSE_ACCOUNT),
    vendor=_xero_contact,
    counterparty_type="contact",
    documents=_xero_documents,
    receipt_operations=frozenset({"PUT Invoices/{id}/Attachments", "PUT BankTransactions/{id}/Attachments"}),
)

DESTINATIONS = {
    destination.system: destination for destination in (INTACCT_DESTINATION, QUICKBOOKS_DESTINATION, XERO_DESTINATION)
}
