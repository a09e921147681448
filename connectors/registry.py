"""Finds connectors: every sub-package of `connectors/` with a `spec.yaml` and a `CONNECTOR` class."""

from functools import cache
from importlib import import_module
from importlib.resources import files

from connectors.base import Connector


class UnknownSystemError(LookupError):
    """No connector is installed for a system name."""


@cache
def available_systems() -> tuple[str, ...]:
    package = files("connectors")
    return tuple(
        sorted(entry.name for entry in package.iterdir() if entry.is_dir() and entry.joinpath("spec.yaml").is_file())
    )


def connector_class(system: str) -> type[Connector]:
    if system not in available_systems():
        raise UnknownSystemError(f"no connector for {system!r}; installed: {', '.join(available_systems())}")
    connector: type[Connector] = import_module(f"connectors.{system}").CONNECTOR
    return connector
