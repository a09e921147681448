"""Every installed connector's spec.yaml loads and validates; the model refuses inconsistent specs."""

import pytest
from pydantic import ValidationError

from connectors.registry import UnknownSystemError, available_systems, connector_class, destination_vocabulary
from connectors.spec import ConnectorSpec, load_spec
from core.destination_vocabulary import AttributeRole
from core.domain import DocumentKind


def test_every_spec_loads_and_names_its_system() -> None:
    assert available_systems(), "no connector is installed"
    for system in available_systems():
        spec = load_spec(system)
        assert spec.system == system
        assert set(spec.sandbox_paths) == set(spec.urls)
        assert connector_class(system).spec == spec


def test_unknown_systems_are_a_clear_error() -> None:
    with pytest.raises(UnknownSystemError, match="no connector for 'netsuite'"):
        connector_class("netsuite")


def test_inconsistent_specs_are_refused() -> None:
    bill = {
        "kind": "bill",
        "object": "Bill",
        "reference_field": "DocNumber",
        "funds": ["reimbursable"],
        "category_type": "ledger",
        "counterparty_types": ["supplier"],
    }
    base = {
        "system": "x",
        "display_name": "X",
        "roles": ["destination"],
        "urls": {"api": "https://x.test"},
        "sandbox_paths": {"api": "/x"},
        "auth": {"mode": "credentials"},
        "pagination": {"style": "offset", "page_size": 10, "max_page_size": 100},
        "documents": [bill],
        "idempotency": {"scope": "document", "carrier": "requestid", "max_length": 50},
        "streams": ["ledger", "supplier"],
        "attribute_types": [
            {"name": "ledger", "label": "Ledger", "roles": ["category"]},
            {"name": "supplier", "label": "Supplier", "roles": ["counterparty"]},
        ],
    }
    assert (
        ConnectorSpec.model_validate(base).url("api", sandbox_base="http://127.0.0.1:9000/")
        == "http://127.0.0.1:9000/x"
    )
    for broken in (
        {**base, "sandbox_paths": {}},
        {**base, "auth": {"mode": "oauth2"}},
        {**base, "pagination": {"style": "offset", "page_size": 500, "max_page_size": 100}},
        {**base, "pagination": {"style": "sideways", "page_size": 1, "max_page_size": 1}},
        {**base, "surprise": True},
        {**base, "documents": []},  # a destination that creates nothing
        {**base, "idempotency": None},  # … or says nothing of its idempotency
        {**base, "documents": [bill, bill]},  # a kind declared twice
        {**base, "documents": [{"kind": "invoice", "object": "I", "reference_field": "R"}]},  # not a kind we build
        {**base, "streams": ["ledger", "tag"]},  # a stream that is no declared attribute type
        {**base, "documents": [{**bill, "category_type": None}]},  # exported from expenses, books to nothing
        {**base, "documents": [{**bill, "category_type": "journal"}]},  # an undeclared type
        {**base, "documents": [{**bill, "category_type": "supplier"}]},  # a type that cannot play that role
        {**base, "documents": [{**bill, "counterparty_types": ["ledger"]}]},
        {**base, "attribute_types": [*base["attribute_types"], {"name": "ledger", "label": "L", "roles": ["tax"]}]},
        {**base, "attribute_types": [{"name": "ledger", "label": "Ledger", "roles": ["sideways"]}]},  # no such role
        {  # two types playing a role a document fills from one
            **base,
            "attribute_types": [
                *base["attribute_types"],
                {"name": "vat", "label": "VAT", "roles": ["tax"]},
                {"name": "gst", "label": "GST", "roles": ["tax"]},
            ],
        },
        {**base, "user_dimensions": {"prefix": "udd", "label": "Own"}},  # a prefix ends with a colon
        {**base, "roles": ["source"], "documents": [], "idempotency": None},  # a source has no attribute types
    ):
        with pytest.raises(ValidationError):
            ConnectorSpec.model_validate(broken)


def test_intacct_declares_the_attribute_types_its_mappings_book_to() -> None:
    vocabulary = destination_vocabulary("intacct")
    assert vocabulary.category_type(DocumentKind.EXPENSE_REPORT) == "expense_type"
    assert {vocabulary.category_type(kind) for kind in (DocumentKind.BILL, DocumentKind.JOURNAL_ENTRY)} == {"account"}
    assert vocabulary.card_account_type(DocumentKind.CHARGE_CARD_TRANSACTION) == "charge_card_account"
    assert vocabulary.card_account_type(DocumentKind.JOURNAL_ENTRY) == "account"
    assert vocabulary.card_account_type(DocumentKind.BILL) is None
    assert vocabulary.counterparty_types(DocumentKind.EXPENSE_REPORT) == ("employee",)
    assert vocabulary.counterparty_types(DocumentKind.BILL) == ("vendor",)
    assert set(vocabulary.types_with(AttributeRole.LINE_DIMENSION)) == {
        "department",
        "location",
        "class",
        "project",
        "customer",
        "item",
    }
    assert vocabulary.is_line_dimension("udd:REGION") and not vocabulary.is_line_dimension("udd:")
    assert vocabulary.types_with(AttributeRole.ENTITY) == ("entity",)
    assert set(vocabulary.types_with(AttributeRole.BANK_ACCOUNT)) == {"account", "checking_account"}
    assert {declared.name for declared in vocabulary.types} == set(load_spec("intacct").streams)
