"""The operator's commands, run as the installed console script against the test database."""

import subprocess
import uuid

import httpx
from sqlalchemy import text

from core.db import Database
from core.settings import Settings
from tests.conftest import LEDGERLINE_CLI, make_tenant, settings_env
from tests.dashboard.conftest import sign_in


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**settings_env(settings), "COLUMNS": "200"}  # rich wraps tables to the terminal width
    return subprocess.run([LEDGERLINE_CLI, *args], env=env, capture_output=True, text=True, timeout=60)


async def test_tenant_and_admin_key_from_the_cli_work_against_the_api(
    settings: Settings, client: httpx.AsyncClient
) -> None:
    slug = f"cli-{uuid.uuid4().hex[:6]}"
    created = run_cli(settings, "tenants", "create", "CLI Co", "--slug", slug)
    assert created.returncode == 0, created.stdout + created.stderr
    assert slug in run_cli(settings, "tenants", "list").stdout
    duplicate = run_cli(settings, "tenants", "create", "CLI Co", "--slug", slug)
    assert duplicate.returncode == 1
    assert "already exists" in duplicate.stdout

    issued = run_cli(settings, "api-keys", "create", "--role", "admin", "--tenant", slug, "--name", "ci")
    assert issued.returncode == 0, issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    response = await client.get("/v1/tenant", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.json()["slug"] == slug


def test_key_roles_and_tenants_must_agree(settings: Settings) -> None:
    assert run_cli(settings, "api-keys", "create", "--role", "admin").returncode == 2
    assert run_cli(settings, "api-keys", "create", "--role", "support", "--tenant", "x").returncode == 2
    unknown = run_cli(settings, "api-keys", "create", "--role", "admin", "--tenant", "no-such-tenant")
    assert unknown.returncode == 1
    assert "No tenant" in unknown.stdout


async def test_a_support_key_is_refused_on_tenant_endpoints(settings: Settings, client: httpx.AsyncClient) -> None:
    issued = run_cli(settings, "api-keys", "create", "--role", "support", "--name", "helpdesk")
    key = issued.stdout.strip().splitlines()[-1]
    response = await client.get("/v1/tenant", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_production_refuses_development_secrets(settings: Settings) -> None:
    env = settings_env(settings)
    env.pop("LEDGERLINE_VAULT_KEYS")
    env["LEDGERLINE_ENV"] = "prod"
    result = subprocess.run([LEDGERLINE_CLI, "tenants", "list"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "LEDGERLINE_VAULT_KEYS" in result.stdout


def test_commands_needing_a_database_say_so_when_none_is_set(settings: Settings) -> None:
    env = settings_env(settings)
    env.pop("LEDGERLINE_DATABASE_URL")
    result = subprocess.run([LEDGERLINE_CLI, "migrate"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "LEDGERLINE_DATABASE_URL is not set" in result.stdout


async def test_connections_lists_health_without_credentials(
    settings: Settings, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await make_tenant(database, "Health")
    created = await client.post(
        "/v1/connections",
        headers=owner.headers,
        json={"name": "books", "provider": "intacct", "role": "destination"},
    )
    assert created.status_code == 201
    async with database.owner_session() as session:
        await session.execute(
            text(
                "UPDATE connections SET status = 'needs_reauth', status_reason = 'token revoked' WHERE tenant_id = :t"
            ),
            {"t": owner.id},
        )
    listed = run_cli(settings, "connections", "--tenant", owner.slug)
    assert listed.returncode == 0, listed.stderr
    assert "books" in listed.stdout and "needs_reauth" in listed.stdout and "token revoked" in listed.stdout


async def test_keys_expire_are_listed_without_secrets_and_revoke_at_once(
    settings: Settings, client: httpx.AsyncClient, database: Database
) -> None:
    owner = await make_tenant(database, "Keys")
    options = ("--role", "admin", "--tenant", owner.slug, "--name", "ci", "--expires-in-days", "30")
    issued = run_cli(settings, "api-keys", "create", *options)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    key = issued.stdout.strip().splitlines()[-1]
    prefix, secret = key.split("_", 2)[1:]
    assert (await client.get("/v1/tenant", headers={"Authorization": f"Bearer {key}"})).status_code == 200
    assert (await sign_in(client, key)).status_code == 303

    listed = run_cli(settings, "api-keys", "list", "--tenant", owner.slug)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    line = next(row for row in listed.stdout.splitlines() if prefix in row)
    assert "admin" in line and owner.slug in line and "expires" in line
    assert secret not in listed.stdout and owner.key.split("_", 2)[2] not in listed.stdout

    revoked = run_cli(settings, "api-keys", "revoke", prefix)
    assert revoked.returncode == 0, revoked.stdout + revoked.stderr
    assert (await client.get("/v1/tenant", headers={"Authorization": f"Bearer {key}"})).status_code == 401
    assert (await client.get("/dashboard/connections")).status_code == 303, "the dashboard session ended with the key"
    assert "revoked" in next(row for row in run_cli(settings, "api-keys", "list").stdout.splitlines() if prefix in row)
    async with database.owner_session() as session:
        actions = (
            await session.scalars(
                text("SELECT action FROM audit_events WHERE tenant_id = :t ORDER BY seq"), {"t": owner.id}
            )
        ).all()
    assert "api_key.revoke" in actions

    unknown = run_cli(settings, "api-keys", "revoke", "nosuchprefix")
    assert unknown.returncode == 1 and "No such key" in unknown.stdout
