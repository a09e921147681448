"""`GET /v1/export-items/{id}/preview`: the document an export would send, or everything missing at once."""

import uuid
from decimal import Decimal

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import ExportItem
from tests.conftest import TenantFixture
from tests.mappings.factories import expense
from tests.mappings.seed import World, api_world


async def _only_item(database: Database, owner: TenantFixture, world: World) -> uuid.UUID:
    async with database.tenant_session(owner.id) as session:
        (item_id,) = (
            await session.scalars(
                select(ExportItem.id).where(
                    ExportItem.destination_connection_id == world.destination_id, ExportItem.state == "pending"
                )
            )
        ).all()
    return item_id


async def test_a_preview_lists_every_missing_mapping_of_the_item_in_one_response(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(
        client,
        database,
        tenant,
        [
            expense(id="a", category="Travel", cost_center="R&D", amount=Decimal("100.00")),
            expense(id="b", category="Parking", cost_center="Sales", amount=Decimal("12.00")),
            expense(id="c", category="Parking", cost_center="R&D", amount=Decimal("8.00")),
        ],
    )
    settings = {"dimensions": [{"source": "cost_center", "destination": "department"}]}
    saved = await client.put(
        f"/v1/connections/{world.destination_id}/export-settings", headers=tenant.headers, json=settings
    )
    assert saved.status_code == 200, saved.text
    item_id = await _only_item(database, tenant, world)

    preview = await client.get(f"/v1/export-items/{item_id}/preview", headers=tenant.headers)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert (body["ready"], body["document"], body["settings_version"]) == (False, None, 1)
    assert body["error"]["error_class"] == "mapping"
    assert [(m["source_type"], m["source_value"], m["destination_type"]) for m in body["missing_mappings"]] == [
        ("category", "Parking", "expense_type"),
        ("category", "Travel", "expense_type"),
        ("cost_center", "R&D", "department"),
        ("cost_center", "Sales", "department"),
        ("employee", "ada@example.com", "employee"),
    ]
    assert body["missing_mappings"][0]["expense_ids"] == ["b", "c"]

    mappings = [
        ("category", "Parking", ("expense_type", "ET-TRAVEL")),
        ("category", "Travel", ("expense_type", "ET-TRAVEL")),
        ("cost_center", "R&D", ("department", "D-RD")),
        ("cost_center", "Sales", ("department", "D-RD")),
        ("employee", "ada@example.com", ("employee", "E-ADA")),
    ]
    bulk = await client.post(
        f"/v1/connections/{world.destination_id}/mappings/bulk",
        headers=tenant.headers,
        json={
            "mappings": [
                {
                    "source_type": source_type,
                    "source_value": value,
                    "destination_type": attribute[0],
                    "destination_attribute_id": str(world.attributes[attribute]),
                }
                for source_type, value, attribute in mappings
            ]
        },
    )
    assert bulk.status_code == 200, bulk.text

    ready = (await client.get(f"/v1/export-items/{item_id}/preview", headers=tenant.headers)).json()
    assert (ready["ready"], ready["missing_mappings"], ready["error"]) == (True, [], None)
    document = ready["document"]
    assert (document["kind"], document["counterparty"], document["currency"]) == ("expense_report", "E-ADA", "USD")
    assert Decimal(document["total"]) == Decimal("120.00")
    assert [line["dimensions"] for line in document["lines"]] == [{"department": "D-RD"}] * 3
    assert document["reference"].startswith("ll-")


async def test_a_preview_sends_and_changes_nothing(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant, [expense(id="a")])
    await client.put(f"/v1/connections/{world.destination_id}/export-settings", headers=tenant.headers, json={})
    item_id = await _only_item(database, tenant, world)
    await client.get(f"/v1/export-items/{item_id}/preview", headers=tenant.headers)
    async with database.tenant_session(tenant.id) as session:
        item = await session.get(ExportItem, item_id)
    assert item is not None
    assert (item.state, item.attempt_count, item.document, item.missing_mappings) == ("pending", 0, None, None)


async def test_previewing_an_unknown_item_is_404(client: httpx.AsyncClient, tenant: TenantFixture) -> None:
    response = await client.get(f"/v1/export-items/{uuid.uuid4()}/preview", headers=tenant.headers)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
