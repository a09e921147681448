"""The onboarding Map step: what waits on which value, suggestions accepted in bulk, typed values resolved on the
server (by shown text, name, code or remote id), errors beside their rows with nothing lost, and only one's own
tenant."""

import re
from decimal import Decimal

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import Mapping
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, sign_in
from tests.mappings.factories import expense
from tests.mappings.seed import World, api_world

EXPENSES = [
    expense(id="tx-a", category="Travel"),
    expense(id="tx-b", category="Meals", amount=Decimal("9.10")),
    expense(id="tx-c", category="Meals", employee_email="bob@example.com", employee_name="Bob Stone"),
]


def _path(world: World) -> str:
    return f"/dashboard/setup/destinations/{world.destination_id}/map"


async def _mappings(database: Database, tenant: TenantFixture) -> set[tuple[str, str, str]]:
    async with database.tenant_session(tenant.id) as session:
        rows = (await session.scalars(select(Mapping))).all()
    return {(row.source_type, row.source_value, row.destination_type) for row in rows}


def _field_of(page: str, value: str) -> str:
    """The name of the input mapping `value` (its row's label names the value)."""
    found = re.search(rf'<label for="([^"]+)" class="inline">{re.escape(value)}</label>', page)
    assert found, f"no row for {value}"
    field = re.search(rf'id="{found.group(1)}" name="([^"]+)"', page)
    assert field
    return field.group(1)


async def test_the_map_step_shows_what_waits_and_accepts_suggestions_in_bulk(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant, EXPENSES)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    assert page.status_code == 200
    assert "Category → Expense type" in page.text and "Employee → Employee" in page.text
    assert re.search(r">Meals</label></th>\s*<td>2</td>", page.text), "two expenses wait on Meals"
    accepts = re.findall(r'name="accept" value="([^"]+)"', page.text)
    assert len(accepts) == 3  # Travel and Meals by name, Ada by e-mail; Bob matches nobody
    saved = await client.post(f"{_path(world)}/accept", data={"csrf_token": csrf_of(page.text), "accept": accepts[:2]})
    assert saved.status_code == 303
    assert len(await _mappings(database, tenant)) == 2
    after = await client.get(saved.headers["location"])
    assert "Saved 2 mapping(s)" in after.text
    assert len(re.findall(r'name="accept"', after.text)) == 1


async def test_typed_values_resolve_by_name_or_code_and_a_bad_one_stays_with_its_reason(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant, EXPENSES)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    token = csrf_of(page.text)
    travel, meals, bob = (
        _field_of(page.text, "Travel"),
        _field_of(page.text, "Meals"),
        _field_of(page.text, "bob@example.com"),
    )
    refused = await client.post(_path(world), data={"csrf_token": token, travel: "TRV", bob: "Nobody Here"})
    assert refused.status_code == 422
    assert "No single active value is named “Nobody Here”" in refused.text
    assert 'value="Nobody Here"' in refused.text and 'value="TRV"' in refused.text  # nothing typed is lost
    assert await _mappings(database, tenant) == set()  # all or none
    saved = await client.post(_path(world), data={"csrf_token": token, travel: "TRV", meals: "Meals (MLS)"})
    assert saved.status_code == 303
    assert await _mappings(database, tenant) == {
        ("category", "Travel", "expense_type"),
        ("category", "Meals", "expense_type"),
    }


async def test_search_narrows_the_values_shown(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await api_world(client, database, tenant, EXPENSES)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world), params={"q": "mea"})
    assert ">Meals</label>" in page.text and ">Travel</label>" not in page.text
    nothing = await client.get(_path(world), params={"q": "zzz"})
    assert "No unmapped value matches" in nothing.text


async def test_another_tenants_mapping_step_is_not_found(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture, other_tenant: TenantFixture
) -> None:
    theirs = await api_world(client, database, other_tenant, EXPENSES)
    await sign_in(client, tenant.key)
    assert (await client.get(_path(theirs))).status_code == 404
    page = await client.get("/dashboard/setup")
    forged = await client.post(f"{_path(theirs)}/accept", data={"csrf_token": csrf_of(page.text), "accept": "x"})
    assert forged.status_code == 404
    assert await _mappings(database, other_tenant) == set()
