"""Xero's API limits on the sandbox clock: per organisation 60 calls a rolling minute, 5 in flight and 5,000 a day
(the day runs to midnight UTC), and 10,000 calls a minute per app. A refused call answers 429 with `Retry-After`
and `X-Rate-Limit-Problem` (`minute`, `day`, `concurrent`, `appminute`); every answer reports what is left in
`X-MinLimit-Remaining`, `X-DayLimit-Remaining` and `X-AppMinLimit-Remaining`. Limits are adjustable per
organisation (and for the app) through the control API."""

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from sandbox.clock import SandboxClock
from sandbox.xero.constants import (
    APP_PER_MINUTE,
    APP_REMAINING_HEADER,
    CONCURRENT,
    DAY_REMAINING_HEADER,
    MINUTE_REMAINING_HEADER,
    PER_DAY,
    PER_MINUTE,
    WINDOW_SECONDS,
)


class OrgLimits(BaseModel):
    """One organisation's limits; `enabled: false` admits everything (headers still reported)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    per_minute: int = Field(default=PER_MINUTE, ge=1)
    per_day: int = Field(default=PER_DAY, ge=1)
    concurrent: int = Field(default=CONCURRENT, ge=1)


@dataclass
class _Usage:
    minute: deque[float] = field(default_factory=deque)
    day: str = ""
    day_count: int = 0
    in_flight: int = 0


@dataclass(frozen=True, slots=True)
class Refusal:
    retry_after: int
    problem: str


class LimitBook:
    def __init__(self, clock: SandboxClock) -> None:
        self.clock = clock
        self.limits: dict[str, OrgLimits] = {}
        self.app_per_minute = APP_PER_MINUTE
        self._usage: dict[str, _Usage] = {}
        self._app: dict[str, deque[float]] = {}

    def reset(self) -> None:
        self.limits.clear()
        self.app_per_minute = APP_PER_MINUTE
        self._usage.clear()
        self._app.clear()

    def of(self, tenant_id: str) -> OrgLimits:
        return self.limits.setdefault(tenant_id, OrgLimits())

    def _now(self) -> tuple[float, datetime]:
        moment = self.clock.now()
        return moment.timestamp(), moment

    def _prune(self, calls: deque[float], now: float) -> None:
        while calls and now - calls[0] >= WINDOW_SECONDS:
            calls.popleft()

    def _usage_of(self, tenant_id: str, moment: datetime) -> _Usage:
        usage = self._usage.setdefault(tenant_id, _Usage())
        today = moment.date().isoformat()
        if usage.day != today:
            usage.day, usage.day_count = today, 0
        return usage

    def try_acquire(self, tenant_id: str, client_id: str) -> Refusal | None:
        now, moment = self._now()
        usage = self._usage_of(tenant_id, moment)
        app = self._app.setdefault(client_id, deque())
        self._prune(usage.minute, now)
        self._prune(app, now)
        limits = self.of(tenant_id)
        if limits.enabled:
            if usage.day_count >= limits.per_day:
                midnight = datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), moment.tzinfo)
                return Refusal(max(1, math.ceil((midnight - moment).total_seconds())), "day")
            if usage.in_flight >= limits.concurrent:
                return Refusal(1, "concurrent")
            if len(usage.minute) >= limits.per_minute:
                return Refusal(max(1, math.ceil(WINDOW_SECONDS - (now - usage.minute[0]))), "minute")
            if len(app) >= self.app_per_minute:
                return Refusal(max(1, math.ceil(WINDOW_SECONDS - (now - app[0]))), "appminute")
        usage.minute.append(now)
        usage.day_count += 1
        usage.in_flight += 1
        app.append(now)
        return None

    def release(self, tenant_id: str) -> None:
        usage = self._usage.get(tenant_id)
        if usage is not None:
            usage.in_flight = max(0, usage.in_flight - 1)

    def headers(self, tenant_id: str, client_id: str) -> dict[str, str]:
        now, moment = self._now()
        usage = self._usage_of(tenant_id, moment)
        app = self._app.setdefault(client_id, deque())
        self._prune(usage.minute, now)
        self._prune(app, now)
        limits = self.of(tenant_id)
        return {
            MINUTE_REMAINING_HEADER: str(max(0, limits.per_minute - len(usage.minute))),
            DAY_REMAINING_HEADER: str(max(0, limits.per_day - usage.day_count)),
            APP_REMAINING_HEADER: str(max(0, self.app_per_minute - len(app))),
        }

    def usage(self, tenant_id: str) -> dict[str, int]:
        now, moment = self._now()
        usage = self._usage_of(tenant_id, moment)
        self._prune(usage.minute, now)
        return {"minute": len(usage.minute), "day": usage.day_count, "in_flight": usage.in_flight}
