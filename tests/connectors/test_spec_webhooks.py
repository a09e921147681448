"""A spec says where its system posts webhooks; an app-level address is refused unless it names a system-written
account setting (a person who could write it would receive another company's news) and a secret app field."""

from typing import Any

import pytest
from pydantic import ValidationError

from connectors.registry import available_systems, connector_class
from connectors.spec import ConnectorSpec, SettingWriter, WebhookAddress, WebhookAnswer
from webhooks.verifiers import VERIFIERS


def _spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "system": "x",
        "display_name": "X",
        "roles": ["source"],
        "urls": {"api": "https://x.test"},
        "sandbox_paths": {"api": "/x"},
        "auth": {
            "mode": "credentials",
            "app_fields": [
                {"name": "client_id", "label": "Client", "help": "h"},
                {"name": "verifier", "label": "Verifier", "help": "h", "secret": True, "required": False},
            ],
        },
        "pagination": {"style": "offset", "page_size": 10, "max_page_size": 10},
        "settings": [
            {"name": "account", "help": "h", "written_by": "system"},
            {"name": "chosen", "help": "h"},
        ],
        "webhook_scheme": "intuit-signature",
        "webhook_address": "app",
        "webhook_account_setting": "account",
        "webhook_secret_field": "verifier",
    }
    return base | changes


def test_an_app_level_spec_names_a_system_written_account_setting_and_a_secret_app_field() -> None:
    spec = ConnectorSpec.model_validate(_spec())
    assert spec.webhook_address is WebhookAddress.APP
    refusals = {
        "a person-written setting": _spec(webhook_account_setting="chosen"),
        "an undeclared setting": _spec(webhook_account_setting="nowhere"),
        "no setting": _spec(webhook_account_setting=None),
        "a field that is not secret": _spec(webhook_secret_field="client_id"),
        "no secret field": _spec(webhook_secret_field=None),
        "no scheme": _spec(webhook_scheme=None),
        "per-connection with app fields": _spec(webhook_address="connection"),
    }
    for why, raw in refusals.items():
        with pytest.raises(ValidationError):
            ConnectorSpec.model_validate(raw)
            pytest.fail(f"accepted {why}")
    plain = _spec(webhook_address="connection", webhook_account_setting=None, webhook_secret_field=None)
    assert ConnectorSpec.model_validate(plain).webhook_address is WebhookAddress.CONNECTION


def test_an_empty_answer_is_declared_by_app_level_systems_only() -> None:
    assert ConnectorSpec.model_validate(_spec()).webhook_answer is WebhookAnswer.DETAILED
    assert ConnectorSpec.model_validate(_spec(webhook_answer="empty")).webhook_answer is WebhookAnswer.EMPTY
    per_connection = _spec(
        webhook_address="connection", webhook_account_setting=None, webhook_secret_field=None, webhook_answer="empty"
    )
    with pytest.raises(ValidationError, match="webhook_answer"):
        ConnectorSpec.model_validate(per_connection)


def test_every_installed_app_level_system_is_consistent_with_its_verifier_and_settings() -> None:
    for system in available_systems():
        spec = connector_class(system).spec
        if spec.webhook_scheme is not None:
            assert spec.webhook_scheme in VERIFIERS, system
        if spec.webhook_address is WebhookAddress.APP:
            [setting] = [item for item in spec.settings if item.name == spec.webhook_account_setting]
            assert setting.written_by is SettingWriter.SYSTEM
