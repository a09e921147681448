"""`/v1/connections/{id}/export-settings`: validated, versioned, audited, and saving regroups what was not sent."""

import httpx

from core.db import Database
from tests.conftest import TenantFixture
from tests.mappings.factories import expense
from tests.mappings.seed import api_world

JOURNALS = {
    "reimbursable": {"export_type": "journal_entry"},
    "employee_as": "employee",
    "defaults": {"journal_credit_account": "2000", "dimensions": {"location": "L-HQ"}},
}


def _path(world_destination: object) -> str:
    return f"/v1/connections/{world_destination}/export-settings"


async def test_saving_makes_a_version_and_regroups(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(
        client, database, tenant, [expense(id="a"), expense(id="b"), expense(id="d", state="DRAFT")]
    )
    missing = await client.get(_path(world.destination_id), headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    saved = await client.put(_path(world.destination_id), headers=tenant.headers, json={})
    assert saved.status_code == 200, saved.text
    body = saved.json()
    assert (body["version"], body["new_version"]) == (1, True)
    assert body["settings"]["reimbursable"]["export_type"] == "expense_report"
    assert body["regroup"]["created_items"] == 1
    assert body["regroup"]["skipped_expenses"] == 1
    assert any("DRAFT" in reason for reason in body["regroup"]["skip_reasons"])

    changed = await client.put(_path(world.destination_id), headers=tenant.headers, json=JOURNALS)
    assert changed.status_code == 200, changed.text
    assert (changed.json()["version"], changed.json()["regroup"]["dropped_items"]) == (2, 1)
    current = (await client.get(_path(world.destination_id), headers=tenant.headers)).json()
    assert current["version"] == 2
    assert current["settings"]["defaults"]["journal_credit_account"] == "2000"
    assert current["created_by"]


async def test_saving_the_same_settings_again_makes_no_new_version(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    first = await client.put(_path(world.destination_id), headers=tenant.headers, json=JOURNALS)
    again = await client.put(_path(world.destination_id), headers=tenant.headers, json=JOURNALS)
    assert (first.json()["version"], again.json()["version"], again.json()["new_version"]) == (1, 1, False)
    versions = (await client.get(f"{_path(world.destination_id)}/versions", headers=tenant.headers)).json()
    assert [item["version"] for item in versions["items"]] == [1]


async def test_versions_are_listed_oldest_first_in_pages(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    for memo in ("one {report_id}", "two {report_id}", "three {report_id}"):
        response = await client.put(
            _path(world.destination_id), headers=tenant.headers, json={"memo": {"document": memo}}
        )
        assert response.status_code == 200
    first = (
        await client.get(f"{_path(world.destination_id)}/versions", headers=tenant.headers, params={"limit": 2})
    ).json()
    rest = (
        await client.get(
            f"{_path(world.destination_id)}/versions",
            headers=tenant.headers,
            params={"limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    assert [item["version"] for item in first["items"] + rest["items"]] == [1, 2, 3]
    assert rest["next_cursor"] is None


async def test_every_save_is_audited(client: httpx.AsyncClient, database: Database, tenant: TenantFixture) -> None:
    world = await api_world(client, database, tenant)
    await client.put(_path(world.destination_id), headers=tenant.headers, json=JOURNALS)
    events = (await client.get("/v1/audit-events", headers=tenant.headers, params={"limit": 200})).json()["items"]
    saves = [event for event in events if event["action"] == "export_settings.save"]
    assert len(saves) == 1
    assert saves[0]["data"]["version"] == 1
    assert "reimbursable" in saves[0]["data"]["changed"]


async def test_inconsistent_settings_are_a_422_naming_the_problem(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    body = {"reimbursable": {"export_type": "bill"}, "employee_as": "employee"}
    response = await client.put(_path(world.destination_id), headers=tenant.headers, json=body)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "bill documents name employees as vendor, not as employee" in response.json()["detail"]
    # What the destination's spec does not declare is refused on save, naming what it offers.
    body = {"dimensions": [{"source": "project", "destination": "tracking"}]}
    response = await client.put(_path(world.destination_id), headers=tenant.headers, json=body)
    assert response.status_code == 422
    assert "'tracking' is not a line dimension of intacct (use department, location," in response.json()["detail"]


async def test_defaults_must_name_active_attributes_of_the_right_type(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    response = await client.put(
        _path(world.destination_id),
        headers=tenant.headers,
        json={
            "reimbursable": {"export_type": "journal_entry"},
            "defaults": {
                "journal_credit_account": "ET-TRAVEL",
                "dimensions": {"location": "L-OLD", "department": "D-RD"},
            },
        },
    )
    assert response.status_code == 422, response.text
    errors = response.json()["errors"]
    assert errors == [
        "defaults.journal_credit_account: no active account 'ET-TRAVEL' in this destination",
        "defaults.dimensions.location: no active location 'L-OLD' in this destination",
    ]
    assert (await client.get(_path(world.destination_id), headers=tenant.headers)).status_code == 404


async def test_a_source_connection_has_no_export_settings(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant)
    response = await client.put(_path(world.source_id), headers=tenant.headers, json={})
    assert response.status_code == 409
    assert "is a source" in response.json()["detail"]
