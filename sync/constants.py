"""Queue key names, TTLs and intervals of the sync package."""

from typing import Final

WORKER_HEARTBEAT_KEY: Final = "{queue_name}:worker:{worker_id}"
"""Per queue, so deployments (and test runs) sharing one Redis count only their own workers."""
WORKER_HEARTBEAT_TTL_SECONDS: Final = 30
WORKER_HEARTBEAT_EVERY_SECONDS: Final = 10
JOB_TIMEOUT_SECONDS: Final = 300
MAX_CONCURRENT_JOBS: Final = 20
LEASE_SECONDS: Final = 120
"""How long a claimed item belongs to its worker; a worker that dies loses it to the reconciler after this."""
CLAIM_BATCH: Final = 50
RECONCILE_EVERY_SECONDS: Final = 15
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
