"""`PATCH /v1/connections/{id}`: a person renames a connection or changes its settings after creating it; settings are
merged (null removes one), each checked for its shape, and the system's own settings cannot be edited."""

import uuid

import httpx
from sqlalchemy import select, update

from core.db import Database
from core.models import AuditEvent, Connection
from sync.connection_settings import dimension_pushes
from tests.conftest import TenantFixture


async def _destination(client: httpx.AsyncClient, tenant: TenantFixture, settings: dict[str, object]) -> str:
    response = await client.post(
        "/v1/connections",
        json={
            "name": f"books-{uuid.uuid4().hex[:6]}",
            "provider": "intacct",
            "role": "destination",
            "settings": settings,
        },
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    connection_id: str = response.json()["id"]
    return connection_id


async def _learned(database: Database, tenant: TenantFixture, connection_id: str, settings: dict[str, object]) -> None:
    """Settings the system wrote itself (as a connect flow does), beside those a person gave."""
    async with database.tenant_session(tenant.id) as session:
        row = await session.get(Connection, uuid.UUID(connection_id))
        assert row is not None
        await session.execute(
            update(Connection).where(Connection.id == row.id).values(settings={**row.settings, **settings})
        )


async def test_settings_are_merged_removed_by_null_and_audited(
    client: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    connection_id = await _destination(client, tenant, {"push_dimensions": {"project": "projects"}})
    await _learned(database, tenant, connection_id, {"realm_id": "learned"})
    changed = await client.patch(
        f"/v1/connections/{connection_id}",
        json={
            "name": "Intacct (main)",
            "settings": {
                "push_dimensions": None,
                "realtime_export": True,
                "rate_limit": {"per_minute": 120, "concurrency": 1},
                "record_source_payments": {"account": "BOA-01", "payment_method": "EFT"},
            },
        },
        headers=tenant.headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["name"] == "Intacct (main)"
    assert changed.json()["settings"] == {
        "realm_id": "learned",
        "realtime_export": True,
        "rate_limit": {"per_minute": 120, "concurrency": 1},
        "record_source_payments": {"account": "BOA-01", "payment_method": "EFT"},
    }
    read = await client.get(f"/v1/connections/{connection_id}", headers=tenant.headers)
    assert read.json()["settings"] == changed.json()["settings"]
    async with database.tenant_session(tenant.id) as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "connection.update"))).all()
    assert [event.entity_id for event in events] == [connection_id]
    assert events[0].data["settings"]["realtime_export"] is True


async def test_bad_settings_are_refused_with_every_reason_and_change_nothing(
    client: httpx.AsyncClient, tenant: TenantFixture, database: Database
) -> None:
    connection_id = await _destination(client, tenant, {})
    await _learned(database, tenant, connection_id, {"realm_id": "learned"})
    refused = await client.patch(
        f"/v1/connections/{connection_id}",
        json={
            "settings": {
                "realm_id": "mine now",
                "push_dimensions": "yes",
                "rate_limit": {"per_minute": 0},
                "record_source_payments": {"account": ""},
            }
        },
        headers=tenant.headers,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    detail = refused.json()["detail"]
    for reason in (
        "realm_id: not a setting of this connection",
        "push_dimensions: must map each destination dimension type to the source dimension it fills",
        "rate_limit: limits must be whole numbers of at least 1",
        "record_source_payments: record_source_payments must be",
    ):
        assert reason in detail, detail
    read = await client.get(f"/v1/connections/{connection_id}", headers=tenant.headers)
    assert read.json()["settings"] == {"realm_id": "learned"}


async def test_a_name_in_use_and_another_tenants_connection_are_refused(
    client: httpx.AsyncClient, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    first = await _destination(client, tenant, {})
    second = await _destination(client, tenant, {})
    name = (await client.get(f"/v1/connections/{first}", headers=tenant.headers)).json()["name"]
    taken = await client.patch(f"/v1/connections/{second}", json={"name": name}, headers=tenant.headers)
    assert taken.status_code == 409
    foreign = await client.patch(
        f"/v1/connections/{first}", json={"settings": {"realtime_export": True}}, headers=other_tenant.headers
    )
    assert foreign.status_code == 404
    read = await client.get(f"/v1/connections/{first}", headers=tenant.headers)
    assert read.json()["settings"] == {}


async def test_push_dimensions_takes_the_mapping_the_import_run_reads_and_nothing_else(
    client: httpx.AsyncClient, tenant: TenantFixture
) -> None:
    """Before, PATCH took `push_dimensions` only as true/false while the run needed a mapping: no value worked."""
    connection_id = await _destination(client, tenant, {})
    pushes = {"project": "projects", "department": "cost_centers"}
    changed = await client.patch(
        f"/v1/connections/{connection_id}", json={"settings": {"push_dimensions": pushes}}, headers=tenant.headers
    )
    assert changed.status_code == 200, changed.text
    assert dimension_pushes(changed.json()["settings"]) == pushes
    for unusable in (True, {}, {"project": ""}, {"project": 3}, ["projects"]):
        refused = await client.patch(
            f"/v1/connections/{connection_id}", json={"settings": {"push_dimensions": unusable}}, headers=tenant.headers
        )
        assert refused.status_code == 422, (unusable, refused.text)
        created = await client.post(
            "/v1/connections",
            json={"name": "n", "provider": "intacct", "role": "destination", "settings": {"push_dimensions": unusable}},
            headers=tenant.headers,
        )
        assert created.status_code == 422, (unusable, created.text)
    read = await client.get(f"/v1/connections/{connection_id}", headers=tenant.headers)
    assert read.json()["settings"] == {"push_dimensions": pushes}
