"""One module per fault; `SCENARIOS` is the order `make chaos` plays them in."""

from chaos.scenario import Scenario
from chaos.scenarios import (
    combined,
    postgres,
    quickbooks,
    redis_flush,
    simulator_faults,
    webhook_flood,
    worker_kills,
    xero,
)

SCENARIOS: list[Scenario] = [
    worker_kills.SCENARIO,
    redis_flush.SCENARIO,
    postgres.TERMINATE_SCENARIO,
    postgres.RESTART_SCENARIO,
    *simulator_faults.SCENARIOS,
    combined.SCENARIO,
    webhook_flood.SCENARIO,
    quickbooks.SCENARIO,
    xero.SCENARIO,
]

__all__ = ["SCENARIOS"]
