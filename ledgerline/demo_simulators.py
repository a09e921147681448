"""The demo's side of the simulators' demo hooks (`sandbox.demo`): which installed systems the sandbox serves, how
each connects and what a tenant would set up in it, and the failures the demo arranges there.

Everything system-specific comes back as data from `/_sandbox/{system}/demo`; nothing here names a system.
"""

from dataclasses import dataclass, field
from datetime import date
from types import TracebackType
from typing import Any, Self

import httpx
from pydantic import SecretStr

from connectors.registry import available_systems
from core.settings import Settings
from ledgerline.constants import CONTROL_PREFIX, HOOK_PATH, SIMULATOR_TIMEOUT_SECONDS


@dataclass(frozen=True)
class SimulatorSeed:
    """What one simulator's `GET …/demo` answers (`sandbox.demo.DemoSeed`)."""

    system: str
    app: dict[str, str]
    credentials: dict[str, str] | None
    refresh_token: str | None
    callback: dict[str, str]
    export_settings: dict[str, Any] | None
    mapping_choices: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, system: str, answer: dict[str, Any]) -> "SimulatorSeed":
        connect = answer.get("connect") or {}
        return cls(
            system=system,
            app=dict(answer.get("app") or {}),
            credentials=connect.get("credentials"),
            refresh_token=connect.get("refresh_token"),
            callback=dict(connect.get("callback") or {}),
            export_settings=answer.get("export_settings"),
            mapping_choices={name: list(ids) for name, ids in (answer.get("mapping_choices") or {}).items()},
        )


class DemoSimulators:
    """A client of the sandbox's control API, as `async with DemoSimulators(url) as simulators`."""

    def __init__(self, sandbox_url: str) -> None:
        self.url = sandbox_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=f"{self.url}{CONTROL_PREFIX}", timeout=SIMULATOR_TIMEOUT_SECONDS)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self._http.aclose()

    @property
    def control_url(self) -> str:
        return f"{self.url}{CONTROL_PREFIX}"

    async def systems(self) -> list[str]:
        """The installed systems the sandbox simulates, in the registry's order."""
        answer = await self._http.get("/health")
        answer.raise_for_status()
        served = set(answer.json()["systems"])
        return [system for system in available_systems() if system in served]

    async def seeds(self) -> dict[str, SimulatorSeed]:
        seeds = {}
        for system in await self.systems():
            answer = await self._http.get(f"/{system}{HOOK_PATH}")
            answer.raise_for_status()
            seeds[system] = SimulatorSeed.of(system, answer.json())
        return seeds

    async def close_books(self, system: str, *, through: date, dry_run: bool = False) -> date:
        """Close the system's books through `through` at its own granularity; the last day it closed (with
        `dry_run`, would close)."""
        answer = await self._http.post(
            f"/{system}{HOOK_PATH}/close_books", json={"through": through.isoformat(), "dry_run": dry_run}
        )
        answer.raise_for_status()
        return date.fromisoformat(answer.json()["closed_through"])

    async def deactivate(self, system: str, *, attribute_type: str, remote_id: str) -> None:
        answer = await self._http.post(
            f"/{system}{HOOK_PATH}/deactivate", json={"attribute_type": attribute_type, "remote_id": remote_id}
        )
        if answer.is_error:
            raise RuntimeError(f"{system}: {answer.text}")


def with_simulator_apps(settings: Settings, sandbox_url: str, seeds: dict[str, SimulatorSeed]) -> Settings:
    """`settings` sending every connector to the sandbox, with each simulator's app credentials as Ledgerline's
    own (those already configured win)."""
    apps = {system: {name: SecretStr(value) for name, value in seed.app.items()} for system, seed in seeds.items()}
    return settings.model_copy(update={"sandbox_url": sandbox_url, "connector_apps": apps | settings.connector_apps})
