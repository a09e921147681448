"""What a scenario is: a world of a given size, a fault acted on it, and what the act saw."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from bench.destinations import INTACCT
from chaos.constants import FLOOD_FACTOR, FLOOD_SENDERS, FLOOD_SERVERS, NORMAL_WEBHOOK_RATE
from chaos.counting import Exportable, exportable
from chaos.world import Recovery, World

RedisFlush = Literal["all", "db"]


@dataclass(frozen=True)
class Options:
    redis_flush: RedisFlush = "all"
    """`all` (FLUSHALL, Redis forgets everything) or `db` (FLUSHDB of the product's database only, for a Redis that
    is shared while developing)."""
    flood_rate: float = NORMAL_WEBHOOK_RATE * FLOOD_FACTOR
    """Deliveries per second the webhook flood aims at, all senders together."""
    flood_senders: int = FLOOD_SENDERS
    flood_servers: int = FLOOD_SERVERS
    ingress_limit: int | None = None
    """Deliveries per second per connection the ingress admits during the flood; None: the product's own limit."""


@dataclass
class Injected:
    recovery: Recovery
    details: dict[str, Any] = field(default_factory=dict)
    lost_webhooks: int = 0
    problems: list[str] = field(default_factory=list)
    """Why the fault did not do what it should (it never fired, a worker died of it): the scenario fails."""
    notes: list[str] = field(default_factory=list)
    """What the reader should know but does not fail the scenario (the flood fell short of its target rate)."""


Act = Callable[[World, Options], Awaitable[Injected]]


@dataclass(frozen=True)
class Scenario:
    name: str
    fault: str
    act: Act
    expenses: int
    per_report: int = 1
    connection_settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    destination: str = INTACCT
    """The system exported to, as `bench.destinations.DESTINATIONS` names it."""
    exportable: Exportable = exportable
    """Which Fyle expenses the scenario's export settings export (reimbursable ones unless its act saves others):
    the expenses counted missing when in no document."""
