"""Opens the connector of one stored connection: resolves URLs, app and tenant credentials, and auth."""

import uuid
from collections.abc import MutableMapping
from typing import Any

from connectors.auth import OAuth2Auth, OAuth2Client
from connectors.base import Connector, ConnectorContext
from connectors.http import build_client
from connectors.registry import connector_class
from connectors.spec import AuthMode, ConnectorSpec
from connectors.token_store import DatabaseTokenStore
from connectors.url_policy import sandbox_base
from core.crypto import CredentialVault, VaultError
from core.db import Database
from core.errors import AuthError
from core.models import Connection
from core.settings import Settings


class ConnectionNotFoundError(LookupError):
    """No such connection for this tenant."""


def resolve_urls(spec: ConnectorSpec, settings: Settings) -> dict[str, str]:
    """The spec's URLs, or their sandbox twins on a machine allowed to use the sandbox (`connectors.url_policy`)."""
    base = sandbox_base(settings)
    return {name: spec.url(name, sandbox_base=base) for name in spec.urls}


def oauth2_client(spec: ConnectorSpec, settings: Settings) -> OAuth2Client:
    """Ledgerline's OAuth2 client for a system, from `LEDGERLINE_CONNECTOR_APPS`."""
    assert spec.auth.oauth2 is not None
    app = settings.connector_app(spec.system)
    if "client_id" not in app or "client_secret" not in app:
        raise AuthError(
            f"No OAuth client is configured for {spec.display_name}.",
            code="app_not_configured",
            hint=f'Set LEDGERLINE_CONNECTOR_APPS with {{"{spec.system}": {{"client_id": …, "client_secret": …}}}}.',
        )
    urls = resolve_urls(spec, settings)
    return OAuth2Client(
        spec.auth.oauth2,
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        token_url=urls["token"],
        authorize_url=urls["authorize"],
        http=build_client(),
    )


async def open_connector(
    *,
    database: Database,
    vault: CredentialVault,
    settings: Settings,
    tenant_id: uuid.UUID,
    connection_id: uuid.UUID,
    shared: MutableMapping[str, Any] | None = None,
) -> Connector:
    async with database.tenant_session(tenant_id) as session:
        row = await session.get(Connection, connection_id)
        if row is None or row.tenant_id != tenant_id:
            raise ConnectionNotFoundError(f"no connection {connection_id}")
        provider, credentials, connection_settings = row.provider, row.credentials, dict(row.settings)
    cls = connector_class(provider)
    spec = cls.spec
    auth = None
    tenant_credentials: dict[str, str] = {}
    if spec.auth.mode is AuthMode.OAUTH2:
        store = DatabaseTokenStore(database, vault, tenant_id=tenant_id, connection_id=connection_id)
        auth = OAuth2Auth(store, oauth2_client(spec, settings))
    elif credentials is not None:
        try:
            tenant_credentials = {key: str(value) for key, value in vault.decrypt(credentials).items()}
        except VaultError as exc:  # a vault key was retired too early: only a person re-entering them can help
            raise AuthError(
                "The stored credentials cannot be decrypted with the configured vault keys.",
                code="credentials_unreadable",
                hint="Enter the connection's credentials again, or restore the retired vault key.",
            ) from exc
    context = ConnectorContext(
        tenant_id=tenant_id,
        connection_id=connection_id,
        urls=resolve_urls(spec, settings),
        app=settings.connector_app(spec.system),
        credentials=tenant_credentials,
        settings=connection_settings,
        auth=auth,
        shared=shared,
    )
    return cls(context)
