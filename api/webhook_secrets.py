"""`/v1/connections/{id}/webhook-secrets`: the secrets senders sign webhooks with. A new secret is shown once, when
it is created; listing shows ids and expiry only. Rotating keeps the previous secrets valid for a grace period
(24 h), or until `DELETE …/webhook-secrets/previous`."""

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.constants import NO_STORE
from api.deps import RepositoryDep, SettingsDep, VaultDep
from core.models import Connection
from core.repository import TenantRepository
from core.settings import Settings
from sync.webhook_secrets import WebhookSecret, drop_previous, rotate, seal, unseal, webhook_senders
from web.problems import Problem, problem_responses

router = APIRouter(prefix="/connections/{connection_id}/webhook-secrets", tags=["webhook secrets"])


class WebhookSecretPublic(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime | None
    """None for the current secret; the end of the grace period for previous ones."""

    @classmethod
    def of(cls, item: WebhookSecret) -> "WebhookSecretPublic":
        return cls(id=item.id, created_at=item.created_at, expires_at=item.expires_at)


class WebhookSecretsPublic(BaseModel):
    webhook_url: str | None
    """Where the sender posts; None for systems that send no webhooks."""
    items: list[WebhookSecretPublic]


class WebhookSecretCreated(WebhookSecretPublic):
    secret: str
    """Shown only in this response: give it to the sender now."""
    webhook_url: str | None
    previous: list[WebhookSecretPublic]


async def _connection(repository: TenantRepository, connection_id: uuid.UUID, *, lock: bool = False) -> Connection:
    """The caller's connection; row-locked when its secrets change, so concurrent rotations keep each other's."""
    query = repository.scoped(Connection).where(Connection.id == connection_id)
    row = (await repository.session.scalars(query.with_for_update() if lock else query)).first()
    if row is None:
        raise Problem(404, f"No connection {connection_id} exists for this tenant.")
    return row


async def _locked_connection(repository: TenantRepository, connection_id: uuid.UUID) -> Connection:
    row = await _connection(repository, connection_id, lock=True)
    if row.provider not in webhook_senders():
        raise Problem(
            409,
            f"{row.provider} connections have no webhook secrets of their own; webhook secrets exist for: "
            f"{', '.join(webhook_senders())}.",
            problem="webhooks-unsupported",
        )
    return row


def _webhook_url(settings: Settings, row: Connection) -> str | None:
    if row.provider not in webhook_senders():
        return None
    return f"{settings.public_url.rstrip('/')}/webhooks/{row.provider}/{row.webhook_key}"


def _live(items: list[WebhookSecret]) -> list[WebhookSecret]:
    now = datetime.now(UTC)
    return [item for item in items if item.valid_at(now)]


@router.get("", response_model=WebhookSecretsPublic, summary="List webhook secrets (never their values)")
async def list_webhook_secrets(
    connection_id: uuid.UUID, repository: RepositoryDep, vault: VaultDep, settings: SettingsDep
) -> WebhookSecretsPublic:
    row = await _connection(repository, connection_id)
    items = _live(unseal(vault, row.webhook_secrets))
    return WebhookSecretsPublic(
        webhook_url=_webhook_url(settings, row), items=[WebhookSecretPublic.of(item) for item in items]
    )


@router.post(
    "",
    response_model=WebhookSecretCreated,
    status_code=201,
    summary="Create (rotate) a webhook secret",
    responses=problem_responses({409: "This connection's system sends no webhooks."}),
)
async def create_webhook_secret(
    connection_id: uuid.UUID, repository: RepositoryDep, vault: VaultDep, settings: SettingsDep, response: Response
) -> WebhookSecretCreated:
    """The answer carries the secret: `no-store` keeps it out of caches and out of the Idempotency-Key table."""
    response.headers["Cache-Control"] = NO_STORE
    row = await _locked_connection(repository, connection_id)
    created, kept = rotate(unseal(vault, row.webhook_secrets), now=datetime.now(UTC))
    row.webhook_secrets = seal(vault, kept)
    previous = kept[1:]
    await repository.audit(
        "connection.webhook_secret.create",
        entity=row,
        data={"webhook_secret_id": created.id, "previous": {item.id: str(item.expires_at) for item in previous}},
    )
    return WebhookSecretCreated(
        id=created.id,
        created_at=created.created_at,
        expires_at=None,
        secret=created.secret,
        webhook_url=_webhook_url(settings, row),
        previous=[WebhookSecretPublic.of(item) for item in previous],
    )


@router.delete(
    "/previous",
    response_model=WebhookSecretsPublic,
    summary="Revoke every secret but the newest now",
    responses=problem_responses({409: "This connection's system sends no webhooks."}),
)
async def revoke_previous_webhook_secrets(
    connection_id: uuid.UUID, repository: RepositoryDep, vault: VaultDep, settings: SettingsDep
) -> WebhookSecretsPublic:
    row = await _locked_connection(repository, connection_id)
    existing = unseal(vault, row.webhook_secrets)
    kept = drop_previous(existing)
    if existing:
        row.webhook_secrets = seal(vault, kept)
    await repository.audit(
        "connection.webhook_secret.revoke_previous",
        entity=row,
        data={"revoked": [item.id for item in existing[len(kept) :]]},
    )
    return WebhookSecretsPublic(
        webhook_url=_webhook_url(settings, row), items=[WebhookSecretPublic.of(item) for item in _live(kept)]
    )
