"""The onboarding Export settings step: every setting a field explained by the model, choices from the destination,
problems beside their fields with nothing typed lost, defaults typed as a name or code saved as the value's remote id,
a preview of the next documents (built, or what they lack), and every version with who changed what — for the
tenant's own admin only."""

import uuid
from html.parser import HTMLParser

import httpx
from sqlalchemy import select

from connectors.base import DestinationConnector
from connectors.factory import open_connector
from connectors.registry import destination_vocabulary
from core.crypto import CredentialVault
from core.db import Database
from core.models import DestinationAttribute, ExportSettingsVersion, Mapping
from core.settings import Settings
from mappings import ExportSettings
from sync.import_engine import import_dimensions
from tests.conftest import TenantFixture
from tests.dashboard.conftest import csrf_of, sign_in
from tests.dashboard.test_setup import INTACCT, browser, setup_app
from tests.dashboard.test_setup import _connect_intacct as connect_intacct
from tests.mappings.factories import expense
from tests.mappings.seed import World, api_world, attributes
from tests.sandbox_fixtures import RunningSandbox
from tests.sync.conftest import sandbox_settings

__all__ = ["browser", "setup_app"]  # the onboarding tests' app (with the sandbox's credentials) and its client

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
    label = destination_vocabulary("intacct").document_label("charge_card_transaction")  # the spec's words
    assert f'<option value="charge_card_transaction">{label}</option>' in text
    assert '<option value="vendor">Vendor</option>' in text and '<option value="employee">Employee</option>' in text
    assert '<option value="Clearing (CLR)"></option>' in text  # the accounts' one shared list
    assert text.count('<datalist id="values-account">') == 1
    assert "No version is saved yet" in text


async def test_a_save_with_errors_shows_each_beside_its_field_and_keeps_what_was_typed(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await _world(client, database, tenant)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    fields = form_of(page.text)
    fields.update(
        {
            "card.export_type": "charge_card_transaction",  # needs a charge-card account, left empty
            "reimbursable.grouping.fields": "project, shoe_size",
            "memo.line": "{expense_id} {nope}",
            "defaults.journal_credit_account": "Nothing Called This",
            "dimensions.0.source": "project",
            "dimensions.0.destination": "no_such_dimension",
            "skip_rules": "[{not json",
        }
    )
    refused = await client.post(_path(world), data={**fields, "csrf_token": csrf_of(page.text), "action": "save"})
    assert refused.status_code == 422
    text = refused.text
    assert "shoe_size" in _error_of(text, "reimbursable.grouping.fields")
    assert "nope" in _error_of(text, "memo.line")
    assert "No active GL account is named “Nothing Called This”" in _error_of(text, "defaults.journal_credit_account")
    assert "need “Charge-card account”" in _error_of(text, "defaults.charge_card_account")  # a rule across fields
    assert "Not valid JSON" in _error_of(text, "skip_rules")
    assert 'id="form-error"' in text and 'aria-invalid="true"' in text
    kept = form_of(text)
    for name in ("reimbursable.grouping.fields", "memo.line", "defaults.journal_credit_account", "skip_rules"):
        assert kept[name] == fields[name], name
    assert kept["card.export_type"] == "charge_card_transaction"
    assert await _versions(database, tenant) == []

    # The destination's own checks once the model is satisfied: an unknown line dimension, beside its row.
    fields.update(
        {
            "card.export_type": "",
            "reimbursable.grouping.fields": "project",
            "memo.line": "{expense_id}",
            "defaults.journal_credit_account": "",
            "skip_rules": "",
        }
    )
    refused = await client.post(_path(world), data={**fields, "csrf_token": csrf_of(page.text), "action": "save"})
    assert refused.status_code == 422
    assert "no_such_dimension" in _error_of(refused.text, "dimensions.0.destination")
    assert await _versions(database, tenant) == []


async def test_a_valid_save_makes_the_next_version_and_the_history_says_who_changed_what(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await _world(client, database, tenant)
    saved = await client.put(f"/v1/connections/{world.destination_id}/export-settings", headers=tenant.headers, json={})
    assert saved.status_code == 200, saved.text
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    assert "Current version: 1, saved by api_key:" in page.text
    fields = form_of(page.text)
    fields.update({"reimbursable.export_type": "bill", "memo.document": "Report {report_id}", "tax": ""})
    posted = await client.post(_path(world), data={**fields, "csrf_token": csrf_of(page.text), "action": "save"})
    assert posted.status_code == 303, posted.text
    versions = await _versions(database, tenant)
    assert [version.version for version in versions] == [1, 2]
    assert versions[1].created_by.startswith("dashboard:")
    assert versions[1].body["reimbursable"]["export_type"] == "bill"
    assert versions[1].body["memo"]["document"] == "Report {report_id}"
    after = await client.get(posted.headers["location"])
    assert "Saved version 2" in after.text and "regrouped" in after.text
    history = after.text[after.text.find('id="history"') :]
    assert versions[1].created_by in history and versions[0].created_by in history
    assert "Reimbursable expenses: Export as: expense_report → bill" in history
    assert "Document memo:" in history and "→ Report {report_id}" in history
    assert "First version" in history
    assert history.find("Reimbursable expenses: Export as") < history.find("First version")  # newest first

    # Saving the same settings again makes no version.
    again = await client.post(
        _path(world), data={**form_of(after.text), "csrf_token": csrf_of(after.text), "action": "save"}
    )
    assert again.status_code == 303
    assert len(await _versions(database, tenant)) == 2
    assert "Nothing changed: version 2" in (await client.get(again.headers["location"])).text


async def test_a_default_typed_as_a_name_or_code_is_saved_as_the_values_remote_id(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await _world(client, database, tenant)
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    fields = form_of(page.text)
    fields.update(
        {
            "reimbursable.export_type": "journal_entry",
            "defaults.journal_credit_account": "clearing",  # its name, in any case
            "card.export_type": "bill",
            "defaults.card_vendor": "CC",  # its code
            "defaults.payment_account": "Card payable (CPY)",  # the text the list shows
        }
    )
    posted = await client.post(_path(world), data={**fields, "csrf_token": csrf_of(page.text), "action": "save"})
    assert posted.status_code == 303, posted.text
    [version] = await _versions(database, tenant)
    assert version.body["defaults"]["journal_credit_account"] == "A-7"
    assert version.body["defaults"]["card_vendor"] == "V-1"
    assert version.body["defaults"]["payment_account"] == "A-8"
    shown = form_of((await client.get(_path(world))).text)
    assert shown["defaults.journal_credit_account"] == "Clearing (CLR)"
    assert shown["defaults.card_vendor"] == "Card Company (CC)"


async def _map(database: Database, tenant: TenantFixture, world: World, *specs: tuple[str, str, str, str]) -> None:
    """(source type, source value, destination type, remote id) mappings onto the world's attributes."""
    async with database.tenant_session(tenant.id) as session:
        session.add_all(
            Mapping(
                tenant_id=tenant.id,
                destination_connection_id=world.destination_id,
                source_type=source_type,
                source_value=source_value,
                destination_type=destination_type,
                destination_attribute_id=world.attributes[(destination_type, remote_id)],
            )
            for source_type, source_value, destination_type, remote_id in specs
        )


def _preview_rows(page: str) -> list[str]:
    table = page[page.find('<table id="preview"') : page.find("</table>", page.find('<table id="preview"'))]
    return table.split("<tr>")[2:]


async def test_the_preview_shows_the_next_documents_and_the_mappings_they_lack(
    client: httpx.AsyncClient, database: Database, tenant: TenantFixture
) -> None:
    world = await _world(client, database, tenant)
    await _map(
        database,
        tenant,
        world,
        ("category", "Travel", "expense_type", "ET-TRAVEL"),
        ("employee", "ada@example.com", "employee", "E-ADA"),
    )
    await sign_in(client, tenant.key)
    page = await client.get(_path(world))
    assert "2 open expense(s) make 2 document(s)" in page.text
    built, lacking = _preview_rows(page.text)
    assert destination_vocabulary("intacct").document_label("expense_report") in built
    assert "Ada Lovelace (E-ADA)" in built
    assert "2026-05-01" in built and "42.50 USD" in built
    assert "1 mapping(s) missing" in lacking and "category “Meals” → Expense type" in lacking

    # The Preview button builds with what is on the form, and saves nothing.
    fields = {**form_of(page.text), "reimbursable.export_type": "bill"}
    previewed = await client.post(_path(world), data={**fields, "csrf_token": csrf_of(page.text), "action": "preview"})
    assert previewed.status_code == 200
    assert "the settings above (not saved)" in previewed.text
    rows = _preview_rows(previewed.text)
    assert all(destination_vocabulary("intacct").document_label("bill") in row for row in rows)
    assert all("employee “ada@example.com” → Vendor" in row for row in rows)
    assert form_of(previewed.text)["reimbursable.export_type"] == "bill"
    assert await _versions(database, tenant) == []


async def test_another_tenants_settings_are_not_found_and_support_sets_up_nothing(
    client: httpx.AsyncClient,
    database: Database,
    tenant: TenantFixture,
    other_tenant: TenantFixture,
    support_key: str,
) -> None:
    theirs = await _world(client, database, other_tenant)
    await sign_in(client, tenant.key)
    assert (await client.get(_path(theirs))).status_code == 404
    page = await client.get("/dashboard/setup")
    forged = await client.post(
        _path(theirs), data={"csrf_token": csrf_of(page.text), "action": "save", "reimbursable.export_type": "bill"}
    )
    assert forged.status_code == 404
    missing = f"/dashboard/setup/destinations/{uuid.uuid4()}/settings"
    assert (await client.get(missing)).status_code == 404
    assert await _versions(database, other_tenant) == []

    client.cookies.clear()
    await sign_in(client, support_key)
    refused = await client.get(_path(theirs))
    assert refused.status_code == 403 and "admin" in refused.text
    overview = await client.get("/dashboard")
    posted = await client.post(
        _path(theirs), data={"csrf_token": csrf_of(overview.text), "action": "save", "reimbursable.export_type": "bill"}
    )
    assert posted.status_code == 403
    assert await _versions(database, other_tenant) == []


async def test_an_imported_destination_offers_its_own_values_and_a_typed_name_saves_its_id(
    browser: httpx.AsyncClient,
    tenant: TenantFixture,
    database: Database,
    settings: Settings,
    sandbox: RunningSandbox,
) -> None:
    """Connected through the credentials form, its charge-card accounts imported from the Intacct simulator."""
    await sign_in(browser, tenant.key)
    connected = await connect_intacct(browser, **INTACCT)
    destination_id = uuid.UUID(connected.headers["location"].split("/")[-2])
    connector = await open_connector(
        database=database,
        vault=CredentialVault(settings.vault_key_list()),
        settings=sandbox_settings(settings, sandbox),
        tenant_id=tenant.id,
        connection_id=destination_id,
    )
    assert isinstance(connector, DestinationConnector)
    async with connector:
        await import_dimensions(
            database,
            connector,
            tenant_id=tenant.id,
            connection_id=destination_id,
            actor="test:import",
            attribute_types=["charge_card_account"],
        )
    async with database.tenant_session(tenant.id) as session:
        card = (
            await session.scalars(
                select(DestinationAttribute)
                .where(DestinationAttribute.attribute_type == "charge_card_account")
                .order_by(DestinationAttribute.name)
            )
        ).first()
    assert card is not None
    path = f"/dashboard/setup/destinations/{destination_id}/settings"
    page = await browser.get(path)
    assert page.status_code == 200
    listed = page.text[page.text.find('<datalist id="values-charge_card_account">') :]
    assert f'<option value="{card.name}' in listed[: listed.find("</datalist>")]
    fields = {**form_of(page.text), "card.export_type": "charge_card_transaction"}
    fields["defaults.charge_card_account"] = card.name
    posted = await browser.post(path, data={**fields, "csrf_token": csrf_of(page.text), "action": "save"})
    assert posted.status_code == 303, posted.text
    [version] = await _versions(database, tenant)
    assert version.body["card"]["export_type"] == "charge_card_transaction"
    assert version.body["defaults"]["charge_card_account"] == card.remote_id
