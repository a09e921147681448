"""What a destination's attribute types are for, in words that belong to no one system.

Each accounting system has its own dimensions (Intacct's expense types and charge-card accounts, QuickBooks'
classes, Xero's tracking categories). A connector's spec declares them with the `AttributeRole`s each can play;
`connectors.registry.destination_vocabulary` turns that into a `DestinationVocabulary`, and `mappings` asks it
every question about destination types (what a category books to, what a mapping may point at, which types are
line dimensions) instead of keeping a list of one system's names.
"""

import re
from dataclasses import dataclass
from enum import StrEnum

from core.constants import NAMED_TYPE_PATTERN
from core.domain import DocumentKind

_NAMED = re.compile(NAMED_TYPE_PATTERN)


class AttributeRole(StrEnum):
    """What a destination attribute can be used as. A closed list: add a role here before a one-off flag."""

    CATEGORY = "category"
    """A line books to it: a GL account, an expense type."""
    COUNTERPARTY = "counterparty"
    """The person or company a document is with: an employee, a vendor, a contact."""
    LINE_DIMENSION = "line_dimension"
    """A tag a document line carries: department, class, project, tracking category."""
    CARD_ACCOUNT = "card_account"
    """Where a corporate card's own mapping points: its card account, or the account a card journal credits."""
    BANK_ACCOUNT = "bank_account"
    """What pays a document."""
    CREDIT_ACCOUNT = "credit_account"
    """What a journal entry credits against its expense lines (payables)."""
    TAX = "tax"
    """A tax code or tax detail a line's tax is booked with."""
    ENTITY = "entity"
    """A company inside a multi-entity destination, where a routed document is posted."""


@dataclass(frozen=True, slots=True)
class AttributeType:
    name: str
    label: str
    roles: frozenset[AttributeRole]


@dataclass(frozen=True, slots=True)
class DocumentBooking:
    """What a kind of document books to: its categories' type, a card's own type, the counterparty types it takes."""

    kind: DocumentKind
    category_type: str | None = None
    card_account_type: str | None = None
    counterparty_types: tuple[str, ...] = ()
    """Empty: the document names no employee as its counterparty (any counterparty type is then accepted)."""
    label: str | None = None
    """What people using the destination call it (Intacct's "AP bill"); None: the kind's own words."""


@dataclass(frozen=True, slots=True)
class UserDimensions:
    """Dimensions a company defines itself, named `<prefix><NAME>` (Intacct's `udd:<NAME>`): line dimensions."""

    prefix: str
    label: str


@dataclass(frozen=True, slots=True)
class DestinationVocabulary:
    """A destination's attribute types, immutable. Built from its connector's spec; tests may build their own."""

    system: str
    types: tuple[AttributeType, ...]
    documents: tuple[DocumentBooking, ...] = ()
    user_dimensions: UserDimensions | None = None
    display_name: str | None = None
    """The system's name for people ("Sage Intacct"); None: its identifier."""

    @property
    def system_label(self) -> str:
        return self.display_name or self.system

    def _declared(self, name: str) -> AttributeType | None:
        return next((declared for declared in self.types if declared.name == name), None)

    def is_user_dimension(self, name: str) -> bool:
        prefix = self.user_dimensions.prefix if self.user_dimensions is not None else None
        return prefix is not None and name.startswith(prefix) and bool(_NAMED.match(name.removeprefix(prefix)))

    def is_type(self, name: str) -> bool:
        """A declared attribute type, or a user-defined dimension's name."""
        return self._declared(name) is not None or self.is_user_dimension(name)

    def has_role(self, name: str, role: AttributeRole) -> bool:
        if self.is_user_dimension(name):
            return role is AttributeRole.LINE_DIMENSION
        declared = self._declared(name)
        return declared is not None and role in declared.roles

    def types_with(self, role: AttributeRole) -> tuple[str, ...]:
        """The declared types that can play `role`, in declaration order (user-defined dimensions aside)."""
        return tuple(declared.name for declared in self.types if role in declared.roles)

    def first_with(self, role: AttributeRole) -> str | None:
        found = self.types_with(role)
        return found[0] if found else None

    def is_line_dimension(self, name: str) -> bool:
        return self.has_role(name, AttributeRole.LINE_DIMENSION)

    def label(self, name: str) -> str:
        declared = self._declared(name)
        if declared is not None:
            return declared.label
        if self.user_dimensions is not None and self.is_user_dimension(name):
            return f"{self.user_dimensions.label} {name.removeprefix(self.user_dimensions.prefix)}"
        return name

    def document_label(self, kind: str) -> str:
        """What the destination calls a kind of document; the kind in plain words when its spec gives no label."""
        booking = next((booking for booking in self.documents if booking.kind.value == kind), None)
        if booking is not None and booking.label:
            return booking.label
        return kind.replace("_", " ").capitalize()

    def booking(self, kind: DocumentKind) -> DocumentBooking | None:
        return next((booking for booking in self.documents if booking.kind is kind), None)

    def category_type(self, kind: DocumentKind) -> str | None:
        """The type a `kind` document's lines book categories to; None when the destination does not create it."""
        booking = self.booking(kind)
        return booking.category_type if booking is not None else None

    def card_account_type(self, kind: DocumentKind) -> str | None:
        """The type a card's own mapping points to on a `kind` document; None when the card's mapping has no use."""
        booking = self.booking(kind)
        return booking.card_account_type if booking is not None else None

    def counterparty_types(self, kind: DocumentKind) -> tuple[str, ...]:
        """The types a `kind` document names an employee as; every counterparty type when it declares none."""
        booking = self.booking(kind)
        declared = booking.counterparty_types if booking is not None else ()
        return declared or self.types_with(AttributeRole.COUNTERPARTY)

    def user_dimension_form(self) -> str | None:
        return f"{self.user_dimensions.prefix}<NAME>" if self.user_dimensions is not None else None
