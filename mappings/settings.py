"""Export settings: how a tenant's expenses become documents in one destination. Validated as a whole.

Rules that span fields (a card transaction needs a default card account, a journal entry an account to credit…)
are checked here, so a setting that could only fail at export time is refused on save. What depends on the
destination (its attribute types, the counterparty types each document takes) is checked on save against its
vocabulary (`settings_store.destination_problems`), and destination ids in `defaults` (the attributes'
`remote_id`s) against its attributes.
"""

import re
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.domain import DocumentKind
from mappings.constants import (
    ATTRIBUTE_TYPE_PATTERN,
    DEFAULT_EXPORTABLE_STATES,
    MAX_DIMENSION_RULES,
    MAX_GROUP_FIELDS,
    MAX_SKIP_RULES,
    MEMO_TEMPLATE_MAX_LENGTH,
    Fund,
)
from mappings.expense_fields import is_groupable
from mappings.memo import DOCUMENT_PLACEHOLDERS, LINE_PLACEHOLDERS, MemoTemplate, parse_template
from mappings.skip_rules import SkipRule
from mappings.vocabulary import is_dimension_source

_ATTRIBUTE_TYPE = re.compile(ATTRIBUTE_TYPE_PATTERN)

DateRule = Literal["spent", "approved", "last_spent", "posted", "export_day"]
"""Which date a document carries: the expense's spend, approval or (cards) bank-posting date, the latest spend
date of the group, or the day of the export. `spent`, `approved` and `posted` also split groups by that date,
so that every document has one date that is true of all its lines."""

ReimbursableExportType = Literal["expense_report", "bill", "journal_entry", "check"]
CardExportType = Literal["charge_card_transaction", "bill", "journal_entry", "expense_report"]


class SettingsConflict(ValueError):
    """Settings whose fields contradict each other: every problem at once, each naming the setting to change, so
    a form can show each beside its field (the message joins them, as before)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = tuple(problems)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Grouping(_Strict):
    by: Literal["report", "expense"] = Field(
        default="report", description="One document per report, or one per expense."
    )
    fields: list[str] = Field(
        default_factory=list,
        max_length=MAX_GROUP_FIELDS,
        description="Further expense fields that split a report (project, category, spent_on, custom:<NAME>, …).",
    )

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: list[str]) -> list[str]:
        unknown = [name for name in fields if not is_groupable(name)]
        if unknown:
            raise ValueError(f"cannot group by {', '.join(unknown)}")
        if len(set(fields)) != len(fields):
            raise ValueError("a grouping field is listed twice")
        return fields


class _FundSettings(_Strict):
    grouping: Grouping = Field(default_factory=Grouping)
    date: DateRule = Field(
        default="spent",
        description="The date each document carries: the spend, approval or card posting date of its expenses, "
        "the latest spend date, or the day of the export.",
    )
    expense_states: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXPORTABLE_STATES),
        min_length=1,
        description="Expense states that may be exported (compared case-insensitively).",
    )
    report_states: list[str] = Field(
        default_factory=list, description="Report states that may be exported; empty means any."
    )


class ReimbursableSettings(_FundSettings):
    export_type: ReimbursableExportType = Field(
        default="expense_report", description="The kind of document reimbursable expenses become."
    )


class CardSettings(_FundSettings):
    export_type: CardExportType = Field(
        default="charge_card_transaction", description="The kind of document corporate-card expenses become."
    )
    grouping: Grouping = Field(default_factory=lambda: Grouping(by="expense"))


def _not_a_source(source: str) -> str:
    return f"{source!r} is not a source dimension (project, cost_center, department, custom:<NAME>)"


class EntityRouting(_Strict):
    """Post each document in the destination entity its expenses' `source` value is mapped to (mappings of type
    `entity`). Documents then split by that value, and an expense without one, or whose value is not mapped, waits
    for a mapping."""

    source: str = Field(description="project, cost_center, department or custom:<NAME>")

    @field_validator("source")
    @classmethod
    def _source(cls, source: str) -> str:
        if not is_dimension_source(source):
            raise ValueError(_not_a_source(source))
        return source


class DimensionRule(_Strict):
    """Carry a source dimension onto document lines as a destination dimension (cost center → department)."""

    source: str = Field(description="project, cost_center, department or custom:<NAME>")
    destination: str = Field(
        pattern=ATTRIBUTE_TYPE_PATTERN,
        description="A line dimension of the destination (one of its attribute types, or a user-defined dimension).",
    )

    @model_validator(mode="after")
    def _types(self) -> Self:
        if not is_dimension_source(self.source):
            raise ValueError(_not_a_source(self.source))
        return self


class Defaults(_Strict):
    """Destination ids (`remote_id`) used when no mapping says otherwise."""

    dimensions: dict[str, str] = Field(
        default_factory=dict, description="Line dimension of the destination → remote id."
    )
    charge_card_account: str | None = Field(default=None, description="Card transactions, unless the card is mapped.")
    journal_credit_account: str | None = Field(
        default=None, description="GL account credited by reimbursable journal entries (AP or employee payable)."
    )
    journal_card_credit_account: str | None = Field(
        default=None, description="GL account credited by card journal entries, unless the card is mapped."
    )
    card_vendor: str | None = Field(default=None, description="Vendor of card expenses exported as bills.")
    payment_account: str | None = Field(
        default=None, description="Bank account that pays bills and reports, and that checks are written from."
    )

    @field_validator("dimensions")
    @classmethod
    def _dimension_types(cls, dimensions: dict[str, str]) -> dict[str, str]:
        malformed = [name for name in dimensions if not _ATTRIBUTE_TYPE.match(name)]
        if malformed:
            raise ValueError(f"{', '.join(map(repr, malformed))} cannot name a destination dimension")
        return dimensions


class AutoMapRules(_Strict):
    employees: Literal["email", "name", "code"] | None = Field(
        default=None,
        description="Map each new employee to the one destination counterparty with the same e-mail, name or code; "
        "None: only by hand.",
    )
    categories: Literal["name", "code"] | None = Field(
        default=None,
        description="Map each new category to the one destination value with the same name or code; None: only by "
        "hand.",
    )


class MemoSettings(_Strict):
    """By default a line names its expense and a document memo its report, so an auditor can trace each posted line
    back to the source (the document's own reference field holds the item's `ll-…` reference)."""

    line: str = Field(
        default="{expense_id} - {employee_email} - {category} - {spent_on}",
        max_length=MEMO_TEMPLATE_MAX_LENGTH,
        description="The description of each line, from {placeholders} of its expense.",
    )
    document: str = Field(
        default="{fund} expenses of {employee_email} - report {report_id}",
        max_length=MEMO_TEMPLATE_MAX_LENGTH,
        description="The memo of each document, from {placeholders} of its expenses.",
    )

    @field_validator("line")
    @classmethod
    def _line(cls, template: str) -> str:
        parse_template(template, LINE_PLACEHOLDERS)
        return template

    @field_validator("document")
    @classmethod
    def _document(cls, template: str) -> str:
        parse_template(template, DOCUMENT_PLACEHOLDERS)
        return template

    def line_template(self) -> MemoTemplate:
        return parse_template(self.line, LINE_PLACEHOLDERS)

    def document_template(self) -> MemoTemplate:
        return parse_template(self.document, DOCUMENT_PLACEHOLDERS)


class ExportSettings(_Strict):
    reimbursable: ReimbursableSettings | None = Field(
        default_factory=ReimbursableSettings, description="None: reimbursable expenses are not exported."
    )
    card: CardSettings | None = Field(default=None, description="None: corporate-card expenses are not exported.")
    employee_as: str | None = Field(
        default=None,
        pattern=ATTRIBUTE_TYPE_PATTERN,
        description="The destination attribute type employees are mapped to (one of its counterparty types, such as "
        "its employees or vendors); None: the first type each document accepts.",
    )
    dimensions: list[DimensionRule] = Field(
        default_factory=list,
        max_length=MAX_DIMENSION_RULES,
        description="Source dimensions carried onto document lines as destination dimensions.",
    )
    defaults: Defaults = Field(
        default_factory=Defaults, description="Destination values used when no mapping says otherwise."
    )
    auto_map: AutoMapRules = Field(
        default_factory=AutoMapRules, description="Which new source values are mapped automatically, and by what."
    )
    memo: MemoSettings = Field(
        default_factory=MemoSettings, description="How line descriptions and document memos are written."
    )
    skip_rules: list[SkipRule] = Field(
        default_factory=list,
        max_length=MAX_SKIP_RULES,
        description="Conditions on expense fields that keep matching expenses out of exports.",
    )
    post_closed_period_to_first_open_day: bool = Field(
        default=False, description="When the period is closed, post on the first day of the open period."
    )
    tax: bool = Field(default=False, description="Carry tax groups (mapped to tax details) onto lines.")
    entity: EntityRouting | None = Field(
        default=None,
        description="Route documents to entities of a multi-entity destination by a source field; None: every "
        "document goes to the entity the connection logs in to.",
    )
    currency: Literal["booked", "original"] = Field(
        default="booked",
        description="Export in the currency the expense is booked in, or in the original (foreign) currency "
        "with its exchange rate.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = [*self._card_problems(), *self._journal_problems()]
        if self.export_type(Fund.REIMBURSABLE) is DocumentKind.CHECK and self.defaults.payment_account is None:
            problems.append("checks need defaults.payment_account (the bank account they are written from)")
        destinations = [rule.destination for rule in self.dimensions]
        if len(set(destinations)) != len(destinations):
            problems.append("dimensions: two rules fill the same destination dimension")
        if self.reimbursable is not None and self.reimbursable.date == "posted":
            problems.append("reimbursable.date: only card expenses have a posted date")
        if problems:
            raise SettingsConflict(problems)
        return self

    def _card_problems(self) -> list[str]:
        problems = []
        card = self.export_type(Fund.CARD)
        if card is DocumentKind.CHARGE_CARD_TRANSACTION:
            if self.defaults.charge_card_account is None:
                problems.append("card transactions need defaults.charge_card_account")
            if self.card is not None and self.card.grouping.by != "expense":
                problems.append("card transactions are one per expense (card.grouping.by = expense)")
        if card is DocumentKind.BILL and self.defaults.card_vendor is None:
            problems.append("card bills need defaults.card_vendor")
        return problems

    def _journal_problems(self) -> list[str]:
        needed = {
            Fund.REIMBURSABLE: ("journal_credit_account", self.defaults.journal_credit_account),
            Fund.CARD: ("journal_card_credit_account", self.defaults.journal_card_credit_account),
        }
        return [
            f"{fund} journal entries need defaults.{name}"
            for fund, (name, account) in needed.items()
            if self.export_type(fund) is DocumentKind.JOURNAL_ENTRY and account is None
        ]

    def fund(self, fund: Fund) -> ReimbursableSettings | CardSettings | None:
        return self.reimbursable if fund is Fund.REIMBURSABLE else self.card

    def export_type(self, fund: Fund) -> DocumentKind | None:
        """The document kind a fund's expenses become, or None when that fund is not exported."""
        settings = self.fund(fund)
        return DocumentKind(settings.export_type) if settings is not None else None
