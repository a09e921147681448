"""What `mappings` raises: every missing mapping of a group at once, and refused changes with their reasons."""

from collections.abc import Sequence
from dataclasses import dataclass, field

from core.errors import MappingError


@dataclass(frozen=True, slots=True, order=True)
class MissingMapping:
    """One source value without a destination, and the expenses that need it."""

    source_type: str
    source_value: str
    destination_type: str
    expense_ids: tuple[str, ...] = field(default=(), compare=False)

    def as_json(self) -> dict[str, str]:
        """The form kept in `export_items.missing_mappings`, which saving a mapping searches by containment."""
        return {
            "source_type": self.source_type,
            "source_value": self.source_value,
            "destination_type": self.destination_type,
        }

    def describe(self) -> str:
        return f"{self.source_type} {self.source_value!r} → {self.destination_type}"


class MissingMappingsError(MappingError):
    """A `MappingError` naming every mapping the group lacks, so one fix-up round is enough."""

    def __init__(self, missing: Sequence[MissingMapping]) -> None:
        ordered = tuple(sorted(missing))
        listed = "; ".join(item.describe() for item in ordered)
        super().__init__(
            f"{len(ordered)} mapping{'s are' if len(ordered) != 1 else ' is'} missing: {listed}",
            missing=[(item.source_type, item.source_value) for item in ordered],
            code="missing_mappings",
            hint="Map these values (or run auto-map); the item is released as soon as its last mapping is saved.",
        )
        self.details = ordered


class RejectedChange(Exception):
    """A settings or mapping change that cannot be saved, with every reason found."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class NotFound(LookupError):
    """The tenant has no such row (or it belongs to another tenant, which looks the same)."""
