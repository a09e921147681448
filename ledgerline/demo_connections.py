"""The demo tenant's connections, one per installed system the sandbox simulates, made as each connect flow would:
credentials proved with the system before they are stored, or OAuth2 tokens from the simulator's seeded grant with
the settings the connector learns after an authorization (a company id, a data cluster).

Run on every start: a simulator keeps its state in memory, so tokens a previous start stored are unknown to the
fresh one and are replaced, while the connection rows (and everything hanging off them) stay.
"""

import secrets
import uuid
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from connectors.auth import BearerAuth
from connectors.base import ConnectorContext
from connectors.factory import oauth2_client, open_connector, resolve_urls
from connectors.registry import connector_class
from connectors.spec import AuthMode, ConnectorRole, ConnectorSpec
from core.crypto import CredentialVault
from core.db import Database
from core.errors import LedgerlineError
from core.models import Connection, ConnectionStatus
from core.repository import TenantRepository
from core.settings import Settings
from ledgerline.constants import DEMO_ACTOR
from ledgerline.demo_simulators import SimulatorSeed

WEBHOOK_KEY_BYTES = 24


@dataclass(frozen=True)
class DemoConnection:
    id: uuid.UUID
    system: str
    role: ConnectorRole
    created: bool


async def _credentials_and_settings(
    spec: ConnectorSpec, seed: SimulatorSeed, *, settings: Settings, tenant_id: uuid.UUID
) -> tuple[dict[str, str], dict[str, Any]]:
    """What the connect flow would store: checked credentials, or a grant's tokens and what it taught us."""
    context = ConnectorContext(
        tenant_id=tenant_id,
        connection_id=uuid.uuid4(),
        urls=resolve_urls(spec, settings),
        app=settings.connector_app(spec.system),
        credentials=dict(seed.credentials or {}),
    )
    if spec.auth.mode is AuthMode.CREDENTIALS:
        async with connector_class(spec.system)(context) as connector:
            await connector.check()
        return dict(seed.credentials or {}), {}
    if seed.refresh_token is None:
        raise ValueError(f"the {spec.display_name} simulator offers no grant for the demo")
    client = oauth2_client(spec, settings)
    try:
        tokens = await client.refresh(seed.refresh_token)
    finally:
        await client.aclose()
    authorized = replace(context, auth=BearerAuth(tokens.access_token))
    async with connector_class(spec.system)(authorized) as connector:
        accounts = await connector.authorized_accounts(seed.callback)
    if not accounts:
        raise ValueError(f"the {spec.display_name} simulator's grant covers no books")
    return tokens.as_credentials(), dict(accounts[0].settings)  # a consent covering several: the first, as listed


async def _still_works(
    database: Database, *, settings: Settings, vault: CredentialVault, tenant_id: uuid.UUID, connection_id: uuid.UUID
) -> bool:
    """Whether the stored connection still opens the system (a fresh simulator knows no earlier tokens)."""
    try:
        connector = await open_connector(
            database=database, vault=vault, settings=settings, tenant_id=tenant_id, connection_id=connection_id
        )
        async with connector:
            await connector.check()
    except LedgerlineError:
        return False
    async with database.tenant_session(tenant_id) as session:
        status = await session.scalar(select(Connection.status).where(Connection.id == connection_id))
    return status == ConnectionStatus.ACTIVE.value


async def connect_demo_systems(
    database: Database,
    *,
    settings: Settings,
    vault: CredentialVault,
    tenant_id: uuid.UUID,
    seeds: dict[str, SimulatorSeed],
) -> list[DemoConnection]:
    """Create a connection named after each system, in the registry's order, or re-authorize one that no longer
    opens its system."""
    connections = []
    for system, seed in seeds.items():
        spec = connector_class(system).spec
        async with database.tenant_session(tenant_id) as session:
            existing = await session.scalar(
                select(Connection).where(Connection.tenant_id == tenant_id, Connection.name == system)
            )
        if existing is not None and await _still_works(
            database, settings=settings, vault=vault, tenant_id=tenant_id, connection_id=existing.id
        ):
            connections.append(DemoConnection(existing.id, system, ConnectorRole(existing.role), created=False))
            continue
        credentials, learned = await _credentials_and_settings(spec, seed, settings=settings, tenant_id=tenant_id)
        async with database.tenant_session(tenant_id) as session:
            repository = TenantRepository(session, tenant_id, DEMO_ACTOR)
            query = repository.scoped(Connection).where(Connection.name == system).with_for_update()
            row = (await session.scalars(query)).first()
            created = row is None
            if row is None:
                row = Connection(
                    id=uuid.uuid4(),
                    name=system,
                    provider=system,
                    role=spec.roles[0].value,
                    webhook_key=secrets.token_urlsafe(WEBHOOK_KEY_BYTES),
                    credentials=vault.encrypt(credentials),
                    settings=learned,
                )
                await repository.add(row, audit_action="connection.connect", audit_data={"system": system})
            else:
                row.credentials = vault.encrypt(credentials)
                row.settings = {**row.settings, **learned}
                row.status = ConnectionStatus.ACTIVE.value
                row.status_reason = None
                await session.flush()
                await repository.audit("connection.connect", entity=row, data={"system": system, "reauthorized": True})
            connections.append(DemoConnection(row.id, system, ConnectorRole(row.role), created))
    return connections
