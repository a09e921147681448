import base64
import secrets
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from core.crypto import CredentialVault
from core.settings import Settings


def test_development_secrets_are_refused_outside_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGERLINE_VAULT_KEYS", raising=False)
    monkeypatch.delenv("LEDGERLINE_SESSION_SECRET", raising=False)
    with pytest.raises(ValidationError, match="LEDGERLINE_VAULT_KEYS, LEDGERLINE_SESSION_SECRET"):
        Settings(env="prod")
    assert Settings(env="dev").env == "dev"


def test_a_development_key_hidden_in_a_keyring_is_still_refused() -> None:
    from core.constants import DEV_VAULT_KEY

    with pytest.raises(ValidationError, match="LEDGERLINE_VAULT_KEYS"):
        Settings(env="prod", vault_keys=f"{CredentialVault.new_key()},{DEV_VAULT_KEY}", session_secret="real-one")


def test_settings_come_from_prefixed_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    key = CredentialVault.new_key()
    monkeypatch.setenv("LEDGERLINE_ENV", "prod")
    monkeypatch.setenv("LEDGERLINE_VAULT_KEYS", f" {key} ,")
    session_secret = secrets.token_urlsafe(32)
    monkeypatch.setenv("LEDGERLINE_SESSION_SECRET", session_secret)
    monkeypatch.setenv("LEDGERLINE_PORT", "9001")
    monkeypatch.setenv("LEDGERLINE_TRUSTED_PROXIES", "10.0.0.7, 192.168.0.0/16")
    settings = Settings()
    assert settings.port == 9001
    assert settings.vault_key_list() == [key]
    assert settings.trusted_proxies == ["10.0.0.7", "192.168.0.0/16"]
    assert session_secret not in repr(settings)


ROOT = Path(__file__).resolve().parents[2]


def _kubernetes_example_secret() -> str:
    document = yaml.safe_load((ROOT / "deploy" / "kubernetes" / "secret.example.yaml").read_text())
    return str(document["stringData"]["LEDGERLINE_SESSION_SECRET"])


@pytest.mark.parametrize(
    "weak",
    [
        pytest.param(_kubernetes_example_secret(), id="kubernetes-example"),
        pytest.param("ledgerline-dev-only-session-secret", id="built-in-development-value"),
        pytest.param("long-random-secret", id="a-phrase"),
        pytest.param(secrets.token_urlsafe(16), id="16-random-bytes"),
        pytest.param(secrets.token_hex(31), id="31-random-bytes-in-hex"),
        pytest.param("ab" * 40, id="long-but-repetitive"),
    ],
)
def test_a_weak_or_placeholder_session_secret_is_refused_outside_dev(weak: str) -> None:
    with pytest.raises(ValidationError, match="LEDGERLINE_SESSION_SECRET") as refused:
        Settings(env="prod", vault_keys=CredentialVault.new_key(), session_secret=weak)
    assert weak not in str(refused.value), "the refusal never quotes the secret"
    assert Settings(env="dev", session_secret=weak).env == "dev"


@pytest.mark.parametrize(
    "strong",
    [
        pytest.param(secrets.token_urlsafe(32), id="token_urlsafe-32"),
        pytest.param(secrets.token_hex(32), id="openssl-rand-hex-32"),
        pytest.param(base64.b64encode(secrets.token_bytes(32)).decode(), id="openssl-rand-base64-32"),
    ],
)
def test_thirty_two_random_bytes_are_accepted(strong: str) -> None:
    assert Settings(env="prod", vault_keys=CredentialVault.new_key(), session_secret=strong).env == "prod"


def test_trusted_proxies_must_be_addresses() -> None:
    with pytest.raises(ValidationError, match="not an address or network"):
        Settings(env="dev", trusted_proxies="10.0.0.1,proxy.example")


def test_the_public_url_decides_whether_cookies_are_secure() -> None:
    assert Settings(env="dev", public_url="https://ledgerline.example.com").public_url_is_https
    assert not Settings(env="dev", public_url="http://127.0.0.1:8000").public_url_is_https
