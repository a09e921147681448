"""The books agree with Fyle after a whole run through the product's own doors (issue 17, "must be shown"): a real
worker exports the Fyle simulator's approved reports, spent in several currencies and kept in their original one,
to the Intacct simulator's two-entity company, routed by cost center, with a closed period in one entity; then
`ledgerline books check` finds every exported expense once, for its amount, and exits 0."""

import json
import subprocess
import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import select

from core.db import Database
from core.models import DestinationAttribute, ExportItem, SourceRecord
from core.repository import TenantRepository
from core.settings import Settings
from mappings.mapping_store import MappingChange, set_mappings
from mappings.settings import ExportSettings
from sandbox.intacct.constants import MULTI_ENTITY_COMPANY
from tests.e2e.conftest import ledgerline, make_books, tail
from tests.e2e.test_sync_run import sync
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.fyle_source import FyleSource
from tests.vocabularies import INTACCT

ROUTED_ORIGINAL = ExportSettings.model_validate(
    {
        "reimbursable": {"export_type": "bill", "grouping": {"by": "report"}, "date": "last_spent"},
        "employee_as": "vendor",
        "currency": "original",
        "entity": {"source": "cost_center"},
        "post_closed_period_to_first_open_day": True,
    }
)


async def map_for_entities(database: Database, source: FyleSource, destination_id: uuid.UUID) -> dict[str, str]:
    """Every category to one expense account, every employee to one vendor, the cost centers alternately to the
    two entities; returns cost center → entity."""
    async with database.tenant_session(source.tenant_id) as session:
        data = (await session.scalars(select(SourceRecord.data))).all()

        async def active(attribute_type: str, *, at_least: str = "") -> DestinationAttribute:
            found = await session.scalar(
                select(DestinationAttribute)
                .where(
                    DestinationAttribute.connection_id == destination_id,
                    DestinationAttribute.attribute_type == attribute_type,
                    DestinationAttribute.active.is_(True),
                    DestinationAttribute.remote_id >= at_least,
                )
                .order_by(DestinationAttribute.remote_id)
                .limit(1)
            )
            assert found is not None, f"the import brought no {attribute_type}"
            return found

        account, vendor = await active("account", at_least="70000"), await active("vendor")
        entities = (
            await session.scalars(
                select(DestinationAttribute)
                .where(DestinationAttribute.attribute_type == "entity")
                .order_by(DestinationAttribute.remote_id)
            )
        ).all()
        assert [entity.remote_id for entity in entities] == ["E100", "E200"]
        centers = sorted({row["cost_center"] for row in data if row.get("cost_center")})
        routes = {center: entities[index % 2] for index, center in enumerate(centers)}
        await set_mappings(
            TenantRepository(session, source.tenant_id, "admin"),
            destination_connection_id=destination_id,
            changes=[
                *(
                    MappingChange("category", value, "account", account.id)
                    for value in {row["category"] for row in data}
                ),
                *(
                    MappingChange("employee", value, "vendor", vendor.id)
                    for value in {row["employee_email"] for row in data}
                ),
                *(MappingChange("cost_center", center, "entity", entity.id) for center, entity in routes.items()),
            ],
            vocabulary=INTACCT,
        )
    return {center: entity.remote_id for center, entity in routes.items()}


def books_check(
    env: dict[str, str], connection_id: uuid.UUID, since: date, until: date
) -> subprocess.CompletedProcess[str]:
    window = ("--from", since.isoformat(), "--to", until.isoformat())
    return ledgerline(env, "books", "check", "--connection", str(connection_id), *window, "--json")


async def test_after_a_routed_run_in_three_currencies_with_a_closed_period_the_books_check_finds_no_difference(
    database: Database,
    product_settings: Settings,
    product_env: dict[str, str],
    sandbox: RunningSandbox,
    worker: Path,
) -> None:
    source, destination_id = await make_books(
        database,
        product_settings,
        sandbox,
        company=MULTI_ENTITY_COMPANY,
        export=ROUTED_ORIGINAL,
    )
    for kind in ("import", "pull"):
        ran = sync(product_env, source.tenant_id, "--kind", kind)
        assert ran.returncode == 0, ran.stdout + ran.stderr + tail(worker)
    routes = await map_for_entities(database, source, destination_id)
    async with database.tenant_session(source.tenant_id) as session:
        data = (await session.scalars(select(SourceRecord.data))).all()
    spent = sorted(date.fromisoformat(row["spent_on"]) for row in data)
    in_e200 = sorted(
        date.fromisoformat(row["spent_on"]) for row in data if routes.get(row.get("cost_center") or "") == "E200"
    )
    reopen = date(in_e200[-1].year, in_e200[-1].month, 1)  # E200's earlier months are closed
    assert in_e200[0] < reopen, "the seed must spend in E200 before its last month"
    with sandbox.control() as control:
        control.put(
            "/intacct/periods",
            json={"company": MULTI_ENTITY_COMPANY, "entity": "E200", "open_from": reopen.isoformat()},
        ).raise_for_status()

    synced = sync(product_env, source.tenant_id)
    assert synced.returncode == 0, synced.stdout + synced.stderr + tail(worker)

    async with database.tenant_session(source.tenant_id) as session:
        items = (
            await session.scalars(select(ExportItem).where(ExportItem.destination_connection_id == destination_id))
        ).all()
    assert items and {item.state for item in items} == {"succeeded"}, {(i.state, i.error_message) for i in items}
    currencies = {item.document["currency"] for item in items if item.document}
    assert len(currencies) >= 3, currencies
    entities = {item.document["entity"] for item in items if item.document}
    assert entities == {"E100", "E200"}
    assert any(item.redated_to == reopen for item in items), "a document of E200's closed months moved"

    checked = books_check(product_env, destination_id, spent[0], spent[-1])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    report = json.loads(checked.stdout)
    assert (report["clean"], report["difference_count"], report["documents"]) == (True, 0, len(items)), report
    exported = {
        source_id
        for item in items
        if item.document
        for line in item.document["lines"]
        for source_id in line["source_ids"]
    }
    assert report["expenses"] == len(exported), report
