"""What the end-to-end tests share: settings and environment sending every connector to the sandbox, a real
`ledgerline worker` process, and the books every flow starts from (a Fyle source, an Intacct destination)."""

import json
import secrets
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, DestinationAttribute, ExportItem, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sandbox.quickbooks.constants import CLIENT_ID as QUICKBOOKS_CLIENT_ID
from sandbox.quickbooks.constants import CLIENT_SECRET as QUICKBOOKS_CLIENT_SECRET
from sandbox.xero.constants import CLIENT_ID as XERO_CLIENT_ID
from sandbox.xero.constants import CLIENT_SECRET as XERO_CLIENT_SECRET
from tests.conftest import LEDGERLINE_CLI, settings_env
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import REIMBURSABLE_BILLS, FyleSource, make_source
from tests.vocabularies import INTACCT


@pytest.fixture
def product_settings(settings: Settings, sandbox: RunningSandbox) -> Settings:
    """Settings sending every connector to the sandbox, with Ledgerline's sandbox app credentials for each."""
    apps = {
        "fyle": {
            "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
            "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
        },
        "intacct": {"sender_id": SecretStr(SENDER_ID), "sender_password": SecretStr(SENDER_PASSWORD)},
        "quickbooks": {
            "client_id": SecretStr(QUICKBOOKS_CLIENT_ID),
            "client_secret": SecretStr(QUICKBOOKS_CLIENT_SECRET),
        },
        "xero": {"client_id": SecretStr(XERO_CLIENT_ID), "client_secret": SecretStr(XERO_CLIENT_SECRET)},
    }
    return settings.model_copy(update={"sandbox_url": sandbox.url, "connector_apps": apps})


@pytest.fixture
def product_env(product_settings: Settings, sandbox: RunningSandbox) -> dict[str, str]:
    apps = {system: product_settings.connector_app(system) for system in product_settings.connector_apps}
    return {
        **settings_env(product_settings),
        "LEDGERLINE_SANDBOX_URL": sandbox.url,
        "LEDGERLINE_CONNECTOR_APPS": json.dumps(apps),
    }


@pytest.fixture
def worker(product_env: dict[str, str], tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "worker.log"
    process = subprocess.Popen(
        [LEDGERLINE_CLI, "worker"], env=product_env, stdout=subprocess.DEVNULL, stderr=log.open("w")
    )
    try:
        yield log
    finally:
        process.terminate()
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]


CLI_TIMEOUT_SECONDS = 120


def ledgerline(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    """The product's own command line, as an operator runs it."""
    return subprocess.run(
        [LEDGERLINE_CLI, *arguments],
        env=env | {"COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_SECONDS,
        check=False,
    )


def tail(log: Path) -> str:
    return log.read_text()[-3000:]


async def make_books(
    database: Database,
    settings: Settings,
    sandbox: RunningSandbox,
    *,
    company: str = SINGLE_ENTITY_COMPANY,
    export: ExportSettings = REIMBURSABLE_BILLS,
) -> tuple[FyleSource, uuid.UUID]:
    """A tenant with Fyle on the sandbox and an Intacct destination in `company` exporting under `export`."""
    source = await make_source(database, settings, sandbox)
    vault = CredentialVault(settings.vault_key_list())
    credentials = {"user_id": USER_ID, "company_id": company, "user_password": USER_PASSWORD}
    destination_id = uuid.uuid4()
    async with database.tenant_session(source.tenant_id) as session:
        destination = Connection(
            id=destination_id,
            tenant_id=source.tenant_id,
            name="intacct",
            provider="intacct",
            role="destination",
            credentials=vault.encrypt(credentials),
            settings={"push_dimensions": {"project": "projects"}},
            webhook_key=secrets.token_hex(8),
        )
        session.add(destination)
        await session.flush()
        await save_settings(
            TenantRepository(session, source.tenant_id, "admin"),
            destination=destination,
            settings=export,
            vocabulary=INTACCT,
        )
    return source, destination_id


async def map_everything(database: Database, source: FyleSource, destination_id: uuid.UUID) -> int:
    """What an admin does after the first import and pull: every category to an account, every employee to a
    vendor (the first active one of each; the test cares that the mapping exists, not which)."""
    async with database.tenant_session(source.tenant_id) as session:
        data = (await session.scalars(select(SourceRecord.data))).all()

        async def first(attribute_type: str) -> uuid.UUID:
            found = await session.scalar(
                select(DestinationAttribute.id)
                .where(
                    DestinationAttribute.connection_id == destination_id,
                    DestinationAttribute.attribute_type == attribute_type,
                    DestinationAttribute.active.is_(True),
                )
                .order_by(DestinationAttribute.remote_id)
                .limit(1)
            )
            assert found is not None, f"the import brought no {attribute_type}"
            return found

        account, vendor = await first("account"), await first("vendor")
        changes = [
            *(MappingChange("category", value, "account", account) for value in {row["category"] for row in data}),
            *(MappingChange("employee", value, "vendor", vendor) for value in {row["employee_email"] for row in data}),
        ]
        await set_mappings(
            TenantRepository(session, source.tenant_id, "admin"),
            destination_connection_id=destination_id,
            changes=changes,
            vocabulary=INTACCT,
        )
    return len(changes)


async def exported_items(database: Database, tenant_id: uuid.UUID, destination_id: uuid.UUID) -> list[ExportItem]:
    """The destination's export items, oldest first, detached from their session."""
    async with database.tenant_session(tenant_id) as session:
        items = (
            await session.scalars(
                select(ExportItem)
                .where(ExportItem.destination_connection_id == destination_id)
                .order_by(ExportItem.created_at, ExportItem.id)
            )
        ).all()
        session.expunge_all()
    return list(items)


def source_ids(item: ExportItem) -> set[str]:
    """The expenses an item's document carries."""
    assert item.document is not None
    return {source_id for line in item.document["lines"] for source_id in line["source_ids"]}


def reports_of(records: list[dict[str, Any]], item: ExportItem) -> set[str]:
    ids = source_ids(item)
    return {str(row["report_id"]) for row in records if row["id"] in ids and row.get("report_id")}


def fyle_writes(sandbox: RunningSandbox, kind: str) -> list[dict[str, Any]]:
    """What the product wrote to the Fyle simulator, of one kind (`expense_export_summaries`, `reports_mark_paid`)."""
    with sandbox.control() as control:
        rows: list[dict[str, Any]] = control.get("/fyle/writes", params={"kind": kind}).json()["data"]
    return rows
