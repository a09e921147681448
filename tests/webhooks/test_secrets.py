"""Secret rotation rules and the in-process cache of decrypted secrets."""

from datetime import UTC, datetime, timedelta

from core.crypto import CredentialVault
from sync.constants import MAX_SECRETS_PER_CONNECTION
from sync.webhook_secrets import drop_previous, new_secret, rotate, seal, unseal, valid_secrets
from webhooks.secret_cache import SecretCache

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_rotation_gives_previous_secrets_a_grace_and_never_extends_one() -> None:
    first, kept = rotate([], now=NOW)
    second, kept = rotate(kept, now=NOW + timedelta(hours=1))
    third, kept = rotate(kept, now=NOW + timedelta(hours=2))
    assert [item.id for item in kept] == [third.id, second.id, first.id]
    assert kept[0].expires_at is None
    assert kept[1].expires_at == NOW + timedelta(hours=26)
    assert kept[2].expires_at == NOW + timedelta(hours=25)  # its first grace end stands
    later = NOW + timedelta(hours=25, minutes=30)
    assert valid_secrets(kept, now=later) == [third.secret, second.secret]
    assert drop_previous(kept) == [third]


def test_rotation_keeps_at_most_a_few_secrets_and_drops_expired_ones() -> None:
    kept: list = []
    for hour in range(MAX_SECRETS_PER_CONNECTION + 3):
        _, kept = rotate(kept, now=NOW + timedelta(minutes=hour))
    assert len(kept) == MAX_SECRETS_PER_CONNECTION
    newest = kept[0]
    _, kept = rotate(kept, now=NOW + timedelta(days=3))
    assert [item.id for item in kept[1:]] == [newest.id]  # the current one enters its grace; expired ones go


def test_a_secret_never_shows_in_its_repr_and_round_trips_through_the_vault() -> None:
    vault = CredentialVault([CredentialVault.new_key()])
    created, kept = rotate([], now=NOW)
    assert created.secret not in repr(created) and created.secret not in repr(kept)
    assert unseal(vault, seal(vault, kept)) == kept
    assert unseal(vault, None) == []


def test_the_cache_sees_a_rotation_at_once_and_forgets_plaintext_after_its_ttl() -> None:
    vault = CredentialVault([CredentialVault.new_key()])
    clock = [0.0]
    cache = SecretCache(vault, ttl_seconds=30, clock=lambda: clock[0])
    one = seal(vault, [new_secret(now=NOW)])
    assert cache.secrets(one) is cache.secrets(one)
    two = seal(vault, [*unseal(vault, one), new_secret(now=NOW)])
    assert len(cache.secrets(two)) == 2
    first = cache.secrets(one)
    clock[0] = 31.0
    assert cache.secrets(one) is not first and cache.secrets(one) == first
