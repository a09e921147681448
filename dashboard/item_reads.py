"""What the dashboard adds to `sync.item_queries`: each listed item as a person reads it (employee, report, amount,
date, the destination's name for the document), and for each missing mapping the destination values to choose from."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from connectors.registry import UnknownSystemError, destination_vocabulary
from core.destination_vocabulary import DestinationVocabulary
from core.models import Connection, DestinationAttribute, ExportItem, ExportItemRecord, SourceRecord
from dashboard.constants import MAPPING_CHOICES_LIMIT
from sync.item_queries import ItemRow


@dataclass(frozen=True)
class MissingMappingFix:
    source_type: str
    source_value: str
    destination_type: str
    destination_label: str
    """What the destination's spec calls the type (QuickBooks' "Location (department)")."""
    choices: list[tuple[uuid.UUID, str]]


async def _vocabulary(session: AsyncSession, item: ExportItem) -> DestinationVocabulary | None:
    provider = await session.scalar(select(Connection.provider).where(Connection.id == item.destination_connection_id))
    try:
        return destination_vocabulary(provider) if provider else None
    except UnknownSystemError:
        return None


async def mapping_fixes(session: AsyncSession, item: ExportItem, missing: list[Any]) -> list[MissingMappingFix]:
    vocabulary = await _vocabulary(session, item)
    fixes = []
    for entry in missing:
        destination_type = str(entry.get("destination_type", ""))
        rows = (
            await session.execute(
                select(DestinationAttribute.id, DestinationAttribute.name, DestinationAttribute.code)
                .where(
                    DestinationAttribute.tenant_id == item.tenant_id,
                    DestinationAttribute.connection_id == item.destination_connection_id,
                    DestinationAttribute.attribute_type == destination_type,
                    DestinationAttribute.active.is_(True),
                )
                .order_by(DestinationAttribute.name)
                .limit(MAPPING_CHOICES_LIMIT)
            )
        ).all()
        fixes.append(
            MissingMappingFix(
                source_type=str(entry.get("source_type", "")),
                source_value=str(entry.get("source_value", "")),
                destination_type=destination_type,
                destination_label=vocabulary.label(destination_type) if vocabulary else destination_type,
                choices=[(row.id, f"{row.name} ({row.code})" if row.code else row.name) for row in rows],
            )
        )
    return fixes


@dataclass(frozen=True, slots=True)
class ItemSummary:
    """One failures-list row as a person reads it: who, which report, how much, when, what kind of document."""

    document_label: str
    """What the destination's spec calls the kind (Intacct's "AP bill")."""
    system_label: str
    """The destination system's name for people ("Sage Intacct")."""
    employee: str | None = None
    """The employee's name (or e-mail when the source gave no name); with others, the first of them."""
    other_employees: int = 0
    report: str | None = None
    other_reports: int = 0
    amounts: tuple[tuple[Decimal, str], ...] = ()
    """(amount, currency): the document's total as built, else the expenses' sum per currency."""
    first_day: date | None = None
    last_day: date | None = None
    """The document's date once built (both the same); else the range of the expenses' dates."""
    expenses: int = 0
    missing_mappings: tuple[str, ...] = ()
    """Each mapping the item waits for, in the destination's words ("Category “Travel” has no GL account")."""

    @property
    def who(self) -> str | None:
        if self.employee is None:
            return None
        others = self.other_employees
        return self.employee if not others else f"{self.employee} and {others} other{'s' if others > 1 else ''}"

    @property
    def report_text(self) -> str | None:
        if self.report is None:
            return None
        more = self.other_reports
        return f"Report {self.report}" if not more else f"Reports {self.report} and {more} more"

    @property
    def amount_text(self) -> str | None:
        return "; ".join(f"{amount:,} {currency}" for amount, currency in self.amounts) or None

    @property
    def date_text(self) -> str | None:
        if self.first_day is None or self.last_day is None:
            return None
        if self.first_day == self.last_day:
            return self.first_day.isoformat()
        return f"{self.first_day.isoformat()} to {self.last_day.isoformat()}"

    @property
    def name(self) -> str:
        """The whole row in one phrase, for a checkbox's or a button's accessible name."""
        parts = [self.document_label, self.who, self.report_text, self.amount_text, self.date_text]
        return ", ".join(part for part in parts if part)


def _vocabulary_of(provider: str) -> DestinationVocabulary:
    """The system's vocabulary; for a system no longer installed, an empty one (kinds in plain words)."""
    try:
        return destination_vocabulary(provider)
    except UnknownSystemError:
        return DestinationVocabulary(system=provider, types=())


def document_label(provider: str, kind: str) -> str:
    """What the destination `provider` calls a kind of document, from its spec ("AP bill")."""
    return _vocabulary_of(provider).document_label(kind)


def system_label(provider: str) -> str:
    """A system's name for people, from its spec ("Sage Intacct"); the identifier of one no longer installed."""
    return _vocabulary_of(provider).system_label


def _missing_texts(vocabulary: DestinationVocabulary, missing: Any) -> tuple[str, ...]:
    if not isinstance(missing, list):
        return ()
    texts = []
    for entry in missing:
        if not isinstance(entry, dict):
            continue
        source_type = str(entry.get("source_type", "")).replace("_", " ").capitalize()
        wanted = vocabulary.label(str(entry.get("destination_type", "")))
        texts.append(f"{source_type} “{entry.get('source_value', '')}” has no {wanted}")
    return tuple(texts)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _money(value: str | None) -> Decimal | None:
    try:
        amount = Decimal(value) if value else None
    except ArithmeticError:
        return None
    return amount if amount is not None and amount.is_finite() else None


_EMPLOYEE = func.coalesce(
    func.nullif(SourceRecord.data["employee_name"].astext, ""), SourceRecord.data["employee_email"].astext
)
_CURRENCY = SourceRecord.data["currency"].astext
_AMOUNT = SourceRecord.data["amount"].astext
_SPENT_ON = SourceRecord.data["spent_on"].astext
_DECIMAL_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
"""An amount as `expense_to_json` writes it; anything else (a raw record kept unread) is left out of the sums."""


async def item_summaries(session: AsyncSession, rows: Sequence[ItemRow]) -> dict[uuid.UUID, ItemSummary]:
    """What each listed item is about, in two queries for the whole page whatever its length (never one per row):
    the built documents' total, currency and date, and the live expenses grouped per item, employee, report and
    currency. Source records hold `mappings.expense_json`'s form of an expense, so these keys are every source's."""
    if not rows:
        return {}
    ids = [row.id for row in rows]
    tenants = sorted({row.tenant_id for row in rows})
    document = ExportItem.document
    built = {
        row.id: row
        for row in (
            await session.execute(
                select(
                    ExportItem.id,
                    document["total"].astext.label("total"),
                    document["currency"].astext.label("currency"),
                    document["transaction_date"].astext.label("day"),
                    ExportItem.missing_mappings,
                ).where(ExportItem.tenant_id.in_(tenants), ExportItem.id.in_(ids))
            )
        ).all()
    }
    groups = (
        await session.execute(
            select(
                ExportItemRecord.export_item_id.label("item_id"),
                _EMPLOYEE.label("employee"),
                SourceRecord.parent_remote_id.label("report"),
                _CURRENCY.label("currency"),
                func.sum(case((_AMOUNT.op("~")(_DECIMAL_TEXT), _AMOUNT), else_=None).cast(Numeric)).label("total"),
                func.min(_SPENT_ON).label("first_day"),
                func.max(_SPENT_ON).label("last_day"),
                func.count().label("expenses"),
            )
            .join(
                SourceRecord,
                and_(
                    SourceRecord.tenant_id == ExportItemRecord.tenant_id,
                    SourceRecord.id == ExportItemRecord.source_record_id,
                ),
            )
            .where(
                ExportItemRecord.tenant_id.in_(tenants),
                ExportItemRecord.export_item_id.in_(ids),
                ExportItemRecord.released_at.is_(None),
            )
            .group_by(ExportItemRecord.export_item_id, _EMPLOYEE, SourceRecord.parent_remote_id, _CURRENCY)
        )
    ).all()
    per_item: dict[uuid.UUID, list[Any]] = {}
    for group in groups:
        per_item.setdefault(group.item_id, []).append(group)
    summaries = {}
    for row in rows:
        vocabulary = _vocabulary_of(row.provider)
        mine = per_item.get(row.id, [])
        employees = sorted({group.employee for group in mine if group.employee})
        reports = sorted({group.report for group in mine if group.report})
        document_row = built.get(row.id)
        missing = _missing_texts(vocabulary, document_row.missing_mappings if document_row is not None else None)
        total = _money(document_row.total) if document_row is not None else None
        if document_row is not None and total is not None and document_row.currency:
            amounts: tuple[tuple[Decimal, str], ...] = ((total, document_row.currency),)
            first_day = last_day = _day(document_row.day)
        else:
            sums: dict[str, Decimal] = {}
            for group in mine:
                if group.total is not None and group.currency:
                    sums[group.currency] = sums.get(group.currency, Decimal(0)) + group.total
            amounts = tuple((value, currency) for currency, value in sorted(sums.items()))
            days = [day for group in mine for day in (_day(group.first_day), _day(group.last_day)) if day]
            first_day, last_day = (min(days), max(days)) if days else (None, None)
        summaries[row.id] = ItemSummary(
            document_label=vocabulary.document_label(row.document_type),
            system_label=vocabulary.system_label,
            employee=employees[0] if employees else None,
            other_employees=max(len(employees) - 1, 0),
            report=reports[0] if reports else None,
            other_reports=max(len(reports) - 1, 0),
            amounts=amounts,
            first_day=first_day,
            last_day=last_day,
            expenses=sum(group.expenses for group in mine),
            missing_mappings=missing,
        )
    return summaries
