"""Everything the simulator remembers, and `reset`, which replaces it with fresh seed data."""

import random
from functools import partial
from typing import Any

from sandbox.clock import SandboxClock
from sandbox.fyle.constants import WEBHOOK_RESOURCE
from sandbox.fyle.oauth import OAuthServer
from sandbox.fyle.render import user
from sandbox.fyle.render_report import report_out
from sandbox.fyle.seed import seed_store
from sandbox.fyle.settings import FyleSettings, FyleSettingsUpdate
from sandbox.fyle.signed_urls import UrlSigner
from sandbox.fyle.store import FyleStore, ReportEvent
from sandbox.fyle.webhooks import WebhookDispatcher


class FyleState:
    """The organisation's data, the authorization server and the webhook dispatcher of one simulator.

    Routes read `state.store` and `state.oauth` on every request, so `reset` can swap them wholesale.
    """

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.clock = clock
        self.settings = FyleSettings()
        self.dispatcher = WebhookDispatcher(clock=clock, settings=self.settings)
        self.signer = UrlSigner()
        self.oauth = OAuthServer(clock=clock, settings=self.settings)
        self.store = self._seeded(seed)

    def _seeded(self, seed: int) -> FyleStore:
        store = FyleStore(clock=self.clock, rng=random.Random(seed))
        seed_store(store)
        store.listener = partial(self._publish, store)
        return store

    def reset(self, seed: int) -> None:
        self.settings = FyleSettings()
        self.dispatcher.reset()
        self.dispatcher.settings = self.settings
        self.oauth = OAuthServer(clock=self.clock, settings=self.settings)
        self.store = self._seeded(seed)

    def update_settings(self, update: FyleSettingsUpdate) -> FyleSettings:
        for name, value in update.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(self.settings, name, value)
        return self.settings

    def _publish(self, store: FyleStore, event: ReportEvent) -> None:
        report = store.reports.get(event.report_id)
        if report is None:
            return
        admin = next((employee for employee in store.employees if "ADMIN" in employee.roles), None)
        data: dict[str, Any] = report_out(store, report, admin=False)
        data["updated_by_user"] = user(admin) if admin else None
        payload = {"resource": WEBHOOK_RESOURCE, "action": event.action, "data": data, "reason": event.reason}
        self.dispatcher.publish(resource=WEBHOOK_RESOURCE, resource_id=report.id, action=event.action, payload=payload)
