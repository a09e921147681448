"""Finds connectors: every sub-package of `connectors/` with a `spec.yaml` and a `CONNECTOR` class."""

from functools import cache
from importlib import import_module
from importlib.resources import files

from connectors.base import Connector
from connectors.spec import ConnectorSpec
from core.destination_vocabulary import AttributeType, DestinationVocabulary, DocumentBooking, UserDimensions


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


def vocabulary_of(spec: ConnectorSpec) -> DestinationVocabulary:
    """What `spec` says about its attribute types, in the neutral words `mappings` reads."""
    user_dimensions = spec.user_dimensions
    return DestinationVocabulary(
        system=spec.system,
        display_name=spec.display_name,
        types=tuple(
            AttributeType(name=declared.name, label=declared.label, roles=frozenset(declared.roles))
            for declared in spec.attribute_types
        ),
        documents=tuple(
            DocumentBooking(
                kind=document.kind,
                category_type=document.category_type,
                card_account_type=document.card_account_type,
                counterparty_types=document.counterparty_types,
                label=document.label,
            )
            for document in spec.documents
        ),
        user_dimensions=(
            UserDimensions(prefix=user_dimensions.prefix, label=user_dimensions.label)
            if user_dimensions is not None
            else None
        ),
    )


@cache
def destination_vocabulary(system: str) -> DestinationVocabulary:
    """The attribute types of the destination `system`; `UnknownSystemError` when no connector is installed for it."""
    return vocabulary_of(connector_class(system).spec)
