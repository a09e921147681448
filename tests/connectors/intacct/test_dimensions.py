"""Importing dimensions: every object pages through completely, incrementally, with inactive values marked."""

from datetime import UTC, datetime

import httpx
import pytest

from connectors.intacct import IntacctConnector
from connectors.intacct.dimensions import OBJECTS
from core.errors import ValidationError
from sandbox.intacct.constants import INACTIVE_EVERY, MULTI_ENTITY_COMPANY, SINGLE_ENTITY_COMPANY, UDD_VALUES
from tests.connectors.intacct import factories
from tests.connectors.intacct.conftest import MakeConnector


async def master_counts(control: httpx.AsyncClient, company: str | None = None) -> dict[str, int]:
    params = {"company": company} if company else {}
    counts: dict[str, int] = (await control.get("/counts", params=params)).json()["objects"]["master"]
    return counts


@pytest.mark.parametrize(("attribute_type", "object_name"), [("account", "GLACCOUNT"), ("vendor", "VENDOR")])
async def test_imports_page_through_every_row_once(
    connector: IntacctConnector,
    control: httpx.AsyncClient,
    sandbox_control: httpx.AsyncClient,
    attribute_type: str,
    object_name: str,
) -> None:
    values = [value async for value in connector.import_dimensions(attribute_type, since=None)]

    total = (await master_counts(control))[object_name]
    assert total > connector.spec.pagination.page_size * 2
    assert len(values) == len({value.remote_id for value in values}) == total
    assert sum(not value.active for value in values) == total // INACTIVE_EVERY
    assert await factories.requests_for(sandbox_control, f"readByQuery:{object_name}") == 1
    assert await factories.requests_for(sandbox_control, "readMore") == -(-total // 1000) - 1


@pytest.mark.parametrize("attribute_type", list(OBJECTS))
async def test_every_standard_dimension_type_imports_completely(
    make_connector: MakeConnector, control: httpx.AsyncClient, attribute_type: str
) -> None:
    """Entities exist only in a multi-entity company; every other type is read from the single-entity one."""
    company = MULTI_ENTITY_COMPANY if attribute_type == "entity" else SINGLE_ENTITY_COMPANY
    connector = make_connector(company_id=company)

    values = [value async for value in connector.import_dimensions(attribute_type, since=None)]

    assert (
        len({value.remote_id for value in values})
        == (await master_counts(control, company))[OBJECTS[attribute_type].object_name]
    )
    assert all(value.attribute_type == attribute_type and value.name and value.updated_at for value in values)


async def test_values_carry_what_mapping_needs(connector: IntacctConnector) -> None:
    expense_types = {value.remote_id: value async for value in connector.import_dimensions("expense_type", since=None)}
    employees = [value async for value in connector.import_dimensions("employee", since=None)]

    travel = expense_types[factories.EXPENSE_TYPE]
    assert travel.name == "Travel expenses" and travel.detail["GLACCOUNTNO"].isdigit()
    employee = next(value for value in employees if value.remote_id == factories.EMPLOYEE)
    assert " " in employee.name and "@" in employee.detail["CONTACT.EMAIL1"]


async def test_an_incremental_import_returns_what_changed_since(connector: IntacctConnector) -> None:
    everything = [value async for value in connector.import_dimensions("vendor", since=None)]
    stamps = sorted(value.updated_at for value in everything if value.updated_at)
    cursor = stamps[len(stamps) // 2]

    later = [value async for value in connector.import_dimensions("vendor", since=cursor)]

    assert later and len(later) < len(everything)
    assert all(value.updated_at is not None and value.updated_at >= cursor for value in later)
    assert len(later) == sum(stamp >= cursor for stamp in stamps)


async def test_a_cursor_in_another_timezone_means_the_same_moment(connector: IntacctConnector) -> None:
    utc = datetime(2023, 10, 1, 12, tzinfo=UTC)
    local = utc.astimezone(datetime.now().astimezone().tzinfo)

    in_utc = [value.remote_id async for value in connector.import_dimensions("department", since=utc)]
    in_local = [value.remote_id async for value in connector.import_dimensions("department", since=local)]

    assert in_utc == in_local


async def test_user_defined_dimensions_are_discovered_and_imported(connector: IntacctConnector) -> None:
    types = await connector.attribute_types()

    assert types[: len(connector.spec.streams)] == connector.spec.streams
    assert {f"udd:{name}" for name in UDD_VALUES} <= set(types)
    partners = [value async for value in connector.import_dimensions("udd:PARTNER", since=None)]
    assert len(partners) == UDD_VALUES["PARTNER"]
    assert all(value.active and value.remote_id.isdigit() for value in partners)


@pytest.mark.parametrize("attribute_type", ["tax_code", "udd:NOT_A_DIMENSION", "udd:GLACCOUNT"])
async def test_an_unknown_dimension_type_is_a_validation_error(
    connector: IntacctConnector, attribute_type: str
) -> None:
    with pytest.raises(ValidationError):
        [value async for value in connector.import_dimensions(attribute_type, since=None)]


async def test_an_entity_sees_shared_values_and_its_own(make_connector: MakeConnector) -> None:
    top = make_connector(company_id=MULTI_ENTITY_COMPANY)
    e100 = make_connector(company_id=MULTI_ENTITY_COMPANY, entity_id="E100")

    everyone = {value.remote_id async for value in top.import_dimensions("vendor", since=None)}
    in_e100 = {value.remote_id async for value in e100.import_dimensions("vendor", since=None)}
    entities = [value.remote_id async for value in top.import_dimensions("entity", since=None)]

    assert everyone < in_e100  # the shared vendors, and E100's private ones
    assert factories.VENDOR in in_e100 - everyone
    assert entities == ["E100", "E200"]
