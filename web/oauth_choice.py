"""A consent covering several sets of books (Xero organisations), waiting for the tenant admin to pick which become
connections, for the API and the dashboard alike.

The callback (`api.connecting`) keeps the consent's tokens and the accounts it covers in Redis, vault-encrypted, for
`OAUTH_STATE_TTL_SECONDS`, under a random id bound to the tenant and the system. Choosing takes it exactly once
(`GETDEL`): every picked account becomes a connection holding the one token set under one `oauth_grant`, so they
refresh together (`connectors.token_store`). A choice that cannot be saved (a name taken, an account already
connected) is refused before anything is taken, so the admin can correct it without consenting again.
"""

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from connectors.base import AuthorizedAccount
from connectors.spec import ConnectorSpec
from core.crypto import CredentialVault, VaultError
from core.models import Connection
from core.repository import TenantRepository
from web.connection_setup import save_connection
from web.constants import CONNECTION_NAME_PATTERN, OAUTH_CHOICE_KEY, OAUTH_STATE_TTL_SECONDS

CHOICE_ACTION = "connection.authorize"


class ChoiceRefused(Exception):
    """The pick cannot be saved as asked; `problems` says why, per account id ("" for the pick as a whole)."""

    def __init__(self, problems: dict[str, str], *, conflict: bool = False) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = problems
        self.conflict = conflict
        """True when what stands in the way is already saved (a name or an account taken), not the pick's form."""


class ChoiceGone(Exception):
    """No waiting consent has this id for this tenant and system: unknown, already used or expired."""


@dataclass(frozen=True)
class PendingChoice:
    choice_id: str
    tenant_id: uuid.UUID
    system: str
    name: str
    """The connection name asked for when connecting started: the first account's suggested name."""
    accounts: tuple[AuthorizedAccount, ...]
    credentials: bytes
    """Vault ciphertext of the consent's tokens."""
    return_to: str | None

    def account(self, account_id: str) -> AuthorizedAccount | None:
        return next((account for account in self.accounts if account.account_id == account_id), None)

    def suggested_names(self) -> dict[str, str]:
        """A connection name per account: the asked-for name for the first, the account's own name after it."""
        names = {}
        for index, account in enumerate(self.accounts):
            suggested = self.name if index == 0 else f"{self.name} {account.name}"
            names[account.account_id] = re.sub(r"[^\w .@-]", "", suggested)[:200] or self.name
        return names


def _key(choice_id: str) -> str:
    return OAUTH_CHOICE_KEY.format(choice=choice_id)


async def remember_choice(
    redis: Redis,
    vault: CredentialVault,
    *,
    tenant_id: uuid.UUID,
    system: str,
    name: str,
    accounts: Sequence[AuthorizedAccount],
    credentials: bytes,
    return_to: str | None,
) -> str:
    """Keep a consent covering several accounts until the admin picks; returns the id choosing names."""
    choice_id = secrets.token_urlsafe(24)
    waiting = {
        "tenant_id": str(tenant_id),
        "system": system,
        "name": name,
        "accounts": [
            {"account_id": account.account_id, "name": account.name, "settings": dict(account.settings)}
            for account in accounts
        ],
        "credentials": credentials.decode(),
        "return_to": return_to,
    }
    await redis.set(_key(choice_id), vault.encrypt(waiting), ex=OAUTH_STATE_TTL_SECONDS)
    return choice_id


async def pending_choice(
    redis: Redis, vault: CredentialVault, *, choice_id: str, tenant_id: uuid.UUID, system: str
) -> PendingChoice:
    """The consent waiting under `choice_id` for this tenant and system; `ChoiceGone` otherwise."""
    raw = await redis.get(_key(choice_id)) if len(choice_id) <= 64 else None
    if raw is None:
        raise ChoiceGone(choice_id)
    try:
        waiting: dict[str, Any] = vault.decrypt(raw)
    except VaultError as exc:
        raise ChoiceGone(choice_id) from exc
    if waiting["tenant_id"] != str(tenant_id) or waiting["system"] != system:
        raise ChoiceGone(choice_id)  # another tenant's consent is not even said to exist
    return PendingChoice(
        choice_id=choice_id,
        tenant_id=tenant_id,
        system=system,
        name=waiting["name"],
        accounts=tuple(AuthorizedAccount(**account) for account in waiting["accounts"]),
        credentials=waiting["credentials"].encode(),
        return_to=waiting["return_to"],
    )


async def _refusals(
    repository: TenantRepository, *, spec: ConnectorSpec, pending: PendingChoice, picked: dict[str, str]
) -> tuple[dict[str, str], bool]:
    """What stands in the way of saving `picked` (account id → connection name), and whether it is already saved."""
    problems: dict[str, str] = {}
    if not picked:
        return {"": f"Pick at least one {spec.display_name} organisation to connect."}, False
    for account_id, name in picked.items():
        if pending.account(account_id) is None:
            problems[account_id] = "This organisation is not one the consent covers."
        elif not re.fullmatch(CONNECTION_NAME_PATTERN, name):
            problems[account_id] = "A name is needed: letters, digits, spaces and . @ - _ (at most 200)."
    names = list(picked.values())
    for account_id, name in picked.items():
        if names.count(name) > 1:
            problems.setdefault(account_id, f"Two organisations cannot both be named {name!r}.")
    if problems:
        return problems, False
    existing = list(await repository.session.scalars(repository.scoped(Connection)))
    for account_id, name in picked.items():
        account = pending.account(account_id)
        assert account is not None
        for row in existing:
            holds = row.provider == spec.system and _holds(row, account)
            if row.name == name and not holds:
                problems[account_id] = f"A connection named {name!r} already exists; choose another name."
            elif holds and row.name != name:
                problems[account_id] = f"{account.name} is already connected as {row.name!r}."
    return problems, bool(problems)


def _holds(row: Connection, account: AuthorizedAccount) -> bool:
    """Whether the connection exports to `account`'s books: it holds every setting the account would give it."""
    return bool(account.settings) and all(row.settings.get(key) == value for key, value in account.settings.items())


async def connect_chosen(
    repository: TenantRepository,
    redis: Redis,
    *,
    spec: ConnectorSpec,
    pending: PendingChoice,
    picked: dict[str, str],
) -> list[Connection]:
    """Make each picked account (id → connection name) a connection holding the consent's tokens under one grant, or
    re-authorize the connection already holding it. `ChoiceRefused` before anything is taken or saved."""
    problems, conflict = await _refusals(repository, spec=spec, pending=pending, picked=picked)
    if problems:
        raise ChoiceRefused(problems, conflict=conflict)
    if await redis.getdel(_key(pending.choice_id)) is None:
        raise ChoiceGone(pending.choice_id)  # chosen meanwhile, in another tab, or expired
    grant = uuid.uuid4()
    connections = []
    for account_id, name in picked.items():
        account = pending.account(account_id)
        assert account is not None
        row = await save_connection(
            repository,
            spec=spec,
            name=name,
            credentials=pending.credentials,
            action=CHOICE_ACTION,
            settings=dict(account.settings),
            oauth_grant=grant,
        )
        connections.append(row)
    return connections


async def connection_holding(
    repository: TenantRepository, *, spec: ConnectorSpec, name: str, accounts: Sequence[AuthorizedAccount]
) -> AuthorizedAccount | None:
    """When the consent names its accounts: the one the connection `name` becomes or stays. A new connection becomes
    the consent's only account, or None when the admin must pick among several; an existing one stays on the account
    it already exports to, and `ChoiceRefused` (conflict) when the consent does not cover it: re-pointing a connection
    at other books would leave its exports pointing at documents the new books do not hold. A new connection to books
    another connection already exports to is refused as a choice refuses it (keyed by the account's id): both would
    create every document there."""
    query = repository.scoped(Connection).where(Connection.name == name, Connection.provider == spec.system)
    row = (await repository.session.scalars(query)).first()
    if row is None:
        if len(accounts) != 1:
            return None
        [account] = accounts
        same_system = repository.scoped(Connection).where(Connection.provider == spec.system)
        holder = next(
            (other for other in await repository.session.scalars(same_system) if _holds(other, account)), None
        )
        if holder is not None:
            raise ChoiceRefused(
                {account.account_id: f"{account.name} is already connected as {holder.name!r}; reconnect that one."},
                conflict=True,
            )
        return account
    held = next((account for account in accounts if _holds(row, account)), None)
    if held is None and any(key in row.settings for account in accounts for key in account.settings):
        covered = ", ".join(account.name for account in accounts)
        raise ChoiceRefused(
            {
                "": f"The connection {name!r} exports to {spec.display_name} books this consent does not cover (it "
                f"covers {covered}). Consent again and choose its organisation, or connect these as a new connection."
            },
            conflict=True,
        )
    return held or (accounts[0] if len(accounts) == 1 else None)


__all__ = [
    "ChoiceGone",
    "ChoiceRefused",
    "PendingChoice",
    "connect_chosen",
    "connection_holding",
    "pending_choice",
    "remember_choice",
]
