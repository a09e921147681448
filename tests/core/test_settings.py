import pytest
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
    monkeypatch.setenv("LEDGERLINE_SESSION_SECRET", "long-random-secret")
    monkeypatch.setenv("LEDGERLINE_PORT", "9001")
    settings = Settings()
    assert settings.port == 9001
    assert settings.vault_key_list() == [key]
    assert "long-random-secret" not in repr(settings)
