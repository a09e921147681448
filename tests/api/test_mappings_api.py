"""`/v1/connections/{id}/mappings`: set, bulk-set, list, unmapped with counts, auto-map and clear, over HTTP."""

import uuid
from typing import Any

import httpx

from core.db import Database
from tests.conftest import TenantFixture
from tests.mappings.factories import expense
from tests.mappings.seed import World, api_world


def _path(world: World, suffix: str = "") -> str:
    return f"/v1/connections/{world.destination_id}/mappings{suffix}"


def _mapping(world: World, source_type: str, value: str, attribute: tuple[str, str]) -> dict[str, Any]:
    return {
        "source_type": source_type,
        "source_value": value,
        "destination_type": attribute[0],
        "destination_attribute_id": str(world.attributes[attribute]),
    }


async def _settings(client: httpx.AsyncClient, world: World, owner: TenantFixture, **body: Any) -> None:
    response = await client.put(
        f"/v1/connections/{world.destination_id}/export-settings", headers=owner.headers, json=body
    )
    assert response.status_code == 200, response.text


async def test_set_read_list_and_clear_a_mapping(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    saved = await client.post(
        _path(world), headers=tenant.headers, json=_mapping(world, "category", "Travel", ("account", "6000"))
    )
    assert saved.status_code == 200, saved.text
    (mapping,) = saved.json()["items"]
    assert (mapping["destination_remote_id"], mapping["destination_name"], saved.json()["created"]) == (
        "6000",
        "Travel",
        1,
    )
    read = await client.get(_path(world, f"/{mapping['id']}"), headers=tenant.headers)
    assert read.json()["source_value"] == "Travel"
    listed = (await client.get(_path(world), headers=tenant.headers, params={"source_type": "category"})).json()
    assert [item["id"] for item in listed["items"]] == [mapping["id"]]
    assert (await client.get(_path(world), headers=tenant.headers, params={"source_type": "employee"})).json()[
        "items"
    ] == []

    deleted = await client.delete(_path(world, f"/{mapping['id']}"), headers=tenant.headers)
    assert deleted.status_code == 204
    assert (await client.get(_path(world, f"/{mapping['id']}"), headers=tenant.headers)).status_code == 404
    assert (await client.delete(_path(world, f"/{mapping['id']}"), headers=tenant.headers)).status_code == 404
    actions = [
        event["action"]
        for event in (await client.get("/v1/audit-events", headers=tenant.headers, params={"limit": 200})).json()[
            "items"
        ]
    ]
    assert actions[-2:] == ["mapping.create", "mapping.delete"]


async def test_bulk_set_is_all_or_none_and_names_each_problem(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    refused = await client.post(
        _path(world, "/bulk"),
        headers=tenant.headers,
        json={
            "mappings": [
                _mapping(world, "category", "Travel", ("account", "6000")),
                _mapping(world, "category", "Meals", ("location", "L-OLD")),
                {
                    **_mapping(world, "category", "Hotel", ("account", "6000")),
                    "destination_attribute_id": str(uuid.uuid4()),
                },
            ]
        },
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    errors = refused.json()["errors"]
    assert [error.split(":")[0] for error in errors] == ["mappings[1]", "mappings[2]"]
    assert (await client.get(_path(world), headers=tenant.headers)).json()["items"] == []

    accepted = await client.post(
        _path(world, "/bulk"),
        headers=tenant.headers,
        json={
            "mappings": [
                _mapping(world, "category", "Travel", ("account", "6000")),
                _mapping(world, "category", "Meals", ("account", "6100")),
            ]
        },
    )
    assert accepted.status_code == 200
    assert accepted.json()["created"] == 2


async def test_unmapped_values_show_how_many_expenses_wait_on_each(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(
        client,
        database,
        tenant,
        [expense(id="a", category="Travel"), expense(id="b", category="Travel"), expense(id="c", category="Meals")],
    )
    before = await client.get(_path(world, "/unmapped"), headers=tenant.headers)
    assert before.status_code == 409, "the settings decide which mappings are needed"
    await _settings(client, world, tenant)
    page = (await client.get(_path(world, "/unmapped"), headers=tenant.headers, params={"limit": 2})).json()
    rest = (
        await client.get(
            _path(world, "/unmapped"), headers=tenant.headers, params={"limit": 2, "cursor": page["next_cursor"]}
        )
    ).json()
    values = [
        (item["source_type"], item["source_value"], item["destination_type"], item["waiting_expenses"])
        for item in page["items"] + rest["items"]
    ]
    assert values == [
        ("category", "Meals", "expense_type", 1),
        ("category", "Travel", "expense_type", 2),
        ("employee", "ada@example.com", "employee", 3),
    ]
    assert rest["next_cursor"] is None


async def test_auto_map_maps_unique_matches_and_reports_ambiguous_names(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(
        client,
        database,
        tenant,
        [
            expense(id="a", employee_email="ada@example.com", employee_name="Ada Lovelace", category="Travel"),
            expense(id="b", employee_email="sam@example.com", employee_name="Sam Lee", category="Meals"),
            expense(id="c", employee_email="nobody@example.com", employee_name="No Body", category="Casino"),
        ],
    )
    await _settings(client, world, tenant, auto_map={"employees": "name", "categories": "name"})
    response = await client.post(_path(world, "/auto-map"), headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    mapped = {(item["source_type"], item["source_value"]): item["destination"]["remote_id"] for item in body["mapped"]}
    assert mapped == {
        ("employee", "ada@example.com"): "E-ADA",
        ("category", "Travel"): "ET-TRAVEL",
        ("category", "Meals"): "ET-MEALS",
    }
    (ambiguous,) = body["ambiguous"]
    assert (ambiguous["source_value"], ambiguous["match_on"]) == ("sam@example.com", "name")
    assert sorted(candidate["remote_id"] for candidate in ambiguous["candidates"]) == ["E-SAM1", "E-SAM2"]
    assert sorted(item["source_value"] for item in body["unmatched"]) == ["Casino", "nobody@example.com"]
    unmapped = (await client.get(_path(world, "/unmapped"), headers=tenant.headers)).json()["items"]
    assert sorted(item["source_value"] for item in unmapped) == ["Casino", "nobody@example.com", "sam@example.com"]


async def test_auto_map_by_email_uses_the_destinations_email_fields(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(
        client, database, tenant, [expense(id="a", employee_email="Samuel.Lee@example.com", employee_name="Sam Lee")]
    )
    await _settings(client, world, tenant)
    body = (await client.post(_path(world, "/auto-map"), headers=tenant.headers, json={"employees": "email"})).json()
    assert [(item["source_value"], item["destination"]["remote_id"]) for item in body["mapped"]] == [
        ("samuel.lee@example.com", "E-SAM2")
    ]
    assert body["ambiguous"] == []
