"""Everything the simulator remembers, and `reset`, which replaces it with fresh seed data."""

import hashlib
import random
from dataclasses import dataclass

from sandbox.clock import SandboxClock
from sandbox.quickbooks.oauth import OAuthServer
from sandbox.quickbooks.realm_limits import RealmLimiter
from sandbox.quickbooks.seed import seeded_realms
from sandbox.quickbooks.settings import QboSettings, QboSettingsUpdate
from sandbox.quickbooks.store import Change, RealmStore
from sandbox.quickbooks.webhooks import WebhookDispatcher


@dataclass(frozen=True, slots=True)
class StoredFile:
    content: bytes
    content_type: str
    key: str
    """Part of the temporary download URL, so it cannot be guessed from the id."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class QboState:
    """The companies, the authorization server, the throttles and the webhook dispatcher of one simulator.
    Routes read these attributes on every request, so `reset` can swap them wholesale."""

    def __init__(self, *, clock: SandboxClock, seed: int) -> None:
        self.clock = clock
        self.settings = QboSettings()
        self.limiter = RealmLimiter()
        self.dispatcher = WebhookDispatcher(clock=clock, settings=self.settings)
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.seed = seed
        self.settings = QboSettings()
        self.dispatcher.reset(self.settings)
        self.limiter.reset()
        self.realms = seeded_realms(seed, self.clock.now)
        for store in self.realms.values():
            store.listener = self._publish
        self.oauth = OAuthServer(clock=self.clock, settings=self.settings, realms=list(self.realms))
        self.files: dict[tuple[str, str], StoredFile] = {}
        self.rng = random.Random(seed)

    def update_settings(self, update: QboSettingsUpdate) -> QboSettings:
        for name, value in update.model_dump(exclude_unset=True).items():
            if value is not None:
                setattr(self.settings, name, value)
        return self.settings

    def _publish(self, store: RealmStore, change: Change) -> None:
        self.dispatcher.publish(store.realm_id, change)
