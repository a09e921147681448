"""The end-to-end benchmark's world: a throw-away database, settings for the product, and one tenant per run.

A tenant is set up the way an admin would after connecting both systems: a Fyle source (a real refresh grant on the
sandbox), a destination (Intacct unless a `bench.destinations` one is named) with the sandbox company's credentials,
bills per report for reimbursable expenses, the destination's chart imported through `sync.import_engine`, and every
Fyle category and employee mapped to an imported account and vendor. None of this is timed.
"""

import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.pool import NullPool

from bench.destinations import DESTINATIONS, INTACCT_DESTINATION, ExportPlan, SandboxDestination
from connectors.base import DestinationConnector
from connectors.factory import open_connector
from connectors.registry import destination_vocabulary
from core import migrate
from core.audit import append_event
from core.crypto import CredentialVault
from core.db import Database, sqlalchemy_url
from core.models import Connection, ConnectionRole, DestinationAttribute, Tenant
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, FYLE_SANDBOX_REFRESH_TOKEN
from sync.import_engine import import_dimensions

SERVER_URL = os.environ.get("LEDGERLINE_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LEDGERLINE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
ACTOR = "bench"
FYLE_API = "/fyle/platform/v1"
LIST_LIMIT = 200
BILLS_PER_REPORT = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
    }
)
"""Approved (or later) reimbursable expenses, one bill per report; corporate-card expenses are not exported."""


def _admin_execute(statement: str) -> None:
    engine = create_engine(sqlalchemy_url(SERVER_URL), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(statement))
    engine.dispose()


def create_database() -> str:
    """A new, migrated database on the server; returns its owner URL."""
    name = f"ledgerline_bench_{uuid.uuid4().hex[:12]}"
    _admin_execute(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    return url


def drop_database(url: str) -> None:
    _admin_execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def product_settings(database_url: str, sandbox_url: str) -> Settings:
    apps = {
        "fyle": {
            "client_id": SecretStr(FYLE_SANDBOX_CLIENT_ID),
            "client_secret": SecretStr(FYLE_SANDBOX_CLIENT_SECRET),
        },
        **{system: destination.app for system, destination in DESTINATIONS.items()},
    }
    return Settings(
        env="test",
        database_url=database_url,
        redis_url=REDIS_URL,
        queue_name=f"ledgerline:bench:{uuid.uuid4().hex[:8]}",
        vault_keys=CredentialVault.new_key(),
        session_secret=secrets.token_urlsafe(32),
        log_json=True,
        log_level="WARNING",
        sandbox_url=sandbox_url,
        connector_apps=apps,
    )


def product_env(settings: Settings) -> dict[str, str]:
    """The environment a `ledgerline worker` subprocess needs to see the same settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("LEDGERLINE_")}
    apps = {system: settings.connector_app(system) for system in settings.connector_apps}
    env.update(
        LEDGERLINE_ENV=settings.env,
        LEDGERLINE_DATABASE_URL=settings.database_url or "",
        LEDGERLINE_REDIS_URL=settings.redis_url or "",
        LEDGERLINE_QUEUE_NAME=settings.queue_name,
        LEDGERLINE_VAULT_KEYS=settings.vault_keys.get_secret_value(),
        LEDGERLINE_SESSION_SECRET=settings.session_secret.get_secret_value(),
        LEDGERLINE_LOG_LEVEL=settings.log_level,
        LEDGERLINE_SANDBOX_URL=settings.sandbox_url or "",
        LEDGERLINE_CONNECTOR_APPS=json.dumps(apps),
    )
    return env


def fyle_grant(sandbox_url: str) -> tuple[dict[str, Any], str]:
    """Tokens from a refresh grant with the seeded refresh token, and the org's cluster domain."""
    base = f"{sandbox_url}/fyle"
    body = {
        "grant_type": "refresh_token",
        "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
        "client_id": FYLE_SANDBOX_CLIENT_ID,
        "client_secret": FYLE_SANDBOX_CLIENT_SECRET,
    }
    issued = httpx.post(f"{base}/oauth/token", json=body, timeout=10).json()
    headers = {"Authorization": f"Bearer {issued['access_token']}"}
    cluster = httpx.post(f"{base}/oauth/cluster", headers=headers, timeout=10).json()["cluster_domain"]
    tokens = {
        "access_token": issued["access_token"],
        "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
        "expires_at": (datetime.now(UTC) + timedelta(seconds=issued["expires_in"])).isoformat(),
    }
    return tokens, cluster


def fyle_listing(sandbox_url: str, access_token: str, name: str) -> list[dict[str, Any]]:
    """Every row of one Fyle admin list (categories, employees), by offset."""
    rows: list[dict[str, Any]] = []
    headers = {"Authorization": f"Bearer {access_token}"}
    with httpx.Client(base_url=f"{sandbox_url}{FYLE_API}", headers=headers, timeout=30) as client:
        while True:
            page = client.get(f"/admin/{name}", params={"offset": len(rows), "limit": LIST_LIMIT}).json()["data"]
            rows.extend(page)
            if len(page) < LIST_LIMIT:
                return rows


def category_value(category: dict[str, Any]) -> str:
    """What the Fyle connector calls a category: its display name, else "name / sub category"."""
    if category.get("display_name"):
        return str(category["display_name"])
    name, sub = category.get("name"), category.get("sub_category")
    return f"{name} / {sub}" if sub and sub != name else str(name)


@dataclass(frozen=True)
class BenchTenant:
    tenant_id: uuid.UUID
    source_id: uuid.UUID
    destination_id: uuid.UUID
    account: str
    """Remote id of the GL account every category is mapped to."""
    vendor: str
    """Remote id of the vendor every employee is mapped to."""
    mapped: int


async def make_tenant(
    database: Database,
    settings: Settings,
    name: str,
    destination_system: SandboxDestination = INTACCT_DESTINATION,
    *,
    export: ExportSettings | ExportPlan = BILLS_PER_REPORT,
) -> BenchTenant:
    """A tenant with both connections, `export` settings (one bill per report unless told), the imported chart and
    complete mappings."""
    assert settings.sandbox_url is not None
    vault = CredentialVault(settings.vault_key_list())
    tenant_id, source_id, destination_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with database.owner_session() as session:
        session.add(Tenant(id=tenant_id, name=name, slug=f"{name.lower()}-{tenant_id.hex[:8]}"))
        await session.flush()
        await append_event(
            session, tenant_id=tenant_id, actor=ACTOR, action="tenant.create", entity_type="tenants", entity_id=name
        )
    tokens, cluster = fyle_grant(settings.sandbox_url)
    async with database.tenant_session(tenant_id) as session:
        session.add(
            Connection(
                id=source_id,
                tenant_id=tenant_id,
                name="fyle",
                provider="fyle",
                role=ConnectionRole.SOURCE.value,
                credentials=vault.encrypt(tokens),
                settings={"cluster_domain": cluster},
                webhook_key=secrets.token_hex(8),
            )
        )
        destination = Connection(
            id=destination_id,
            tenant_id=tenant_id,
            name=destination_system.system,
            provider=destination_system.system,
            role=ConnectionRole.DESTINATION.value,
            credentials=vault.encrypt(destination_system.credentials(settings.sandbox_url)),
            settings=dict(destination_system.settings),
            webhook_key=secrets.token_hex(8),
        )
        session.add(destination)

    connector = await open_connector(
        database=database, vault=vault, settings=settings, tenant_id=tenant_id, connection_id=destination_id
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        await import_dimensions(database, connector, tenant_id=tenant_id, connection_id=destination_id, actor=ACTOR)

    categories = {
        category_value(row) for row in fyle_listing(settings.sandbox_url, tokens["access_token"], "categories")
    }
    employees = {
        row["user"]["email"]
        for row in fyle_listing(settings.sandbox_url, tokens["access_token"], "employees")
        if (row.get("user") or {}).get("email")
    }
    async with database.tenant_session(tenant_id) as session:

        async def first(attribute_type: str, remote_id: str | None) -> tuple[uuid.UUID, str]:
            """The imported attribute `remote_id` names, or (None) the first active one."""
            chosen = [] if remote_id is None else [DestinationAttribute.remote_id == remote_id]
            row = (
                await session.execute(
                    select(DestinationAttribute.id, DestinationAttribute.remote_id)
                    .where(
                        DestinationAttribute.connection_id == destination_id,
                        DestinationAttribute.attribute_type == attribute_type,
                        DestinationAttribute.active.is_(True),
                        *chosen,
                    )
                    .order_by(DestinationAttribute.remote_id)
                    .limit(1)
                )
            ).first()
            assert row is not None, f"the import brought no {attribute_type} {remote_id or ''}"
            return row[0], row[1]

        url = settings.sandbox_url
        (account_id, account) = await first("account", destination_system.account(url))
        counterparty = destination_system.counterparty_type
        (vendor_id, vendor) = await first(counterparty, destination_system.vendor(url))
        changes = [
            *(MappingChange("category", value, "account", account_id) for value in sorted(categories)),
            *(MappingChange("employee", value, counterparty, vendor_id) for value in sorted(employees)),
        ]
        repository = TenantRepository(session, tenant_id, ACTOR)
        vocabulary = destination_vocabulary(destination_system.system)
        await set_mappings(repository, destination_connection_id=destination_id, changes=changes, vocabulary=vocabulary)
        # After the import: the settings may name imported accounts, which saving checks.
        connection = await session.get(Connection, destination_id)
        assert connection is not None
        await save_settings(
            repository,
            destination=connection,
            settings=destination_system.export_settings(export, settings.sandbox_url),
            vocabulary=vocabulary,
        )
    return BenchTenant(tenant_id, source_id, destination_id, account, vendor, len(changes))
