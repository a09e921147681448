"""The declarative half: spec.yaml agrees with the connector's constants and describes its credentials."""

import re

import pytest

from connectors.intacct import CONNECTOR
from connectors.intacct import constants as names
from connectors.intacct.dimensions import OBJECTS
from connectors.spec import AuthMode, ConnectorRole, PaginationStyle

SPEC = CONNECTOR.spec


def test_the_spec_declares_a_credentials_destination_with_result_id_paging() -> None:
    assert (SPEC.system, SPEC.display_name, SPEC.roles) == (
        names.SYSTEM,
        names.DISPLAY_NAME,
        (ConnectorRole.DESTINATION,),
    )
    assert SPEC.auth.mode is AuthMode.CREDENTIALS
    assert SPEC.pagination.style is PaginationStyle.RESULT_ID
    assert SPEC.pagination.page_size == SPEC.pagination.max_page_size == 1000
    assert SPEC.url(names.GATEWAY_URL) == "https://api.intacct.com/ia/xml/xmlgw.phtml"
    assert SPEC.url(names.GATEWAY_URL, sandbox_base="http://sandbox:9000/") == (
        "http://sandbox:9000/intacct/ia/xml/xmlgw.phtml"
    )


def test_streams_are_the_dimension_types_the_connector_imports() -> None:
    assert SPEC.streams == tuple(OBJECTS)


def test_credential_fields_match_what_the_connector_reads() -> None:
    app = {field.name: field for field in SPEC.auth.app_fields}
    tenant = {field.name: field for field in SPEC.auth.tenant_fields}

    assert set(app) == {names.SENDER_ID, names.SENDER_PASSWORD}
    assert set(tenant) == {names.USER_ID, names.COMPANY_ID, names.USER_PASSWORD, names.ENTITY_ID}
    assert {name for name, field in {**app, **tenant}.items() if field.secret} == {
        names.SENDER_PASSWORD,
        names.USER_PASSWORD,
    }
    assert not tenant[names.ENTITY_ID].required
    assert all(field.help and field.label for field in (*app.values(), *tenant.values()))


@pytest.mark.parametrize(
    ("field", "value", "valid"),
    [
        ("user_id", "ws_ledgerline", True),
        ("user_id", "has space", False),
        ("company_id", "ledgerline-demo", True),
        ("company_id", "<xml>", False),
        ("entity_id", "", True),
        ("entity_id", "E100", True),
    ],
)
def test_credential_patterns(field: str, value: str, valid: bool) -> None:
    pattern = next(spec for spec in SPEC.auth.tenant_fields if spec.name == field).pattern
    assert pattern is not None
    assert (re.fullmatch(pattern, value) is not None) is valid


def test_the_company_and_the_entity_are_the_fields_that_name_the_books() -> None:
    assert {field.name for field in SPEC.auth.tenant_fields if field.identifies_books} == {
        names.COMPANY_ID,
        names.ENTITY_ID,
    }
    current = {names.COMPANY_ID: "acme", names.USER_ID: "ws", names.USER_PASSWORD: "old"}
    same_books = {**current, names.USER_PASSWORD: "new", names.USER_ID: "ws2", names.ENTITY_ID: " "}
    assert SPEC.auth.books_changed(current, same_books) == ()  # new user or password, same company
    changed = SPEC.auth.books_changed(current, {**current, names.COMPANY_ID: "acme-2", names.ENTITY_ID: "E100"})
    assert [field.name for field in changed] == [names.COMPANY_ID, names.ENTITY_ID]
    assert len(SPEC.auth.books_changed(None, current)) == 2  # unreadable: any of them may change


def test_the_attribute_types_the_connector_reads_are_the_ones_its_spec_declares() -> None:
    """Mappings learn Intacct's types from the spec alone: the connector's own names must be those."""
    assert {declared.name for declared in SPEC.attribute_types} == set(OBJECTS)
    assert SPEC.user_dimensions is not None and SPEC.user_dimensions.prefix == names.UDD_PREFIX
