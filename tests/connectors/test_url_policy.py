"""Production never follows `LEDGERLINE_SANDBOX_URL`, and every connector URL it uses is https: checked where URLs
are resolved and again when the API or a worker starts, so a misconfigured deployment stops with a clear error
instead of sending client secrets and passwords to whatever address the variable names."""

import secrets

import pytest
from pydantic import ValidationError

from connectors.factory import resolve_urls
from connectors.registry import available_systems
from connectors.spec import ConnectorSpec, load_spec
from connectors.url_policy import UnsafeConnectorUrlError, check_connector_urls
from core.crypto import CredentialVault
from core.settings import Settings
from ledgerline.app import create_app
from ledgerline.worker import create_worker

SPEC = {
    "system": "x",
    "display_name": "X",
    "roles": ["destination"],
    "urls": {"api": "https://x.test/api"},
    "sandbox_paths": {"api": "/x"},
    "auth": {"mode": "credentials"},
    "pagination": {"style": "offset", "page_size": 10, "max_page_size": 100},
}


def _settings(env: str, sandbox_url: str | None) -> Settings:
    return Settings(
        env=env,  # type: ignore[arg-type]
        vault_keys=CredentialVault.new_key(),
        session_secret=secrets.token_urlsafe(32),
        sandbox_url=sandbox_url,
    )


@pytest.mark.parametrize("sandbox_url", ["http://attacker.example:8080", "https://sandbox.example"])
def test_the_sandbox_url_is_refused_in_production_whatever_its_scheme(sandbox_url: str) -> None:
    settings = _settings("prod", sandbox_url)
    for system in available_systems():
        with pytest.raises(UnsafeConnectorUrlError, match="LEDGERLINE_SANDBOX_URL") as refused:
            resolve_urls(load_spec(system), settings)
        assert "attacker" not in str(refused.value) and "sandbox.example" not in str(refused.value)


@pytest.mark.parametrize("env", ["dev", "test"])
def test_the_sandbox_url_is_honoured_on_development_and_test_machines(env: str) -> None:
    urls = resolve_urls(load_spec("intacct"), _settings(env, "http://127.0.0.1:9000"))
    assert urls == {"gateway": "http://127.0.0.1:9000/intacct/ia/xml/xmlgw.phtml"}


def test_production_resolves_the_specs_own_https_urls() -> None:
    for system in available_systems():
        urls = resolve_urls(load_spec(system), _settings("prod", None))
        assert urls == load_spec(system).urls
        assert all(url.startswith("https://") for url in urls.values())


def test_a_spec_naming_a_plain_http_url_is_refused() -> None:
    with pytest.raises(ValidationError, match="https"):
        ConnectorSpec.model_validate({**SPEC, "urls": {"api": "http://x.test/api"}})


def test_the_api_and_a_worker_refuse_to_start_in_production_with_a_sandbox_url() -> None:
    settings = _settings("prod", "http://10.0.0.7:8080")
    with pytest.raises(UnsafeConnectorUrlError, match="LEDGERLINE_ENV"):
        check_connector_urls(settings)
    with pytest.raises(UnsafeConnectorUrlError, match="LEDGERLINE_SANDBOX_URL"):
        create_app(settings)
    with pytest.raises(UnsafeConnectorUrlError, match="LEDGERLINE_SANDBOX_URL"):
        create_worker(settings, handle_signals=False)
    check_connector_urls(_settings("prod", None))
    check_connector_urls(_settings("test", "http://127.0.0.1:9000"))
