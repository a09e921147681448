"""The objects the simulator serves and what kind each is: a name list, a transaction, an attachment or read-only."""

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    LIST = "list"
    """Name lists: unique name, never deleted (made inactive with `Active: false`)."""
    TRANSACTION = "transaction"
    """Dated postings: DocNumber, closing date, currency, deletable."""
    ATTACHABLE = "attachable"
    READ_ONLY = "read_only"
    """Created by QuickBooks itself (tax codes): readable and queryable only."""


@dataclass(frozen=True, slots=True)
class Entity:
    name: str
    kind: Kind
    name_field: str | None = None
    name_group: str | None = None
    """Objects sharing a group share one namespace of names (customers, vendors and employees do)."""

    @property
    def deletable(self) -> bool:
        return self.kind in (Kind.TRANSACTION, Kind.ATTACHABLE)

    @property
    def writable(self) -> bool:
        return self.kind is not Kind.READ_ONLY


PARTY = "party"
ENTITIES: dict[str, Entity] = {
    entity.name: entity
    for entity in (
        Entity("Account", Kind.LIST, "Name", "Account"),
        Entity("Vendor", Kind.LIST, "DisplayName", PARTY),
        Entity("Employee", Kind.LIST, "DisplayName", PARTY),
        Entity("Customer", Kind.LIST, "DisplayName", PARTY),
        Entity("Class", Kind.LIST, "Name", "Class"),
        Entity("Department", Kind.LIST, "Name", "Department"),
        Entity("Item", Kind.LIST, "Name", "Item"),
        Entity("Term", Kind.LIST, "Name", "Term"),
        Entity("TaxCode", Kind.READ_ONLY, "Name", "TaxCode"),
        Entity("CompanyCurrency", Kind.READ_ONLY, "Code", "CompanyCurrency"),
        Entity("Bill", Kind.TRANSACTION),
        Entity("Purchase", Kind.TRANSACTION),
        Entity("JournalEntry", Kind.TRANSACTION),
        Entity("BillPayment", Kind.TRANSACTION),
        Entity("Attachable", Kind.ATTACHABLE),
    )
}
BY_LOWER = {name.lower(): entity for name, entity in ENTITIES.items()}


def entity_named(text: str) -> Entity | None:
    """`bill`, `Bill`, `BILL` (URLs are lower case, queries any case)."""
    return BY_LOWER.get(text.lower())
