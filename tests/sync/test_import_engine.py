"""Dimension import against the Intacct simulator: complete, incremental, removals inactive, tenants apart."""

import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import ProgrammingError

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from core.crypto import CredentialVault
from core.db import Database
from core.models import Connection, DestinationAttribute, ExportItem, Mapping, StreamCursor
from core.repository import TenantRepository
from core.settings import Settings
from mappings.settings import ExportSettings
from mappings.settings_store import save_settings
from sandbox.intacct.constants import SINGLE_ENTITY_COMPANY, UDD_VALUES, USER_ID, USER_PASSWORD
from sandbox.intacct.simulator import IntacctSimulator
from sandbox.intacct.store import Table
from sandbox.intacct.values import format_timestamp
from sync.export_engine import ExportEngine
from sync.import_engine import ImportReport, import_dimensions, push_dimensions_to_source
from tests.conftest import make_tenant
from tests.connectors.fyle.conftest import sandbox_writes
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import BILL_SETTINGS, Books, sandbox_settings
from tests.sync.payment_books import FyleBooks, connect_fyle
from tests.vocabularies import INTACCT

SOME_TYPES = ("vendor", "department", "udd:PARTNER")


@dataclass
class Destination:
    tenant_id: uuid.UUID
    connection_id: uuid.UUID
    connector: DestinationConnector

    async def run(self, database: Database, *types: str, full: bool = False) -> ImportReport:
        return await import_dimensions(
            database,
            self.connector,
            tenant_id=self.tenant_id,
            connection_id=self.connection_id,
            actor="test:import",
            attribute_types=types or None,
            full=full,
        )

    async def rows(self, database: Database, attribute_type: str) -> dict[str, DestinationAttribute]:
        async with database.tenant_session(self.tenant_id) as session:
            found = await session.scalars(
                select(DestinationAttribute).where(
                    DestinationAttribute.connection_id == self.connection_id,
                    DestinationAttribute.attribute_type == attribute_type,
                )
            )
            return {row.remote_id: row for row in found.all()}


MakeDestination = Callable[[str], Awaitable[Destination]]


@pytest.fixture
async def make_destination(
    database: Database, settings: Settings, sandbox: RunningSandbox
) -> AsyncIterator[MakeDestination]:
    """Tenants, each with an Intacct destination on the sandbox's single-entity company and nothing imported."""
    vault = CredentialVault(settings.vault_key_list())
    opened: list[DestinationConnector] = []

    async def make(name: str) -> Destination:
        tenant = await make_tenant(database, name)
        connection_id = uuid.uuid4()
        credentials = {"user_id": USER_ID, "company_id": SINGLE_ENTITY_COMPANY, "user_password": USER_PASSWORD}
        async with database.tenant_session(tenant.id) as session:
            session.add(
                Connection(
                    id=connection_id,
                    tenant_id=tenant.id,
                    name="intacct",
                    provider="intacct",
                    role="destination",
                    credentials=vault.encrypt(credentials),
                    webhook_key=secrets.token_urlsafe(12),
                )
            )
        connector = await open_connector(
            database=database,
            vault=vault,
            settings=sandbox_settings(settings, sandbox),
            tenant_id=tenant.id,
            connection_id=connection_id,
        )
        assert isinstance(connector, DestinationConnector)
        opened.append(connector)
        return Destination(tenant.id, connection_id, connector)

    yield make
    for connector in opened:
        await connector.aclose()


@pytest.fixture
async def destination(make_destination: MakeDestination) -> Destination:
    return await make_destination("Importer")


def intacct_table(sandbox: RunningSandbox, object_name: str) -> Table:
    """A table of the simulator's company, reached in-process: its control API has no way to edit master data."""
    simulator = sandbox.box.systems["intacct"]
    assert isinstance(simulator, IntacctSimulator)
    return simulator.state.stores[SINGLE_ENTITY_COMPANY].tables[object_name]


def now_stamp(sandbox: RunningSandbox) -> str:
    return format_timestamp(sandbox.box.clock.now())


def add_vendor(sandbox: RunningSandbox, vendor_id: str, name: str, **fields: str) -> None:
    """A vendor created in Intacct now, as someone would in its UI."""
    table = intacct_table(sandbox, "VENDOR")
    row = dict.fromkeys(table.definition.field_names, "")
    stamp = now_stamp(sandbox)
    table.insert(
        {**row, "VENDORID": vendor_id, "NAME": name, "STATUS": "active", "WHENCREATED": stamp, "WHENMODIFIED": stamp}
        | fields
    )


def simulator_counts(sandbox: RunningSandbox) -> dict[str, int]:
    with sandbox.control() as control:
        objects = control.get("/intacct/counts").json()["objects"]
    return {**objects["master"], **objects["dimension"]}


async def test_a_first_import_holds_every_value_the_destination_has(
    database: Database, destination: Destination, sandbox: RunningSandbox
) -> None:
    report = await destination.run(database)

    counts = simulator_counts(sandbox)
    objects = {
        "account": "GLACCOUNT",
        "expense_type": "EEACCOUNTLABEL",
        "vendor": "VENDOR",
        "employee": "EMPLOYEE",
        "department": "DEPARTMENT",
        "location": "LOCATION",
        "entity": "LOCATIONENTITY",
        "class": "CLASS",
        "project": "PROJECT",
        "customer": "CUSTOMER",
        "item": "ITEM",
        "tax_detail": "TAXDETAIL",
        "charge_card_account": "CREDITCARD",
        "checking_account": "CHECKINGACCOUNT",
        **{f"udd:{name}": name for name in UDD_VALUES},
    }
    assert set(report.types) == set(objects)
    async with database.tenant_session(destination.tenant_id) as session:
        stored = dict(
            (
                await session.execute(
                    select(DestinationAttribute.attribute_type, func.count()).group_by(
                        DestinationAttribute.attribute_type
                    )
                )
            ).all()
        )
        cursors = set((await session.scalars(select(StreamCursor.stream))).all())
    for attribute_type, object_name in objects.items():
        counts_of_type = report.types[attribute_type]
        assert counts_of_type.full and counts_of_type.error is None
        assert stored.get(attribute_type, 0) == counts[object_name] == counts_of_type.read == counts_of_type.created
        assert counts_of_type.updated == counts_of_type.deactivated == 0
    assert counts["VENDOR"] > 2000  # several pages of the connector and of the upsert
    vendors = await destination.rows(database, "vendor")
    assert not all(row.active for row in vendors.values())  # the destination's own inactive vendors stay inactive
    assert {f"dimensions:{name}" for name in objects if stored.get(name)} <= cursors


async def test_a_second_import_reads_only_recent_changes_and_changes_nothing(
    database: Database, destination: Destination
) -> None:
    first = await destination.run(database, *SOME_TYPES)
    before = {name: await destination.rows(database, name) for name in SOME_TYPES}

    second = await destination.run(database, *SOME_TYPES)

    for name in SOME_TYPES:
        assert not second.types[name].full
        assert second.types[name].read < first.types[name].read
        assert second.types[name].changed == 0
        after = await destination.rows(database, name)
        assert {key: (row.updated_at, row.name, row.active) for key, row in after.items()} == {
            key: (row.updated_at, row.name, row.active) for key, row in before[name].items()
        }
    assert second.changed == 0


async def test_a_value_changed_in_the_destination_is_updated(
    database: Database, destination: Destination, sandbox: RunningSandbox
) -> None:
    await destination.run(database, "vendor")
    table = intacct_table(sandbox, "VENDOR")
    original = next(row for row in table.rows() if row["STATUS"] == "active")
    sandbox.box.clock.advance(60)
    table.replace({**original, "NAME": "Renamed Supplies Ltd", "WHENMODIFIED": now_stamp(sandbox)})

    report = await destination.run(database, "vendor")

    assert not report.types["vendor"].full
    assert (report.types["vendor"].created, report.types["vendor"].updated) == (0, 1)
    row = (await destination.rows(database, "vendor"))[original["VENDORID"]]
    assert row.name == "Renamed Supplies Ltd" and row.active


async def test_a_removed_value_is_inactive_after_a_full_pass_and_active_again_when_re_added(
    database: Database, destination: Destination, sandbox: RunningSandbox
) -> None:
    table = intacct_table(sandbox, "VENDOR")
    without = table.state()
    add_vendor(sandbox, "V-GONE", "Short-lived vendor")
    await destination.run(database, "vendor")
    assert (await destination.rows(database, "vendor"))["V-GONE"].active
    table.restore(without)  # deleted in Intacct

    incremental = await destination.run(database, "vendor")
    assert incremental.types["vendor"].deactivated == 0
    assert (await destination.rows(database, "vendor"))["V-GONE"].active  # an incremental read cannot see it

    full = await destination.run(database, "vendor", full=True)
    assert full.types["vendor"].full and full.types["vendor"].deactivated == 1
    vendors = await destination.rows(database, "vendor")
    assert not vendors["V-GONE"].active
    assert sum(not row.active for row in vendors.values()) == sum(row["STATUS"] != "active" for row in table.rows()) + 1

    sandbox.box.clock.advance(60)
    add_vendor(sandbox, "V-GONE", "Short-lived vendor")
    back = await destination.run(database, "vendor")
    assert not back.types["vendor"].full and back.types["vendor"].updated == 1
    assert (await destination.rows(database, "vendor"))["V-GONE"].active


async def test_a_full_pass_comes_by_itself_once_the_last_is_a_day_old(
    database: Database, destination: Destination, sandbox: RunningSandbox
) -> None:
    table = intacct_table(sandbox, "DEPARTMENT")
    gone = next(row for row in table.rows() if row["STATUS"] == "active")
    await destination.run(database, "department")
    table.replace({**gone, "DEPARTMENTID": "D-RENUMBERED"})  # its old id no longer exists

    assert not (await destination.run(database, "department")).types["department"].full
    async with database.tenant_session(destination.tenant_id) as session:
        await session.execute(
            update(StreamCursor)
            .where(StreamCursor.stream == "dimensions:department:full")
            .values(cursor=(datetime.now(UTC) - timedelta(hours=25)).isoformat())
        )

    report = await destination.run(database, "department")

    assert report.types["department"].full and report.types["department"].deactivated == 1
    departments = await destination.rows(database, "department")
    assert not departments[gone["DEPARTMENTID"]].active and departments["D-RENUMBERED"].active


async def test_two_tenants_imports_never_mix(
    database: Database, make_destination: MakeDestination, sandbox: RunningSandbox
) -> None:
    first, second = await make_destination("First"), await make_destination("Second")
    await first.run(database, "department")
    await second.run(database, "department")
    table = intacct_table(sandbox, "DEPARTMENT")
    changed = next(row for row in table.rows() if row["STATUS"] == "active")
    sandbox.box.clock.advance(60)
    table.replace({**changed, "TITLE": "Only the first tenant re-imported this", "WHENMODIFIED": now_stamp(sandbox)})

    await first.run(database, "department")

    count = simulator_counts(sandbox)["DEPARTMENT"]
    for owner in (first, second):
        async with database.tenant_session(owner.tenant_id) as session:
            rows = (await session.scalars(select(DestinationAttribute))).all()
            cursors = (await session.scalars(select(StreamCursor))).all()
        assert len(rows) == count
        assert {(row.tenant_id, row.connection_id) for row in rows} == {(owner.tenant_id, owner.connection_id)}
        assert {(cursor.tenant_id, cursor.connection_id) for cursor in cursors} == {
            (owner.tenant_id, owner.connection_id)
        }
    assert (await first.rows(database, "department"))[changed["DEPARTMENTID"]].name.startswith("Only the first")
    assert (await second.rows(database, "department"))[changed["DEPARTMENTID"]].name == changed["TITLE"]
    with pytest.raises(ProgrammingError, match="row-level security"):  # not into another tenant's connection
        await import_dimensions(
            database,
            first.connector,
            tenant_id=second.tenant_id,
            connection_id=first.connection_id,
            actor="test:import",
            attribute_types=["department"],
        )
    assert len(await first.rows(database, "department")) == count


async def test_an_imported_vendor_releases_the_items_waiting_for_it(
    database: Database, books: Books, sandbox: RunningSandbox
) -> None:
    """Ada's reports wait for a vendor; it is created in Intacct; the import auto-maps Ada to it by email and her
    items go back to pending, then export."""
    async with database.tenant_session(books.tenant.id) as session:
        await session.execute(delete(Mapping).where(Mapping.source_type == "employee"))
    engine = ExportEngine(database, owner="w1")
    waiting = await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    assert waiting.needs_action == 3
    async with database.tenant_session(books.tenant.id) as session:
        destination = await session.get(Connection, books.destination_id)
        assert destination is not None
        with_rules = ExportSettings.model_validate(
            {**BILL_SETTINGS.model_dump(mode="json"), "auto_map": {"employees": "email"}}
        )
        await save_settings(
            TenantRepository(session, books.tenant.id, "test"),
            destination=destination,
            settings=with_rules,
            vocabulary=INTACCT,
        )
    add_vendor(sandbox, "V-ADA", "Ada Lovelace", **{"DISPLAYCONTACT.EMAIL1": "ada@example.com"})

    report = await import_dimensions(
        database,
        books.connector,
        tenant_id=books.tenant.id,
        connection_id=books.destination_id,
        actor="test:import",
        attribute_types=["vendor"],
    )

    assert report.auto_mapped == 1 and len(report.released_item_ids) == 3
    async with database.tenant_session(books.tenant.id) as session:
        states = (await session.scalars(select(ExportItem.state))).all()
    assert states == ["pending"] * 3
    exported = await engine.run_batch(books.connector, tenant_id=books.tenant.id, connection_id=books.destination_id)
    assert exported.succeeded == 3
    async with database.tenant_session(books.tenant.id) as session:
        documents = (await session.scalars(select(ExportItem.document))).all()
    assert all(document and document["counterparty"] == "V-ADA" for document in documents)


async def test_imported_values_are_mirrored_to_the_source_once_each_change(
    database: Database, settings: Settings, books: Books, sandbox: RunningSandbox
) -> None:
    async def push(fyle: FyleBooks) -> dict[str, int]:
        return await push_dimensions_to_source(
            database,
            fyle.source,
            tenant_id=books.tenant.id,
            destination_connection_id=books.destination_id,
            pushes={"department": "cost_centers"},
        )

    async def import_departments() -> None:
        await import_dimensions(
            database,
            books.connector,
            tenant_id=books.tenant.id,
            connection_id=books.destination_id,
            actor="test:import",
            attribute_types=["department"],
        )

    await import_departments()
    table = intacct_table(sandbox, "DEPARTMENT")
    departments = {row["DEPARTMENTID"]: row for row in table.rows()}
    async with connect_fyle(database, settings, sandbox, books) as fyle:
        assert await push(fyle) == {"department": len(departments)}
        written = [entry["payload"] for entry in sandbox_writes(sandbox, "cost_centers")]
        assert sorted((entry["code"], entry["name"], entry["is_enabled"]) for entry in written) == sorted(
            (key, row["TITLE"], row["STATUS"] == "active") for key, row in departments.items()
        )

        assert await push(fyle) == {"department": 0}

        renamed = next(iter(departments.values()))
        sandbox.box.clock.advance(60)
        table.replace({**renamed, "TITLE": "Renamed department", "WHENMODIFIED": now_stamp(sandbox)})
        await import_departments()
        assert await push(fyle) == {"department": 1}
        assert sandbox_writes(sandbox, "cost_centers")[-1]["payload"]["name"] == "Renamed department"
