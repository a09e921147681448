"""The operator's commands, run as the installed console script against the test database."""

import subprocess
import uuid

import httpx

from core.settings import Settings
from tests.conftest import LEDGERLINE_CLI, settings_env


def run_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LEDGERLINE_CLI, *args], env=settings_env(settings), capture_output=True, text=True, timeout=60
    )


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
