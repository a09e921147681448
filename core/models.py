"""SQLAlchemy 2 models: the tables the migrations create. A drift test keeps the two equal.

Every tenant-owned table carries `tenant_id`; children reference their parents by `(tenant_id, id)` so a row can
never point at another tenant's row, and row-level security (see the first migration) filters every query again.
"""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.constants import DOCUMENT_TYPE_PATTERN

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB, uuid.UUID: UUID(as_uuid=True)}  # noqa: RUF012


def _values_check(column: str, values: type[StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{member.value}'" for member in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_allowed")


def _tenant_fk(columns: tuple[str, str], parent: str, *, ondelete: str = "CASCADE") -> ForeignKeyConstraint:
    """A reference that also pins the tenant: the parent must belong to the same tenant as the child."""
    return ForeignKeyConstraint(list(columns), [f"{parent}.tenant_id", f"{parent}.id"], ondelete=ondelete)


class ApiKeyRole(StrEnum):
    ADMIN = "admin"
    SUPPORT = "support"


class ConnectionRole(StrEnum):
    SOURCE = "source"
    DESTINATION = "destination"


class ConnectionStatus(StrEnum):
    ACTIVE = "active"
    NEEDS_REAUTH = "needs_reauth"
    DISABLED = "disabled"


class ExportState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    NEEDS_ACTION = "needs_action"
    SKIPPED = "skipped"


class AttemptOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    ADOPTED = "adopted"
    FAILED = "failed"
    OUTCOME_UNKNOWN = "outcome_unknown"


class RunState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class WebhookState(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class IdempotencyState(StrEnum):
    IN_FLIGHT = "in_flight"
    COMPLETED = "completed"


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), onupdate=func.now())


def _id() -> Mapped[uuid.UUID]:
    return mapped_column(primary_key=True, default=uuid.uuid4, server_default=text("gen_random_uuid()"))


def _tenant_id() -> Mapped[uuid.UUID]:
    return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = _id()
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ApiKey(Base):
    """Only a hash is stored; the key is shown once. `prefix` finds the row without scanning hashes."""

    __tablename__ = "api_keys"
    __table_args__ = (
        _values_check("role", ApiKeyRole),
        CheckConstraint("(role = 'support') = (tenant_id IS NULL)", name="support_keys_span_tenants"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """None: the key lives until revoked."""


class DashboardSession(Base):
    """A signed-in dashboard browser. Only the SHA-256 of its token is kept; role and tenant are read from the key on
    every request. The service reaches this table only through the functions of migration 0011."""

    __tablename__ = "dashboard_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    api_key_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class Connection(Base):
    """A tenant's link to one external system. `credentials` is vault ciphertext, never plaintext."""

    __tablename__ = "connections"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "name"),
        _values_check("role", ConnectionRole),
        _values_check("status", ConnectionStatus),
        CheckConstraint("sync_interval_minutes > 0", name="sync_interval_positive"),
        Index(
            "ix_connections_oauth_grant", "tenant_id", "oauth_grant", postgresql_where=text("oauth_grant IS NOT NULL")
        ),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    name: Mapped[str] = mapped_column(String(200))
    provider: Mapped[str] = mapped_column(String(32), index=True)
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), server_default=ConnectionStatus.ACTIVE.value)
    status_reason: Mapped[str | None] = mapped_column(Text)
    credentials: Mapped[bytes | None] = mapped_column(LargeBinary)
    oauth_grant: Mapped[uuid.UUID | None] = mapped_column()
    """The consent whose tokens this connection holds, shared with the other connections it covers (one consent, several
    organisations): they refresh together (`connectors.token_store`). NULL: tokens of its own, or none."""
    settings: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    webhook_key: Mapped[str] = mapped_column(String(64), unique=True)
    webhook_secrets: Mapped[bytes | None] = mapped_column(LargeBinary)
    """Vault ciphertext of the webhook signing secrets (`sync.webhook_secrets`): the newest, and older ones in grace."""
    paused: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    sync_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    """A destination with an interval gets a scheduled sync run that often; NULL runs only on demand or webhook."""
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class DestinationAttribute(Base):
    """A dimension value imported from the destination (account, vendor, project, …)."""

    __tablename__ = "destination_attributes"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("connection_id", "attribute_type", "remote_id"),
        _tenant_fk(("tenant_id", "connection_id"), "connections"),
        Index(None, "connection_id", "attribute_type", "active"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    connection_id: Mapped[uuid.UUID] = mapped_column()
    attribute_type: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    code: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    detail: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    remote_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class SourceRecord(Base):
    """An expense, report or employee as last pulled from the source."""

    __tablename__ = "source_records"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("connection_id", "kind", "remote_id"),
        _tenant_fk(("tenant_id", "connection_id"), "connections"),
        Index(None, "connection_id", "kind", "parent_remote_id"),
        # The retry dashboard finds items by expense or report id, across connections (and tenants, for support).
        Index(None, "remote_id"),
        Index(None, "parent_remote_id"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    connection_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))
    remote_id: Mapped[str] = mapped_column(String(255))
    parent_remote_id: Mapped[str | None] = mapped_column(String(255))
    remote_state: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(String(64))
    changed_after_export: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    skip_reason: Mapped[str | None] = mapped_column(Text)
    """Why the last grouping left this expense out (a skip rule, a state that is not exportable); NULL if grouped."""
    remote_updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ExportItem(Base):
    """One destination document to create, exactly once. The unit of work of the export engine."""

    __tablename__ = "export_items"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "idempotency_key"),
        _tenant_fk(("tenant_id", "destination_connection_id"), "connections"),
        _values_check("state", ExportState),
        # A shape, not a list: the kinds are the connectors' (`core.domain.DocumentKind`), and a new one needs no
        # migration.
        CheckConstraint(f"document_type ~ '{DOCUMENT_TYPE_PATTERN}'", name="document_type_shape"),
        CheckConstraint("attempt_count >= 0", name="attempt_count_not_negative"),
        CheckConstraint("send_generation >= 0", name="send_generation_not_negative"),
        # One destination document is recorded by at most one item: a second record would be a duplicate. Documents
        # are numbered per kind (Intacct's bill 1 and card transaction 1 are two documents).
        Index(
            "uq_export_items_remote_document_kind",
            "destination_connection_id",
            "document_type",
            "remote_id",
            unique=True,
            postgresql_where=text("remote_id IS NOT NULL"),
        ),
        Index("ix_export_items_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
        Index("ix_export_items_tenant_state_updated", "tenant_id", "state", "updated_at"),
        Index("ix_export_items_provider_state_updated", "destination_provider", "state", "updated_at"),
        Index("ix_export_items_error_class_updated", "error_class", "updated_at"),
        Index("ix_export_items_updated_at", "updated_at"),
        Index("ix_export_items_lease_expiry", "lease_expires_at", postgresql_where=text("state = 'running'")),
        Index(
            "ix_export_items_write_back_due",
            "tenant_id",
            "destination_connection_id",
            postgresql_where=text(
                "state IN ('succeeded', 'needs_action', 'skipped') AND status_written_back_at IS NULL"
            ),
        ),
        Index(
            "ix_export_items_unpaid",
            "tenant_id",
            "destination_connection_id",
            postgresql_where=text("state = 'succeeded' AND paid_at IS NULL"),
        ),
        # Saving a mapping finds the items waiting on it by containment (`missing_mappings @> …`).
        Index(
            "ix_export_items_missing_mappings",
            "missing_mappings",
            postgresql_using="gin",
            postgresql_where=text("missing_mappings IS NOT NULL"),
        ),
        # The retry dashboard (`sync.item_queries`): lists and counts across tenants, lookups by document reference,
        # words of error messages (narrowed through `ledgerline_export_item_ids_with_words`: row-level security keeps
        # a non-leakproof `@@` from using an index in the service's own queries), and bulk replays in id order.
        Index("ix_export_items_state_updated", "state", "updated_at", "id"),
        Index(
            "ix_export_items_state_class_provider_updated",
            "state",
            "error_class",
            "destination_provider",
            "updated_at",
            "id",
            postgresql_include=["tenant_id"],
        ),
        Index("ix_export_items_state_created", "state", "created_at", "id"),
        Index(
            "ix_export_items_state_facets",
            "state",
            "error_class",
            "id",
            postgresql_include=["destination_provider", "tenant_id"],
        ),
        Index("ix_export_items_idempotency_key", "idempotency_key"),
        Index("ix_export_items_remote_id", "remote_id", postgresql_where=text("remote_id IS NOT NULL")),
        Index("ix_export_items_needs_action", "tenant_id", "id", postgresql_where=text("state = 'needs_action'")),
        Index(
            "ix_export_items_error_words",
            text("to_tsvector('simple'::regconfig, error_message)"),
            postgresql_using="gin",
            postgresql_where=text("error_message IS NOT NULL"),
        ),
        # A tenant's word search: each word keyed by its tenant (migration 0012), so the search walks only its own.
        Index(
            "ix_export_items_tenant_error_words",
            text("ledgerline_tenant_words(tenant_id, error_message)"),
            postgresql_using="gin",
            postgresql_where=text("error_message IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    destination_connection_id: Mapped[uuid.UUID] = mapped_column()
    destination_provider: Mapped[str] = mapped_column(String(32))
    document_type: Mapped[str] = mapped_column(String(32))
    group_key: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), server_default=ExportState.PENDING.value)
    attempt_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome_unknown: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_hint: Mapped[str | None] = mapped_column(Text)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    missing_mappings: Mapped[list[Any] | None] = mapped_column(JSONB)
    """While `needs_action` for want of mappings: `[{source_type, source_value, destination_type}, …]`."""
    document: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The document as first sent (`core.document_codec`), stored before the first request that may reach the
    destination; every resend sends exactly this. NULL while the item was never sent."""
    send_generation: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """The generation of the document last written down for sending: a document built afresh gets a new one, and a
    resend while the previous send is unknown keeps it. A destination whose idempotency token is per request
    (Intacct's control id) derives it from its documents' keys and generations (`docs/idempotency.md`)."""
    request_key: Mapped[str | None] = mapped_column(String(64))
    """The idempotency token of the request the document last went out in (`DestinationConnector.request_keys`),
    written down with it: an unsettled document is resent under it, so a request still in flight is refused."""
    payment_generation: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """`send_generation` of the payment recorded for this item in the destination (`sync.source_payments`)."""
    document_drift: Mapped[str | None] = mapped_column(Text)
    """Set when the settings or mappings would now build a different document than the one first sent (which is
    what is resent); NULL otherwise."""
    redated_to: Mapped[date | None] = mapped_column(Date)
    """The day the document last built for this item was moved to, its own day being in a period the destination
    had closed (`post_closed_period_to_first_open_day`); NULL when it went out on its own day."""
    remote_id: Mapped[str | None] = mapped_column(String(255))
    remote_url: Mapped[str | None] = mapped_column(Text)
    status_written_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the source last learned this item's outcome; NULL while the write-back is owed."""
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the destination document was first seen paid."""
    paid_written_back_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the source was told it is paid; NULL while owed."""
    replayed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When a person last replayed the item (alone or in a bulk replay); NULL if never."""
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    @property
    def retry_window_start(self) -> datetime:
        """Where transient retries are counted from: a replay gives the item a fresh window, or an item older than the
        window would go straight back to `needs_action` on its first transient error after the replay."""
        return self.replayed_at or self.created_at


class ExportItemCount(Base):
    """How many export items each tenant's connection holds per state and error class, for the dashboard's counts.

    Rows are deltas (+n, -n) appended by statement triggers on `export_items` in the writing transaction itself
    (migration 0016), so a count is exact wherever that change is visible and writers never wait on each other for a
    shared counter row; every few thousand deltas one writer folds each key's rows into one. A count is the sum of a
    key's rows. Derived data: no foreign keys, and `ledgerline_rebuild_export_item_counts()` recomputes it."""

    __tablename__ = "export_item_counts"
    __table_args__ = (Index(None, "tenant_id", "state"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=True), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column()
    destination_connection_id: Mapped[uuid.UUID] = mapped_column()
    destination_provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    error_class: Mapped[str | None] = mapped_column(String(32))
    items: Mapped[int] = mapped_column(BigInteger)


class ExportItemRecord(Base):
    """Which source records an item exports. A record is linked to at most one live (unreleased) item."""

    __tablename__ = "export_item_records"
    __table_args__ = (
        PrimaryKeyConstraint("export_item_id", "source_record_id"),
        _tenant_fk(("tenant_id", "export_item_id"), "export_items"),
        _tenant_fk(("tenant_id", "source_record_id"), "source_records"),
        Index(
            "uq_export_item_records_live_record",
            "source_record_id",
            unique=True,
            postgresql_where=text("released_at IS NULL"),
        ),
        Index(None, "source_record_id"),
    )

    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    export_item_id: Mapped[uuid.UUID] = mapped_column()
    source_record_id: Mapped[uuid.UUID] = mapped_column()
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()


class Attempt(Base):
    """One try at pushing an item, with redacted excerpts for the dashboard's timeline."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("export_item_id", "number"),
        _tenant_fk(("tenant_id", "export_item_id"), "export_items"),
        _values_check("outcome", AttemptOutcome),
        # Failures per hour for the dashboard's chart, counted from the index alone.
        Index(
            "ix_attempts_failed_finished",
            "finished_at",
            postgresql_include=["tenant_id"],
            postgresql_where=text("outcome IN ('failed', 'outcome_unknown')"),
        ),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    export_item_id: Mapped[uuid.UUID] = mapped_column()
    number: Mapped[int] = mapped_column(Integer)
    worker: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[str | None] = mapped_column(String(16))
    error_class: Mapped[str | None] = mapped_column(String(32))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    request_excerpt: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    response_excerpt: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncRun(Base):
    """One import, pull, export, payment or replay run of a connection, with its counts and log lines."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        _tenant_fk(("tenant_id", "connection_id"), "connections"),
        _values_check("state", RunState),
        Index("ix_sync_runs_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
        Index("ix_sync_runs_lease_expiry", "lease_expires_at", postgresql_where=text("state = 'running'")),
        Index(None, "connection_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    connection_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(32))
    trigger: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), server_default=RunState.PENDING.value)
    phase: Mapped[str | None] = mapped_column(String(32))
    """The step a run is at (import, pull, export, write_back, payments); a resumed run carries on from it."""
    counts: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    log: Mapped[list[Any]] = mapped_column(server_default=text("'[]'::jsonb"))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _updated_at()


class Replay(Base):
    """A bulk replay: every `needs_action` item matching `filter` goes back to `pending`, in batches, resumably.

    A unit of work like a sync run (state, lease, `next_attempt_at`). `cursor` is the last item id handled: items are
    visited once in id order, so an item that fails again after its replay is not replayed a second time, and a
    resumed job carries on after the last committed batch. `tenant_id` NULL: support staff's replay across tenants.
    """

    __tablename__ = "replays"
    __table_args__ = (
        _values_check("state", RunState),
        CheckConstraint("total >= 0 AND done >= 0 AND failed >= 0", name="counts_not_negative"),
        Index("ix_replays_due", "next_attempt_at", postgresql_where=text("state = 'pending'")),
        Index("ix_replays_lease_expiry", "lease_expires_at", postgresql_where=text("state = 'running'")),
        Index(None, "tenant_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    filter: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), server_default=RunState.PENDING.value)
    total: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    """Items matching the filter when the replay was requested."""
    done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failed: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    cursor: Mapped[uuid.UUID | None] = mapped_column()
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    requested_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _updated_at()


class StreamCursor(Base):
    """Where the last incremental read of one stream of one connection stopped."""

    __tablename__ = "stream_cursors"
    __table_args__ = (
        PrimaryKeyConstraint("connection_id", "stream"),
        _tenant_fk(("tenant_id", "connection_id"), "connections"),
    )

    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    connection_id: Mapped[uuid.UUID] = mapped_column()
    stream: Mapped[str] = mapped_column(String(64))
    cursor: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = _updated_at()


class WebhookEvent(Base):
    """An inbound event, stored before it is acknowledged. The sender's id deduplicates redeliveries."""

    __tablename__ = "webhook_events"
    __table_args__ = (
        UniqueConstraint("provider", "connection_id", "event_id"),
        _tenant_fk(("tenant_id", "connection_id"), "connections"),
        _values_check("state", WebhookState),
        Index(None, "tenant_id", "state", "received_at"),
        Index("ix_webhook_events_due", "next_attempt_at", postgresql_where=text("state = 'received'")),
        Index("ix_webhook_events_inbox", "connection_id", postgresql_where=text("state = 'received'")),
        Index("ix_webhook_events_lease_expiry", "lease_expires_at", postgresql_where=text("state = 'received'")),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    connection_id: Mapped[uuid.UUID] = mapped_column()
    provider: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    event_type: Mapped[str | None] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(16), server_default=WebhookState.RECEIVED.value)
    error_message: Mapped[str | None] = mapped_column(Text)
    attempt_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Mapping(Base):
    """A source value (category "Travel") mapped to a destination attribute (account 6000)."""

    __tablename__ = "mappings"
    __table_args__ = (
        UniqueConstraint("destination_connection_id", "source_type", "source_value", "destination_type"),
        _tenant_fk(("tenant_id", "destination_connection_id"), "connections"),
        _tenant_fk(("tenant_id", "destination_attribute_id"), "destination_attributes"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    destination_connection_id: Mapped[uuid.UUID] = mapped_column()
    source_type: Mapped[str] = mapped_column(String(64))
    source_value: Mapped[str] = mapped_column(Text)
    destination_type: Mapped[str] = mapped_column(String(64))
    destination_attribute_id: Mapped[uuid.UUID] = mapped_column()
    updated_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class ExportSettingsVersion(Base):
    """One saved version of a tenant's export settings for one destination. Saving never overwrites: it adds."""

    __tablename__ = "export_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        UniqueConstraint("tenant_id", "destination_connection_id", "version"),
        _tenant_fk(("tenant_id", "destination_connection_id"), "connections"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[uuid.UUID] = _id()
    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    destination_connection_id: Mapped[uuid.UUID] = mapped_column()
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()


class AuditEvent(Base):
    """Append-only and hash-chained per tenant (`chain`): each row's hash covers its content and the previous hash."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("chain", "seq"),
        Index(None, "tenant_id", "created_at"),
        Index(None, "entity_type", "entity_id"),
        CheckConstraint("seq >= 1", name="seq_positive"),
    )

    id: Mapped[uuid.UUID] = _id()
    chain: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(BigInteger)
    tenant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tenants.id", ondelete="RESTRICT"))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(255))
    data: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'::jsonb"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class ApiIdempotencyKey(Base):
    """A POST's `Idempotency-Key`, with the first response, kept for a day per tenant."""

    __tablename__ = "api_idempotency_keys"
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "key"),
        _values_check("state", IdempotencyState),
        Index(None, "expires_at"),
    )

    tenant_id: Mapped[uuid.UUID] = _tenant_id()
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_headers: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    locked_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


TENANT_SCOPED_TABLES: tuple[str, ...] = (
    "api_keys",
    "connections",
    "destination_attributes",
    "source_records",
    "export_items",
    "export_item_counts",
    "export_item_records",
    "attempts",
    "sync_runs",
    "stream_cursors",
    "webhook_events",
    "mappings",
    "export_settings",
    "audit_events",
    "api_idempotency_keys",
    "replays",
)
"""Tables whose rows belong to one tenant; each gets the row-level security policy. `tenants` gets its own."""

ENCRYPTED_COLUMNS: tuple[tuple[type[Base], str], ...] = ((Connection, "credentials"), (Connection, "webhook_secrets"))
"""Vault ciphertext columns; `ledgerline vault rotate` re-encrypts each of them."""
