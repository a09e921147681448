"""Sizes, paces and limits of the chaos run, in one place."""

from datetime import date
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
BOOKS_RATE_LIMIT_SECONDS: Final = 180.0
"""How long the books check after a scenario waits out rate limits (Xero's minute, its calls in flight) at most."""
UNSAID_RETRY_SECONDS: Final = 5.0
"""How long the books check waits on a rate limit that names no moment."""
MIN_RETRY_SECONDS: Final = 1.0
REFUSALS_SHOWN: Final = 20
"""Calls of the simulator's log a books check that stayed rate limited prints, to say who refused them."""
CONTROL_TIMEOUT_SECONDS: Final = 120.0

EXPENSES: Final = 2000
"""Expenses generated in the Fyle simulator per scenario, one report each (approved; about two thirds are
reimbursable, hence exportable; the seed adds some), so the export lasts long enough for a fault to land in it."""
MEMO_LINE: Final = "{expense_id}"
"""Every bill line names its expense, so the counters read which expense is in which document from Intacct alone."""

# Worker SIGKILL loop (tests/sync/test_crash_safety.py at run size)
KILLS: Final = 20
KILL_SPREAD: Final = 0.6
"""The kills are paced by the export's progress, not by the clock, so they land while items are still unfinished on
a machine of any speed: kill k of KILLS once k / KILLS of this share of the items has succeeded."""
KILL_MIN_UP_SECONDS: Final = 1.0
"""A worker is killed only once it has been up this long: one killed while still importing its modules tests nothing."""
PACE_POLL_SECONDS: Final = 0.02
"""How often a fault paced by progress (kills, blips, flushes) looks at it: a fast machine does a lot in 0.25 s."""
COMMIT_THEN_FAIL_PROBABILITY: Final = 0.05
KILL_SEED: Final = 20261121

# PostgreSQL
BLIPS: Final = 6
BLIP_AIM_SECONDS: Final = 2.0
"""A blip waits this long at most for a worker backend inside a transaction, then strikes anyway."""
WORKER_APPLICATION_NAME: Final = "ledgerline-chaos-{run}"
PG_RESTART_TIMEOUT_SECONDS: Final = 120

# Simulator faults
FAULT_WINDOW_SECONDS: Final = 30.0
"""A fault is armed before the workers start and stays until it has spent its budget (`times`), the work is done,
or this long has passed: on a fast machine the work may end first, on a slow one the budget does."""
CERTAIN_STRIKES: Final = 2
"""Each probabilistic fault is preceded by this many strikes at probability 1 on the same calls, so the fault fires
however few calls the export makes."""
FAULT_PROBABILITY: Final = 0.3
FAULT_TIMES: Final = 30
"""Strikes at FAULT_PROBABILITY after the certain ones: spread over the export rather than bunched at its start."""
LATENCY_TIMES: Final = 300
HANGS: Final = 2
"""A hang holds its call until the connector's read timeout (60 s): two are enough to prove it, more only cost time."""
RATE_LIMIT_RETRY_AFTER: Final = 2

# Combined faults
COMBINED_KILLS: Final = 8
COMBINED_SEED: Final = 20261122
COMBINED_LATENCY_MS: Final = 200
COMBINED_WRITE_PROBABILITY: Final = 0.1
COMBINED_LOOKUP_PROBABILITY: Final = 0.3
COMBINED_RESET_PROBABILITY: Final = 0.03
COMBINED_TIMES: Final = 10
COMBINED_PULL_ERRORS: Final = 2
"""A 503 on any page fails the whole pull attempt and a run gives up after a few: more than a couple of pull errors
(10 % of pages was tried) fail the run before anything is exported, which tests nothing about exactly-once."""

# Xero: commit-then-fail on every write, a 429 storm and the SIGKILL loop at once
XERO_EXPENSES: Final = 600
"""Approved expenses, one report each: some 650 documents with the seed's, about 26 PUTs (a claim of 50 mixes bills
and spend money, a PUT each) at Xero's 60 calls a minute before the faults, the kills' lookups and the receipts
stretch it to minutes. Fewer than the other scenarios' 2,000: at Xero's pace those take over half an hour, and the
kills and faults land as well in 650."""
XERO_REIMBURSED_EXPENSES: Final = 20
"""Expenses in reports Fyle has already reimbursed, one report each: their bills get a Xero Payment each (a lookup,
a read of the bill and a PUT: three of the minute's 60 calls per payment)."""
XERO_STORM_CALLS: Final = 15
"""Consecutive Xero calls answered 429 (Retry-After `RATE_LIMIT_RETRY_AFTER`) once the export is under way."""
XERO_DEADLINE_SECONDS: Final = 600.0
"""The kills' and the recovery's deadline for Xero: at 58 calls a minute, the export, the lookups after each kill
and lost answer, the receipts and the payments take minutes where Intacct takes seconds."""

# Webhook flood
NORMAL_WEBHOOK_RATE: Final = 500.0
"""Deliveries per second the ingress is built for (issue 7: p99 ≤ 50 ms at 500/s)."""
FLOOD_FACTOR: Final = 10
FLOOD_SECONDS: Final = 2.0
FLOOD_SENDERS: Final = 2
"""Load processes sharing the flood (one per core of the machine it was written on); `--flood-senders` changes it."""
SENDER_LINKS: Final = 512
"""Keep-alive connections one sender holds; deliveries go to them in turn, pipelined (`chaos.flood_sender.Link`). The
offered rate printed is what was really written, not what was scheduled."""
SENDER_WARM_LINKS: Final = SENDER_LINKS
"""Every link is opened before the clock starts, so no delivery waits for a TCP handshake."""
REDELIVERY_EVERY: Final = 10
"""Every tenth delivery repeats an earlier one's id, as senders retrying do: acknowledged, stored once."""
RETRY_RATE: Final = NORMAL_WEBHOOK_RATE
"""All senders together resend refused deliveries at the rate the ingress is built for, after their Retry-After."""
RETRY_DEADLINE_SECONDS: Final = 180.0
"""Refused deliveries are retried until accepted, for this long at most after the flood (then they count as a
problem: a sender that gives up loses them)."""
SENDER_READY_SECONDS: Final = 60.0
FLOOD_SERVERS: Final = 2
"""`uvicorn --workers` of the product app the flood is sent to (`chaos.flood_app`): one per core."""
INGRESS_LIMIT_ENV: Final = "CHAOS_INGRESS_LIMIT"
"""Deliveries per second per connection the ingress admits, when `--ingress-limit` sets it (unset: the product's)."""
SERVER_START_SECONDS: Final = 30.0
DELIVERY_TIMEOUT_SECONDS: Final = 30.0
"""A delivery unanswered this long counts as refused (a sender gives up and retries later)."""
BOOKS_SINCE: Final = date(2000, 1, 1)
"""The books check after each scenario covers every spend date the generated expenses can have."""
