"""Queue key names, TTLs and intervals of the sync package."""

from typing import Final

WORKER_HEARTBEAT_KEY: Final = "{queue_name}:worker:{worker_id}"
"""Per queue, so deployments (and test runs) sharing one Redis count only their own workers."""
WORKER_HEARTBEAT_TTL_SECONDS: Final = 30
WORKER_HEARTBEAT_EVERY_SECONDS: Final = 10
JOB_TIMEOUT_SECONDS: Final = 300
MAX_CONCURRENT_JOBS: Final = 20
CONNECTOR_STATE: Final = "connector_state"
"""The worker context's key of what its connectors share for the worker's lifetime (`ConnectorContext.shared`)."""
QUEUE_POLL_SECONDS: Final = 0.05
"""How often an idle worker asks Redis for due jobs (arq's default is 0.5 s): a continuation or a run's next look
waits at most this long. One cheap sorted-set read per poll."""
LEASE_SECONDS: Final = 120
"""How long a claimed item belongs to its worker; a worker that dies loses it to the reconciler after this."""
CLAIM_BATCH: Final = 50
CLAIMED_CALLS: Final = 4
"""At most this many of the destination's calls are claimed at once (`export_engine.whole_batches`)."""
RECONCILE_EVERY_SECONDS: Final = 15
AUDIT_ANCHOR_EVERY_MINUTES: Final = 10
"""How often a worker records every audit chain's head in the system chain: rows cut from a chain's end after an
anchor show in `ledgerline audit verify`."""
AUDIT_ANCHOR_ACTOR: Final = "ledgerline-worker"
BACKOFF_BASE_SECONDS: Final = 30.0
BACKOFF_CAP_SECONDS: Final = 4 * 3600.0
RETRY_WINDOW_SECONDS: Final = 24 * 3600.0
"""Transient failures are retried for about a day after the first attempt, then need a person."""

# Rate budgets (sync/rate_budget.py), one per destination connection, shared by every worker through Redis.
BUDGET_KEY: Final = "ledgerline:budget:{{{connection_id}}}:{part}"
"""`ledgerline:budget:{<id>}:pace` and its siblings. The braces are a Redis Cluster hash tag: one script touches
every key of a connection, so they must share a slot."""
RATE_WINDOW_SECONDS: Final = 60.0
RATE_WINDOW_GUARD_SECONDS: Final = 1.0
"""Calls are spread as if a minute lasted this much longer, so network jitter short of it cannot bunch N + 1 calls
into the system's rolling minute. Costs 1/61 of the rate."""
RATE_UNSPENT_CALLS: Final = 1
"""Calls of each minute's allowance left unspent. A rolling minute paced at its limit holds all N calls at the N-th,
and its remaining-quota header then says 0 — which the budget must read as 'none until the window ends' (a fixed
window's meaning), a minute lost; one call short, the header never reaches 0 from our own pace."""
DAY_WINDOW_SECONDS: Final = 24 * 3600
DAY_BUCKET_SECONDS: Final = 3600
"""Granularity of the daily count: the cap holds over any rolling day and may bite up to this much early."""
SLOT_LEASE_SECONDS: Final = 140.0
"""Twice a call's longest life (connectors' 10 s connect + 60 s read timeouts), so a slot outlives any call holding
it; a worker killed mid-call loses its slot after this."""
SLOT_RETRY_SECONDS: Final = 0.05
"""How soon to ask again when every slot is taken (a release cannot be predicted)."""
BUDGET_MAX_WAIT_SECONDS: Final = 30.0
"""`RateBudget.slot()` waits this long at most, then raises `RateLimited` so the item is deferred instead of a worker
being held hostage by one connection."""
BUDGET_IDLE_TTL_SECONDS: Final = 60
"""Keys of a connection outlive the last moment they matter by this much, then vanish."""

# Circuit breakers (sync/circuit.py), one per destination connection.
CIRCUIT_KEY: Final = "ledgerline:circuit:{connection_id}"
CIRCUIT_FAILURE_THRESHOLD: Final = 5
"""Consecutive transient failures that open the circuit."""
CIRCUIT_COOLDOWN_SECONDS: Final = 30.0
CIRCUIT_COOLDOWN_FACTOR: Final = 2.0
"""Each failed probe multiplies the cool-down by this, up to the maximum."""
CIRCUIT_MAX_COOLDOWN_SECONDS: Final = 15 * 60.0
CIRCUIT_PROBE_LEASE_SECONDS: Final = SLOT_LEASE_SECONDS
"""A probe whose worker died without reporting is given up after this, and another probe may go."""
CIRCUIT_MEMORY_SECONDS: Final = 3600
"""Failures and the escalated cool-down are forgotten after this long without news."""
RECONCILE_BATCH: Final = 1000
BATCHES_PER_EXPORT_JOB: Final = 4
"""Batches one export job runs before handing over to the back of the queue (fairness between tenants)."""
WRITE_BACK_BATCH: Final = 200
"""Items whose statuses go to the source in one pass (the connector cuts them into its own request sizes)."""

# Sync runs (sync/runs.py, sync/run_job.py): one row per requested run, worked in steps like any other unit of work.
RUN_JOB: Final = "run_sync"
RUN_LEASE_SECONDS: Final = 120
"""A step holds its run this long at most (steps stop after RUN_STEP_SECONDS); a dead worker's run is resumed."""
RUN_STEP_SECONDS: Final = 60.0
"""A step works phases for this long, then hands over to the back of the queue, within arq's job timeout."""
RUN_POLL_SECONDS: Final = 0.25
"""How often a run waiting on its export items looks again."""
RUN_MAX_FAILURES: Final = 5
"""Transient failures of one run before it is marked failed (each retried with backoff)."""
RUN_LOG_LINES: Final = 200
"""Log lines kept per run; older ones are dropped first."""
SCHEDULE_BATCH: Final = 200

# Dimension import (sync/import_engine.py).
DIMENSION_STREAM: Final = "dimensions:{attribute_type}"
"""The `stream_cursors` row holding the destination's last modified time seen for one dimension type."""
DIMENSION_FULL_STREAM: Final = "dimensions:{attribute_type}:full"
"""The `stream_cursors` row holding when the last full pass of one dimension type finished (ISO 8601, UTC)."""
IMPORT_PAGE_ROWS: Final = 500
"""Dimension values upserted per transaction."""
FULL_IMPORT_EVERY_SECONDS: Final = 24 * 3600
"""Incremental reads cannot see deletions; a full pass this often marks what disappeared as inactive."""
AUDIT_DIMENSIONS_IMPORTED: Final = "dimensions.import"
DIMENSION_PUSHED_STREAM: Final = "dimensions:{attribute_type}:pushed"
"""The `stream_cursors` row holding the latest `updated_at` of the values of one type already mirrored to the
source, so the next push sends only what changed since."""

# Payment sync (sync/payment_engine.py).
PAYMENT_WRITE_BACK_BATCH: Final = 200
"""Paid items whose reports are settled with the source in one pass."""
AUDIT_ITEM_PAID: Final = "export_item.paid"
AUDIT_ITEM_PAID_WRITTEN_BACK: Final = "export_item.paid_written_back"
BUDGET_REFUSAL_CODE: Final = "rate_budget"
"""`RateLimited.code` when our own budget, not the system, refused a call: nothing to learn from it."""
HTTP_TOO_MANY_REQUESTS: Final = 429
UNSAID_RETRY_AFTER_SECONDS: Final = 5.0
"""How long a 429 that names no retry moment defers the connection."""
REMAINING_WINDOW_SECONDS: Final = RATE_WINDOW_SECONDS
"""The window a remaining-quota header speaks of. Specs do not say (yet); the systems we know report per minute."""
DAY_REMAINING_WINDOW_SECONDS: Final = DAY_BUCKET_SECONDS
"""How long a system's report of the day's remaining calls is trusted without a newer one (every answer renews it)."""
EXPORT_DAY_RESERVE_SHARE: Final = 0.2
"""The share of a connection's daily allowance exports leave to imports, payment checks and lookups, so a backlog
never spends a day's calls alone."""
RATE_LIMIT_SETTING: Final = "rate_limit"
"""The connection setting whose `per_minute` / `per_day` / `concurrency` replace the spec's (Intacct's limits
depend on the customer's performance tier)."""

# Pull engine (sync/pull_engine.py): source records in, incrementally by stream cursor.
PULL_EXPENSE_STREAM: Final = "expenses"
"""The source stream (and `stream_cursors.stream`) expenses are pulled from."""
PULL_PAGE_ROWS: Final = 500
"""Source records written per transaction, together with the cursor: a crash re-reads at most this many."""
PULL_LOCK_NAMESPACE: Final = 7_130_011
"""Advisory-lock namespace serialising the page transactions of pulls of one connection and stream."""
AUDIT_CHANGED_AFTER_EXPORT: Final = "source_record.changed_after_export"
"""A source record changed after the item exporting it was sent (or may have been): flagged for a person."""
LIFECYCLE_FIELDS: Final = frozenset({"updated_at", "state", "report_state", "approved_at"})
"""Expense fields that move as an exported expense goes on through its life (approved → paid). A change in them
alone flags nothing while the expense stays exportable under its destination's settings."""
UNREADABLE_DATA_KEY: Final = "unreadable"
"""`source_records.data` of a record the source connector could not translate: `{"unreadable": why, "source": raw}`.
`expense_from_json` refuses that shape, so such a record is never grouped, and the raw object is kept for a person."""
UNREADABLE_SOURCE_KEY: Final = "source"

# Export chains (sync/export_chains.py): how many export jobs may work one destination connection at once.
EXPORT_CHAIN_KEY: Final = "ledgerline:export-chain:{{{connection_id}}}:{slot}"
DEFAULT_EXPORT_CHAINS: Final = 2
"""For systems whose spec states no concurrency limit."""
EXPORT_CONTINUE_AFTER_FAILURE_SECONDS: Final = 1.0
"""A job that failed on a lost database connection hands its chain on this soon, instead of leaving the connection
to the next reconcile period."""
GENERIC_SENDER: Final = "generic"
"""Not a connector: any system that signs Standard Webhooks to start runs (so a source, never a destination)."""
TRIGGER_SETTING: Final = "trigger"
"""A generic connection setting: `{"connection_id": <destination id>, "kind": <run kind>}`, the run its events start."""
REALTIME_EXPORT_SETTING: Final = "realtime_export"
"""A destination connection setting: `true` makes an approved report's webhook start a run that pulls *and*
exports (`RunKind.REALTIME`) instead of a pull run only."""
PUSH_DIMENSIONS_SETTING: Final = "push_dimensions"
"""A destination connection setting: which imported types a sync run mirrors into the source, e.g.
`{"project": "projects", "department": "cost_centers"}` for Fyle. Absent: nothing is pushed."""
DIMENSION_TYPE_NAME_MAX_LENGTH: Final = 100
"""The longest dimension type name `push_dimensions` accepts, on either side of the mapping."""

# Receipts (sync/receipts.py): the source's files fetched into each document between build and push.
RECEIPT_FETCH_CONCURRENCY: Final = 4
"""Files one export job downloads at once, across its source connections: enough to hide latency, few enough not
to crowd a tenant's source (Fyle publishes no quota) or to hold many files in memory."""
RECEIPT_MAX_BYTES: Final = 10 * 1024 * 1024
"""Largest receipt attached. Neither Sage Intacct's spec nor its simulator states a supporting-document limit; this
is Fyle's own upload limit, so a larger file is an anomaly and is left out (and noted) rather than sent."""
RECEIPT_DOCUMENT_MAX_BYTES: Final = 25 * 1024 * 1024
"""Receipts carried by one document. Bounds one push request (base64 adds a third) and a chunk's memory; receipts
past it, in the document's order, are left out and noted."""
RECEIPTS_MISSING_NOTE: Final = "Receipts not attached: {files}."
"""Appended to the memo of a document exported without some of its receipts, so the books say so."""
RECEIPT_NOTE_SEPARATOR: Final = " | "
AUDIT_RECEIPTS_MISSING: Final = "export_item.receipts_missing"
"""An item's document was prepared without receipts its source could not provide."""
CODE_RECEIPT_SOURCE_AUTH: Final = "receipt_source_auth"
"""A receipt could not be fetched because the source refused our credentials: the item retries with backoff."""
CODE_RECEIPT_UNREADABLE: Final = "receipt_unreadable_answer"

# Retry dashboard (sync/item_queries.py) and replays (sync/replay.py).
ITEM_MESSAGE_EXCERPT_CHARS: Final = 240
"""How much of an item's error message a list row carries; the detail view has all of it."""
ITEM_WORD_SEARCH_MAX_MATCHES: Final = 1_000
"""A word search of error messages matching at most this many items is narrowed to them through the words' index; a
broader one is checked row by row along the list's order, and its total is counted up to this many ("more than")."""
ITEM_WORD_SEARCH_MAX_TERMS: Final = 8
"""Distinct words of a search that are matched (the first ones); each is a prefix term walking the shared index."""
ITEM_DETAIL_AUDIT_EVENTS: Final = 200
"""Audit events shown with one item, newest last."""
FAILURE_OUTCOMES: Final = ("failed", "outcome_unknown")
"""Attempt outcomes counted as failures in the dashboard's chart."""
REPLAY_JOB: Final = "replay_items"
REPLAY_BATCH: Final = 500
"""Items moved back to `pending` per transaction of a bulk replay."""
REPLAY_LEASE_SECONDS: Final = 120
"""A replay step holds its replay this long at most (steps stop after REPLAY_STEP_SECONDS); a dead worker's replay
is resumed by the reconciler after it."""
REPLAY_STEP_SECONDS: Final = 60.0
"""A replay step works batches this long, then hands over to the back of the queue, within arq's job timeout."""
REPLAY_RECONCILE_BATCH: Final = 200
AUDIT_REPLAY_REQUESTED: Final = "replay.requested"
AUDIT_REPLAY_FINISHED: Final = "replay.finished"
EXPORT_AGAIN_REASON: Final = "export again as a new document"
"""The `reason` of the audited needs_action → pending move that gives an item a new key (`sync.export_again`)."""
DUPLICATE_RISK: Final = (
    "the earlier document may still exist in the destination (for example if it was deleted and recreated there, "
    "or the connection now points at another company or entity), and exporting again under a new key can create "
    "a second one."
)
"""What a person confirms before exporting an item again; shown by the API and the dashboard, kept in the audit."""

# Payments the source made (sync/source_payments.py), recorded in the destination when its connection opts in.
RECORD_SOURCE_PAYMENTS_SETTING: Final = "record_source_payments"
"""A destination connection setting, `{"account": "<bank account id>", "payment_method": "<method>"}` (the method
may be left out: the connector's default). Absent: the destination is only read for payments, never written."""
REIMBURSED_SOURCE_STATES: Final = ("PAYMENT_PROCESSING", "PAID")
"""Source expense states (`source_records.remote_state`, Fyle's names) meaning the employee has been reimbursed."""
SOURCE_PAYMENT_REFERENCE: Final = "{idempotency_key}-paid"
"""An item's payment reference: its idempotency key in the destination, so a payment is recorded at most once."""
AUDIT_ITEM_SOURCE_PAYMENT_RECORDED: Final = "export_item.source_payment_recorded"

LEASE_OWNER_WORKER_CHARS: Final = 90
"""How much of the worker's id a claim token keeps (`lease_owner` holds 128 characters; the claim adds 33)."""
LEASE_RENEWALS_PER_LEASE: Final = 3
"""A batch in flight renews its lease this many times per lease period, so one slow renewal does not lose it."""
LEASE_LOST_CODE: Final = "lease_lost"
"""The error code of an item whose claim was lost before it was sent."""
WAITING_REASONS_KEPT: Final = 100
"""Reports whose reason for not being marked paid a payment run keeps in its report (the rest are counted only)."""

# Webhook signing secrets of a connection (`sync.webhook_secrets`)
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
SECRET_BYTES: Final = 32
SECRET_ID_PREFIX: Final = "whs_"  # noqa: S105 - a prefix, not a secret
SECRET_ID_BYTES: Final = 8
SECRET_GRACE_SECONDS: Final = 24 * 3600
"""After a rotation the previous secrets stay valid this long, so senders can switch without losing a delivery."""
MAX_SECRETS_PER_CONNECTION: Final = 5
"""Rotating again and again keeps at most this many (the newest); older ones are dropped at once."""
ENTITY_UNREACHABLE_CODE: Final = "entity_unreachable"
"""The error code of documents routed to an entity the connection's login cannot reach."""
