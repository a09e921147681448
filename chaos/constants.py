"""Sizes, paces and limits of the chaos run, in one place."""

from typing import Final

SANDBOX_APP: Final = "bench.e2e_sandbox:app"
"""Every simulator, default seed, no latency, a request log long enough for a whole scenario."""
WORKERS: Final = 2
WORKER_ENV: Final = {
    "LEDGERLINE_EXPORT_LEASE_SECONDS": "3",
    "LEDGERLINE_EXPORT_RETRY_BASE_SECONDS": "0.5",
}
"""A killed worker's items come back within seconds and retries after a fault start soon, so a scenario measures
recovery in seconds rather than the production defaults' minutes (120 s lease, 30 s first retry)."""
WORKER_START_SECONDS: Final = 60.0
POLL_SECONDS: Final = 0.25
RECOVERY_DEADLINE_SECONDS: Final = 240.0
"""After the fault ends, everything must be done within this; longer counts as a failure (and shows as missing)."""
STOP_SECONDS: Final = 60
CONTROL_TIMEOUT_SECONDS: Final = 120.0

EXPENSES: Final = 2000
"""Expenses generated in the Fyle simulator per scenario, one report each (approved; about two thirds are
reimbursable, hence exportable; the seed adds some), so the export lasts long enough for a fault to land in it."""
MEMO_LINE: Final = "{expense_id}"
"""Every bill line names its expense, so the counters read which expense is in which document from Intacct alone."""

# Worker SIGKILL loop (tests/sync/test_crash_safety.py at run size)
KILLS: Final = 15
KILL_GAP_SECONDS: Final = (0.5, 1.5)
COMMIT_THEN_FAIL_PROBABILITY: Final = 0.05
KILL_SEED: Final = 20261121

# PostgreSQL
BLIPS: Final = 6
BLIP_AIM_SECONDS: Final = 2.0
"""A blip waits this long at most for a worker backend inside a transaction, then strikes anyway."""
WORKER_APPLICATION_NAME: Final = "ledgerline-chaos-{run}"
PG_RESTART_TIMEOUT_SECONDS: Final = 120

# Simulator faults
FAULT_SECONDS: Final = 4.0
"""How long each simulator fault stays switched on, from the moment the run is requested."""
FAULT_PROBABILITY: Final = 0.3
HANGS: Final = 2
"""A hang holds its call until the connector's read timeout (60 s): two are enough to prove it, more only cost time."""
RATE_LIMIT_RETRY_AFTER: Final = 2

# Webhook flood
NORMAL_WEBHOOK_RATE: Final = 500.0
"""Deliveries per second the ingress is built for (issue 7: p99 ≤ 50 ms at 500/s)."""
FLOOD_FACTOR: Final = 10
FLOOD_SECONDS: Final = 0.5
REDELIVERY_EVERY: Final = 10
"""Every tenth delivery repeats an earlier one's id, as senders retrying do: acknowledged, stored once."""
FLOOD_CONNECTIONS: Final = 64
FLOOD_RETRY_ROUNDS: Final = 5
"""Refused deliveries (429, no answer) are sent again after their Retry-After, like a Standard Webhooks sender."""
SERVER_START_SECONDS: Final = 30.0
DELIVERY_TIMEOUT_SECONDS: Final = 30.0
"""A delivery unanswered this long counts as refused (a sender gives up and retries later)."""
