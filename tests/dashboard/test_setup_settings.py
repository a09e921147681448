"""The onboarding Export settings step: every setting a field explained by the model, choices from the destination,
problems beside their fields with nothing typed lost, defaults typed as a name or code saved as the value's remote id,
a preview of the next documents (built, or what they lack), and every version with who changed what — for the
tenant's own admin only."""

import uuid
from html.parser import HTMLParser
from typing import Any

import httpx
from sqlalchemy import select

from core.db import Database
from core.models import ExportSettingsVersion, Mapping
from mappings import ExportSettings
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, sign_in
from tests.mappings.factories import expense
from tests.mappings.seed import World, api_world, attributes

EXPENSES = [
    expense(id="tx-a", category="Travel", report_id="rp1"),
    expense(id="tx-b", category="Meals", report_id="rp2", employee_email="ada@example.com"),
]
EXTRA_ATTRIBUTES = [
    ("account", "A-7", "Clearing", "CLR"),
    ("account", "A-8", "Card payable", "CPY"),
    ("vendor", "V-1", "Card Company", "CC"),
]


class _Form(HTMLParser):
    """The fields a browser would submit from the page's settings form: each control's current value."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form" and found.get("class") == "settings-form":
            self._in_form = True
        if not self._in_form:
            return
        name = found.get("name")
        if tag == "input" and name and found.get("type") not in ("submit",):
            if found.get("type") == "checkbox":
                if "checked" in found:
                    self.fields[name] = "on"
            else:
                self.fields[name] = found.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in found:
            self.fields[self._select] = found.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self._in_form = False


def form_of(page: str) -> dict[str, str]:
    parser = _Form()
    parser.feed(page)
    return parser.fields


def _path(world: World) -> str:
    return f"/dashboard/setup/destinations/{world.destination_id}/settings"


async def _world(client: httpx.AsyncClient, database: Database, tenant: TenantFixture) -> World:
    world = await api_world(client, database, tenant, EXPENSES)
    async with database.tenant_session(tenant.id) as session:
        await attributes(session, tenant.id, world.destination_id, EXTRA_ATTRIBUTES)
    return world


async def _versions(database: Database, tenant: TenantFixture) -> list[ExportSettingsVersion]:
    async with database.tenant_session(tenant.id) as session:
        query = select(ExportSettingsVersion).order_by(ExportSettingsVersion.version)
        return list((await session.scalars(query)).all())


def _error_of(page: str, control: str) -> str:
    """The problem shown beside a control (its `…-error` paragraph), which the control names in aria-describedby."""
    element_id = "s-" + control.replace(".", "-")
    start = page.find(f'id="{element_id}-error"')
    assert start >= 0, f"no problem beside {control}"
    assert f'{element_id}-error"' in page[page.find(f'id="{element_id}"') :]
    return page[start : page.find("</p>", start)]


async def test_every_setting_is_a_field_explained_by_the_model_with_the_destinations_choices(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await _world(client, database, tenant)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    assert page.status_code == 200, page.text
    text = page.text
    for description in (
        ExportSettings.model_fields["currency"].description,
        ExportSettings.model_fields["tax"].description,
    ):
        assert description and description in text
    fields = form_of(text)
    assert fields["reimbursable.export_type"] == "expense_report"  # Intacct's first kind for reimbursable
    assert fields["card.export_type"] == ""
    assert '<option value="charge_card_transaction">Charge card transaction</option>' in text
    assert '<option value="vendor">Vendor</option>' in text and '<option value="employee">Employee</option>' in text
    assert '<option value="Clearing (CLR)"></option>' in text  # the accounts' one shared list
    assert text.count('<datalist id="values-account">') == 1
    assert "No version is saved yet" in text
