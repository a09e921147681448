"""Webhook secrets through the API: shown once, rotated with a grace period, revoked early, tenant-scoped, audited,
and never in a listing, the audit log or the logs."""

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from core.db import Database
from core.log import configure_logging
from core.models import AuditEvent, Connection
from sync.webhook_secrets import new_secret
from tests.conftest import TenantFixture
from tests.webhooks.ingress_support import create_connection, create_secret, deliver, webhook_target


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_rotation_keeps_the_old_secret_during_grace_until_revoked(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    rotated = await create_secret(client, tenant, target.connection_id)
    assert rotated["secret"] != target.secret and rotated["secret"].startswith("whsec_")
    [previous] = rotated["previous"]
    grace_end = datetime.fromisoformat(previous["expires_at"])
    assert timedelta(hours=23) < grace_end - datetime.now(UTC) <= timedelta(hours=24)
    new_target = type(target)(target.connection_id, target.path, rotated["secret"])

    assert (await deliver(client, target)).status_code == 202
    assert (await deliver(client, new_target)).status_code == 202

    revoked = await client.delete(
        f"/v1/connections/{target.connection_id}/webhook-secrets/previous", headers=tenant.headers
    )
    assert revoked.status_code == 200, revoked.text
    assert [item["id"] for item in revoked.json()["items"]] == [rotated["id"]]
    assert (await deliver(client, target)).status_code == 401
    assert (await deliver(client, new_target)).status_code == 202


async def test_secrets_appear_once_at_creation_and_never_again(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    target = await webhook_target(client, tenant)
    rotated = await create_secret(client, tenant, target.connection_id)
    path = f"/v1/connections/{target.connection_id}"
    listed = await client.get(f"{path}/webhook-secrets", headers=tenant.headers)
    assert listed.status_code == 200
    assert {item["id"] for item in listed.json()["items"]} == {rotated["id"], rotated["previous"][0]["id"]}
    responses = [
        listed,
        await client.get(path, headers=tenant.headers),
        await client.get("/v1/connections", headers=tenant.headers),
        await client.delete(f"{path}/webhook-secrets/previous", headers=tenant.headers),
    ]
    for response in responses:
        assert target.secret not in response.text and rotated["secret"] not in response.text
        assert "whsec_" not in response.text
    async with database.tenant_session(tenant.id) as session:
        audits = (await session.scalars(select(AuditEvent).where(AuditEvent.tenant_id == tenant.id))).all()
        stored = await session.scalar(select(Connection.webhook_secrets).where(Connection.id == target.connection_id))
    actions = [event.action for event in audits]
    assert actions.count("connection.webhook_secret.create") == 2
    assert "connection.webhook_secret.revoke_previous" in actions
    assert "whsec_" not in json.dumps([event.data for event in audits])
    assert stored is not None and b"whsec_" not in stored  # vault ciphertext


async def test_secrets_stay_out_of_the_logs(
    client: httpx.AsyncClient, tenant: TenantFixture, capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(level="DEBUG", json=True)
    target = await webhook_target(client, tenant)
    rotated = await create_secret(client, tenant, target.connection_id)
    assert (await deliver(client, target)).status_code == 202
    assert (await deliver(client, target, secret=new_secret(now=datetime.now(UTC)).secret)).status_code == 401
    assert (await deliver(client, target, message_id="m" * 300)).status_code == 400
    logged = capsys.readouterr().err
    assert "webhook_rejected" in logged
    assert target.secret not in logged and rotated["secret"] not in logged
    # Nor the URL key, in our own lines (the test client's own request log names the URL it calls).
    ours = [line for line in logged.splitlines() if json.loads(line).get("logger") != "httpx"]
    assert ours and not any(target.path.rsplit("/", 1)[1] in line for line in ours)


async def test_a_tenant_cannot_touch_another_tenants_secrets(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    theirs = await create_connection(client, other_tenant)
    await create_secret(client, other_tenant, theirs)
    path = f"/v1/connections/{theirs}/webhook-secrets"
    assert (await client.post(path, headers=tenant.headers)).status_code == 404
    assert (await client.get(path, headers=tenant.headers)).status_code == 404
    assert (await client.delete(f"{path}/previous", headers=tenant.headers)).status_code == 404
    assert len((await client.get(path, headers=other_tenant.headers)).json()["items"]) == 1


async def test_systems_without_webhooks_get_no_secret(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    intacct = await create_connection(client, tenant, provider="intacct", role="destination")
    response = await client.post(f"/v1/connections/{intacct}/webhook-secrets", headers=tenant.headers)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    listed = await client.get(f"/v1/connections/{intacct}/webhook-secrets", headers=tenant.headers)
    assert listed.status_code == 200
    assert listed.json() == {"webhook_url": None, "items": []}
