"""Every installed connector's spec.yaml loads and validates; the model refuses inconsistent specs."""

import pytest
from pydantic import ValidationError

from connectors.registry import UnknownSystemError, available_systems, connector_class
from connectors.spec import ConnectorSpec, load_spec


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
    base = {
        "system": "x",
        "display_name": "X",
        "roles": ["destination"],
        "urls": {"api": "https://x.test"},
        "sandbox_paths": {"api": "/x"},
        "auth": {"mode": "credentials"},
        "pagination": {"style": "offset", "page_size": 10, "max_page_size": 100},
        "documents": [{"kind": "bill", "object": "Bill", "reference_field": "DocNumber", "funds": ["reimbursable"]}],
        "idempotency": {"scope": "document", "carrier": "requestid", "max_length": 50},
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
        {**base, "documents": [*base["documents"], *base["documents"]]},  # a kind declared twice
        {**base, "documents": [{"kind": "invoice", "object": "I", "reference_field": "R"}]},  # not a kind we build
    ):
        with pytest.raises(ValidationError):
            ConnectorSpec.model_validate(broken)
