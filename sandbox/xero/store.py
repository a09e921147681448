"""One organisation's books: its settings and every object by collection, each stamped with `UpdatedDateUTC`.

Objects are kept as dicts in Xero's field names with Python values (Decimal money, `date` days, aware `datetime`
stamps); `render` turns them into Xero's JSON. A change to an invoice or a contact is told to `listener`
(the webhook dispatcher's `publish(tenant_id, resource, event, resource_id)`)."""

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

Listener = Callable[[str, str, str, str], None]
WEBHOOK_RESOURCES = {"Invoices": ("INVOICE", "InvoiceID"), "Contacts": ("CONTACT", "ContactID")}
ID_FIELDS = {
    "Accounts": "AccountID",
    "Contacts": "ContactID",
    "TrackingCategories": "TrackingCategoryID",
    "TaxRates": "TaxType",
    "Items": "ItemID",
    "Currencies": "Code",
    "Invoices": "InvoiceID",
    "BankTransactions": "BankTransactionID",
    "ManualJournals": "ManualJournalID",
    "Payments": "PaymentID",
}


@dataclass(slots=True)
class Attachment:
    id: str
    file_name: str
    mime_type: str
    content: bytes

    def public(self, url: str) -> dict[str, Any]:
        return {
            "AttachmentID": self.id,
            "FileName": self.file_name,
            "Url": url,
            "MimeType": self.mime_type,
            "ContentLength": len(self.content),
        }


@dataclass
class OrgStore:
    tenant_id: str
    organisation: dict[str, Any]
    now: Callable[[], datetime]
    collections: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    attachments: dict[str, list[Attachment]] = field(default_factory=dict)
    """Per document id, in upload order."""
    creates: Counter[str] = field(default_factory=Counter)
    """Creates per collection, for the control API's duplicate counts."""
    listener: Listener | None = None

    @property
    def base_currency(self) -> str:
        return str(self.organisation["BaseCurrency"])

    @property
    def lock_date(self) -> date | None:
        """The later of the period and end-of-year lock dates: documents dated on or before it are refused."""
        days = [day for day in (self.organisation.get("PeriodLockDate"), self.organisation.get("EndOfYearLockDate"))]
        present = [day for day in days if isinstance(day, date)]
        return max(present) if present else None

    def all(self, collection: str) -> list[dict[str, Any]]:
        return list(self.collections.setdefault(collection, {}).values())

    def get(self, collection: str, object_id: str) -> dict[str, Any] | None:
        items = self.collections.setdefault(collection, {})
        found = items.get(object_id) or items.get(object_id.lower())
        if found is None:
            found = next((obj for key, obj in items.items() if key.lower() == object_id.lower()), None)
        return found

    def put(self, collection: str, obj: dict[str, Any], *, created: bool) -> dict[str, Any]:
        id_field = ID_FIELDS[collection]
        if not obj.get(id_field):
            obj[id_field] = str(uuid.uuid4())
        obj["UpdatedDateUTC"] = self.now()
        self.collections.setdefault(collection, {})[str(obj[id_field])] = obj
        if created:
            self.creates[collection] += 1
        self._tell(collection, obj, "CREATE" if created else "UPDATE")
        return obj

    def touch(self, collection: str, obj: dict[str, Any]) -> None:
        obj["UpdatedDateUTC"] = self.now()
        self._tell(collection, obj, "UPDATE")

    def _tell(self, collection: str, obj: dict[str, Any], event: str) -> None:
        if self.listener is None or collection not in WEBHOOK_RESOURCES:
            return
        resource, id_field = WEBHOOK_RESOURCES[collection]
        self.listener(self.tenant_id, resource, event, str(obj[id_field]))
