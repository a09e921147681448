"""Connecting a system, for the API and the dashboard alike: the spec's credential fields checked, the credentials
proved with the system, and the connection saved (created, or re-authorized). Failures are exceptions each surface
answers in its own way (problem+json, or errors beside a form's fields)."""

import re
import secrets
import uuid
from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorContext
from connectors.factory import resolve_urls
from connectors.registry import connector_class
from connectors.spec import ConnectorSpec
from core.crypto import CredentialVault, VaultError
from core.errors import AuthError, LedgerlineError
from core.models import Connection, ConnectionStatus
from core.repository import TenantRepository
from core.settings import Settings
from sync.repointing import refuse_repointing_while_unsettled
from web.constants import WEBHOOK_KEY_BYTES


class CredentialsRefused(Exception):
    """The system refused the credentials (wrong user, password, company…)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SystemUnreachable(Exception):
    """The system could not be reached to check the credentials; nothing was saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConnectionOfAnotherSystem(Exception):
    """The named connection exists and belongs to another system."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def credential_problems(spec: ConnectorSpec, given: Mapping[str, str]) -> list[tuple[str, str]]:
    """(field, what is wrong) for every given field the spec does not declare and every declared one missing or not
    of its declared form; empty when the credentials may be checked with the system."""
    fields = {field.name: field for field in spec.auth.tenant_fields}
    known = ", ".join(fields)
    problems = [
        (name, f"not a field of {spec.display_name} (those are {known})") for name in given if name not in fields
    ]
    for field in fields.values():
        value = given.get(field.name, "")
        if field.required and not value:
            problems.append((field.name, f"required ({field.help})"))
        elif value and field.pattern and not re.fullmatch(field.pattern, value):
            problems.append((field.name, f"does not have the expected form ({field.help})"))
    return problems


async def check_credentials(
    spec: ConnectorSpec, *, settings: Settings, tenant_id: uuid.UUID, credentials: Mapping[str, str]
) -> None:
    """Prove the credentials with the connector's `check()` before anything is stored."""
    context = ConnectorContext(
        tenant_id=tenant_id,
        connection_id=uuid.uuid4(),
        urls=resolve_urls(spec, settings),
        app=settings.connector_app(spec.system),
        credentials=dict(credentials),
    )
    async with connector_class(spec.system)(context) as connector:
        try:
            await connector.check()
        except AuthError as exc:
            raise CredentialsRefused(f"{spec.display_name} refused these credentials: {exc.message}") from exc
        except LedgerlineError as exc:
            raise SystemUnreachable(
                f"{spec.display_name} could not be reached to check the credentials: {exc.message}"
            ) from exc


async def refuse_repointing(
    repository: TenantRepository,
    *,
    spec: ConnectorSpec,
    name: str,
    credentials: Mapping[str, str],
    vault: CredentialVault,
) -> None:
    """`RepointingRefusedError` when new credentials name other books than the named connection's while its exports
    are unsettled (`sync.repointing`). The row stays locked until the save commits, so two saves of one connection
    are checked one after the other; credentials that cannot be decrypted count as any field changing."""
    query = repository.scoped(Connection).where(Connection.name == name).with_for_update()
    row = (await repository.session.scalars(query)).first()
    if row is None or row.provider != spec.system:
        return  # a new connection, or one `save_connection` refuses for its system
    try:
        before = vault.decrypt(row.credentials) if row.credentials else {}
    except VaultError:
        before = None
    await refuse_repointing_while_unsettled(
        repository.session,
        tenant_id=repository.tenant_id,
        connection=row,
        spec=spec,
        before=before,
        after=dict(credentials),
    )


async def save_connection(
    repository: TenantRepository,
    *,
    spec: ConnectorSpec,
    name: str,
    credentials: bytes,
    action: str,
    settings: dict[str, Any] | None = None,
    oauth_grant: uuid.UUID | None = None,
) -> Connection:
    """Create the named connection, or re-authorize it: new credentials, back to `active`. `oauth_grant` names the
    consent whose tokens it shares with other connections; None: the credentials are its own."""
    row = (await repository.session.scalars(repository.scoped(Connection).where(Connection.name == name))).first()
    if row is not None and row.provider != spec.system:
        raise ConnectionOfAnotherSystem(f"The connection {name!r} belongs to {row.provider}, not {spec.system}.")
    if row is None:
        row = Connection(
            id=uuid.uuid4(),
            name=name,
            provider=spec.system,
            role=spec.roles[0].value,
            webhook_key=secrets.token_urlsafe(WEBHOOK_KEY_BYTES),
            credentials=credentials,
            settings=settings or {},
            oauth_grant=oauth_grant,
        )
        await repository.add(row, audit_action=action, audit_data={"system": spec.system})
    else:
        row.credentials = credentials
        row.oauth_grant = oauth_grant
        row.settings = {**row.settings, **(settings or {})}
        row.status = ConnectionStatus.ACTIVE.value
        row.status_reason = None
        await repository.session.flush()
        await repository.audit(action, entity=row, data={"system": spec.system, "reauthorized": True})
    await repository.session.refresh(row)
    return row
