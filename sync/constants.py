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
EXPORT_JOB_ID: Final = "export:{connection_id}:{slot}"
