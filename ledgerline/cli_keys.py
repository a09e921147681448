"""`ledgerline api-keys`: issue a key (optionally expiring), list keys without their secrets, revoke one at once.

Every change is written to the audit log. Revoking also deletes the key's dashboard sessions; they could not be used
anyway (each request re-reads the key), but nothing that can no longer open a door is kept.
"""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import ColumnElement, delete, or_, select

from core.api_keys import issue_key
from core.audit import append_event
from core.constants import API_KEY_SCHEME
from core.db import Database
from core.models import ApiKey, ApiKeyRole, DashboardSession, Tenant
from ledgerline.cli_support import (
    CLI_ACTOR,
    console,
    load_settings,
    require_database_url,
    run_with_database,
    tenant_filter,
)

keys_app = typer.Typer(help="Issue, list and revoke API keys.", no_args_is_help=True)
MAX_KEY_LIFETIME_DAYS = 3650


@keys_app.command("create")
def api_keys_create(
    role: Annotated[ApiKeyRole, typer.Option(help="admin: one tenant; support: every tenant, no credentials.")],
    tenant: Annotated[str | None, typer.Option(help="Tenant id or slug (admin keys only).")] = None,
    name: Annotated[str, typer.Option(help="What the key is for.")] = "cli",
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=MAX_KEY_LIFETIME_DAYS, help="Refuse the key after this many days.")
    ] = None,
) -> None:
    """Issue an API key. It is printed once and cannot be shown again."""
    settings = load_settings()
    require_database_url(settings)
    if (role is ApiKeyRole.ADMIN) != (tenant is not None):
        console.print("[red]An admin key needs --tenant; a support key must not have one.[/red]")
        raise typer.Exit(2)
    expires_at = datetime.now(UTC) + timedelta(days=expires_in_days) if expires_in_days else None
    key = run_with_database(
        settings,
        lambda database: issue_api_key(database, role=role, tenant=tenant, name=name, expires_at=expires_at),
    )
    if key is None:
        console.print(f"[red]No tenant {tenant!r}.[/red]")
        raise typer.Exit(1)
    console.print("Store this key now; it is not shown again:")
    typer.echo(key)


async def issue_api_key(
    database: Database, *, role: ApiKeyRole, tenant: str | None, name: str, expires_at: datetime | None = None
) -> str | None:
    async with database.owner_session() as session:
        tenant_id = None
        if tenant is not None:
            tenant_id = await session.scalar(select(Tenant.id).where(tenant_filter(tenant)))
            if tenant_id is None:
                return None
        issued = issue_key(name=name, role=role, tenant_id=tenant_id, expires_at=expires_at)
        session.add(issued.row)
        await session.flush()
        await append_event(
            session,
            tenant_id=tenant_id,
            actor=CLI_ACTOR,
            action="api_key.create",
            entity_type="api_keys",
            entity_id=str(issued.row.id),
            data={
                "role": role.value,
                "name": name,
                "prefix": issued.row.prefix,
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
        return issued.plaintext


def _key_state(key: ApiKey, now: datetime) -> str:
    if key.revoked_at is not None:
        return f"[red]revoked {key.revoked_at.isoformat(timespec='seconds')}[/red]"
    if key.expires_at is not None and key.expires_at <= now:
        return f"[red]expired {key.expires_at.isoformat(timespec='seconds')}[/red]"
    if key.expires_at is not None:
        return f"expires {key.expires_at.isoformat(timespec='seconds')}"
    return "active"


@keys_app.command("list")
def api_keys_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's keys (id or slug).")] = None,
) -> None:
    """List API keys (never their secrets): prefix, role, tenant, and whether each is active, expired or revoked."""
    settings = load_settings()
    require_database_url(settings)

    async def work(database: Database) -> list[tuple[ApiKey, str]]:
        async with database.owner_session() as session:
            query = select(ApiKey, Tenant.slug).outerjoin(Tenant, Tenant.id == ApiKey.tenant_id)
            if tenant is not None:
                query = query.where(tenant_filter(tenant))
            rows = await session.execute(query.order_by(ApiKey.created_at))
            return [(row[0], row[1] or "* (support)") for row in rows]

    now = datetime.now(UTC)
    table = Table("prefix", "name", "role", "tenant", "created", "state")
    for key, slug in run_with_database(settings, work):
        created = key.created_at.isoformat(timespec="seconds")
        table.add_row(key.prefix, key.name, key.role, slug, created, _key_state(key, now))
    console.print(table)


@keys_app.command("revoke")
def api_keys_revoke(
    key: Annotated[str, typer.Argument(help="The key's prefix (as `api-keys list` shows it), its id, or the key.")],
) -> None:
    """Revoke an API key at once: the API refuses it and its dashboard sessions end."""
    settings = load_settings()
    require_database_url(settings)
    revoked = run_with_database(settings, lambda database: _revoke_key(database, key))
    if revoked is None:
        console.print("[red]No such key.[/red] Give the prefix shown by `ledgerline api-keys list`.")
        raise typer.Exit(1)
    console.print(f"Revoked key {revoked}; its dashboard sessions are closed.")


def _key_filter(reference: str) -> ColumnElement[bool]:
    """A prefix, a row id, or the whole `ll_<prefix>_<secret>` (only its prefix is read)."""
    parts = reference.strip().split("_", 2)
    prefix = parts[1] if len(parts) == 3 and parts[0] == API_KEY_SCHEME else reference.strip()
    try:
        return or_(ApiKey.prefix == prefix, ApiKey.id == uuid.UUID(reference.strip()))
    except ValueError:
        return ApiKey.prefix == prefix


async def _revoke_key(database: Database, reference: str) -> str | None:
    async with database.owner_session() as session:
        key = (await session.scalars(select(ApiKey).where(_key_filter(reference)).with_for_update())).first()
        if key is None:
            return None
        if key.revoked_at is None:
            key.revoked_at = datetime.now(UTC)
            await append_event(
                session,
                tenant_id=key.tenant_id,
                actor=CLI_ACTOR,
                action="api_key.revoke",
                entity_type="api_keys",
                entity_id=str(key.id),
                data={"prefix": key.prefix, "name": key.name},
            )
        await session.execute(delete(DashboardSession).where(DashboardSession.api_key_id == key.id))
        return key.prefix
