"""Everything the Xero simulator remembers, and `reset`, which replaces it with fresh seed data."""

from sandbox.clock import SandboxClock
from sandbox.xero.constants import KNOWN_SCOPES
from sandbox.xero.idempotency import IdempotencyBook
from sandbox.xero.oauth import IdentityServer
from sandbox.xero.org_limits import LimitBook
from sandbox.xero.seed import seeded_organisations
from sandbox.xero.store import OrgStore
from sandbox.xero.webhooks import XeroWebhookDispatcher

SEEDED_SCOPES = tuple(sorted(KNOWN_SCOPES))


class XeroState:
    """The organisations, the identity server, the limits, the idempotency keys and the webhook dispatcher.
    Routes read these attributes on every request, so `reset` can swap them wholesale."""

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.clock = clock
        self.limits = LimitBook(clock)
        self.dispatcher = XeroWebhookDispatcher(clock=clock)
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.seed = seed
        self.limits.reset()
        self.dispatcher.reset()
        self.orgs: dict[str, OrgStore] = seeded_organisations(seed, self.clock.now)
        for store in self.orgs.values():
            store.listener = self.publish
        self.identity = IdentityServer(clock=self.clock, tenants=list(self.orgs), scopes=SEEDED_SCOPES)
        self.idempotency = IdempotencyBook()

    def publish(self, tenant_id: str, resource: str, event: str, resource_id: str) -> None:
        """The store's change hook: hands the change to the webhook dispatcher."""
        self.dispatcher.publish(tenant_id, resource, event, resource_id)
