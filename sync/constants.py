"""Queue key names, TTLs and intervals of the sync package."""

from typing import Final

WORKER_HEARTBEAT_KEY: Final = "{queue_name}:worker:{worker_id}"
"""Per queue, so deployments (and test runs) sharing one Redis count only their own workers."""
WORKER_HEARTBEAT_TTL_SECONDS: Final = 30
WORKER_HEARTBEAT_EVERY_SECONDS: Final = 10
JOB_TIMEOUT_SECONDS: Final = 300
MAX_CONCURRENT_JOBS: Final = 20
