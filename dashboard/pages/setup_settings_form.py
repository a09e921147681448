"""The export settings as a form: every setting a control named by its path in the settings (`card.export_type`,
`defaults.card_vendor`, `dimensions.0.source`), so a problem naming a setting names its control
(`setup_settings_checks` places them).

What a control offers comes from the destination (its spec's export kinds, its vocabulary's types and labels), and
each one-line explanation from the settings model's own `Field(description=…)`.
"""

import json
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from core.domain import DocumentKind
from mappings.constants import DIMENSION_SOURCES, MAX_DIMENSION_RULES, Fund
from mappings.settings import CardSettings, ExportSettings, ReimbursableSettings

FUNDS = (Fund.REIMBURSABLE, Fund.CARD)
FUND_FIELDS = ("export_type", "grouping.by", "grouping.fields", "date", "expense_states", "report_states")
DEFAULT_FIELDS = (
    "charge_card_account",
    "journal_credit_account",
    "journal_card_credit_account",
    "card_vendor",
    "payment_account",
)
SCALAR_CONTROLS = (
    *(f"{fund}.{name}" for fund in FUNDS for name in FUND_FIELDS),
    "employee_as",
    *(f"defaults.{name}" for name in DEFAULT_FIELDS),
    "entity.source",
    "memo.line",
    "memo.document",
    "auto_map.employees",
    "auto_map.categories",
    "currency",
    "post_closed_period_to_first_open_day",
    "tax",
    "skip_rules",
)
SECTIONS = ("dimensions", "defaults.dimensions")
"""Settings shown as rows, with a place for the problems of the whole list."""
CHECKBOXES = frozenset({"post_closed_period_to_first_open_day", "tax"})
ROW_CONTROL = re.compile(r"^(dimensions\.\d+\.(source|destination)|defaults\.dimensions\.\d+\.(type|value))$")
BLANK_ROWS = 2
"""Empty rows offered below the saved ones (a form cannot add rows without a script)."""

TITLES: dict[str, str] = {
    "reimbursable": "Reimbursable expenses",
    "card": "Corporate-card expenses",
    "export_type": "Export as",
    "grouping.by": "One document per",
    "grouping.fields": "Also split by",
    "date": "Document date",
    "expense_states": "Expense states to export",
    "report_states": "Report states to export",
    "employee_as": "Employees are",
    "defaults.charge_card_account": "Charge-card account",
    "defaults.journal_credit_account": "Journal credit account (reimbursable)",
    "defaults.journal_card_credit_account": "Journal credit account (card)",
    "defaults.card_vendor": "Vendor of card bills",
    "defaults.payment_account": "Paying bank account",
    "defaults.dimensions": "Default line dimensions",
    "defaults": "Defaults",
    "dimensions": "Dimension rules",
    "entity.source": "Route documents to entities by",
    "entity": "Entity routing",
    "memo.line": "Line description",
    "memo.document": "Document memo",
    "memo": "Memos",
    "auto_map.employees": "Auto-map employees by",
    "auto_map.categories": "Auto-map categories by",
    "auto_map": "Auto-map",
    "currency": "Currency",
    "post_closed_period_to_first_open_day": "Post closed-period documents on the first open day",
    "tax": "Export tax",
    "skip_rules": "Skip rules",
}
ROW_PARTS = {
    "source": "source dimension",
    "destination": "destination dimension",
    "type": "line dimension",
    "value": "value",
}
DATE_LABELS = {
    "spent": "Spend date",
    "approved": "Approval date",
    "last_spent": "Latest spend date of its expenses",
    "posted": "Card posting date",
    "export_day": "Day of the export",
}
GROUPING_LABELS = {"report": "Report", "expense": "Expense"}
MATCH_LABELS = {"email": "E-mail", "name": "Name", "code": "Code"}
CURRENCY_LABELS = {"booked": "As booked", "original": "Original (foreign) currency, with its rate"}

Problem = tuple[str, str]
"""(setting path or "", message)."""


def title(path: str) -> str:
    """A setting's name for people: `card.export_type` is "Corporate-card expenses: Export as"."""
    if path in TITLES:
        return TITLES[path]
    row = re.match(r"^(dimensions|defaults\.dimensions)\.(\d+)\.(\w+)$", path)
    if row:
        section, number, part = row.groups()
        what = "Dimension rule" if section == "dimensions" else "Default line dimension"
        return f"{what} {int(number) + 1}: {ROW_PARTS.get(part, part)}"
    head, _, rest = path.partition(".")
    if head in ("reimbursable", "card") and rest:
        return f"{TITLES[head]}: {TITLES.get(rest, rest)}"
    return path


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside an annotation (`CardSettings | None`, `list[DimensionRule]`), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is not None:
        for argument in typing.get_args(annotation):
            found = _model_of(argument)
            if found is not None:
                return found
    return None


def description(path: str) -> str:
    """The settings model's one-line explanation of the setting at `path` (row indexes skipped); "" if none."""
    model: type[BaseModel] | None = ExportSettings
    text = ""
    for part in path.split("."):
        if part.isdigit():
            continue
        if model is None or part not in model.model_fields:
            return ""
        info = model.model_fields[part]
        text = info.description or ""
        model = _model_of(info.annotation)
    return text


def explained(path: str) -> tuple[str, str]:
    """(the explanation, what leaving it empty means): a description's `; None: …` tail names the empty choice."""
    text, _, empty = description(path).partition("; None: ")
    if not empty and text.startswith("None: "):
        return "", text.removeprefix("None: ")
    if empty and text and not text.endswith("."):
        text += "."
    return text, empty.rstrip(".").capitalize()


def control_id(name: str) -> str:
    return "s-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


# Choices -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str


def export_type_options(
    creates: Mapping[Fund, Sequence[DocumentKind]], fund: Fund, vocabulary: DestinationVocabulary
) -> list[Option]:
    """ "Not exported", then the kinds the destination creates for `fund`, in the words of its spec."""
    kinds = creates.get(fund, ())
    return [Option("", "Not exported"), *(Option(kind.value, vocabulary.document_label(kind.value)) for kind in kinds)]


def employee_options(creates: Mapping[Fund, Sequence[DocumentKind]], vocabulary: DestinationVocabulary) -> list[Option]:
    """The counterparty types the documents this destination creates name employees as."""
    kinds = dict.fromkeys(kind for fund in FUNDS for kind in creates.get(fund, ()))
    offered = dict.fromkeys(name for kind in kinds for name in vocabulary.counterparty_types(kind))
    return [Option(name, vocabulary.label(name)) for name in offered]


def line_dimension_options(vocabulary: DestinationVocabulary) -> list[Option]:
    return [Option(name, vocabulary.label(name)) for name in vocabulary.types_with(AttributeRole.LINE_DIMENSION)]


def source_options() -> list[Option]:
    return [Option(str(source), str(source).replace("_", " ")) for source in sorted(DIMENSION_SOURCES)]


def _literal_options(model: type[BaseModel], name: str, labels: Mapping[str, str]) -> list[Option]:
    annotation = model.model_fields[name].annotation
    values: list[str] = []
    stack = [annotation]
    while stack:
        current = stack.pop(0)
        if typing.get_origin(current) is typing.Literal:
            values += [str(value) for value in typing.get_args(current)]
        else:
            stack += [argument for argument in typing.get_args(current) if argument is not type(None)]
    return [Option(value, labels.get(value, value)) for value in values]


def fixed_options() -> dict[str, list[Option]]:
    """The choices the settings model itself closes: dates, grouping, auto-map rules, currency."""
    from mappings.settings import AutoMapRules, Grouping

    return {
        "date": _literal_options(ReimbursableSettings, "date", DATE_LABELS),
        "grouping.by": _literal_options(Grouping, "by", GROUPING_LABELS),
        "auto_map.employees": _literal_options(AutoMapRules, "employees", MATCH_LABELS),
        "auto_map.categories": _literal_options(AutoMapRules, "categories", MATCH_LABELS),
        "currency": _literal_options(ExportSettings, "currency", CURRENCY_LABELS),
    }


# Settings → form values --------------------------------------------------------------------------------------------


def _joined(values: Iterable[str]) -> str:
    return ", ".join(values)


def form_values(settings: ExportSettings, shown_defaults: Mapping[str, str]) -> dict[str, str]:
    """The controls' values for `settings`; `shown_defaults` gives each default's text (its attribute as people
    read it) by setting path, and the value of each default line dimension by `defaults.dimensions.<type>`."""
    values: dict[str, str] = {}
    blanks = {Fund.REIMBURSABLE: ReimbursableSettings(), Fund.CARD: CardSettings()}
    for fund in FUNDS:
        chosen = settings.fund(fund)
        shown = chosen if chosen is not None else blanks[fund]
        values[f"{fund}.export_type"] = chosen.export_type if chosen is not None else ""
        values[f"{fund}.grouping.by"] = shown.grouping.by
        values[f"{fund}.grouping.fields"] = _joined(shown.grouping.fields)
        values[f"{fund}.date"] = shown.date
        values[f"{fund}.expense_states"] = _joined(shown.expense_states)
        values[f"{fund}.report_states"] = _joined(shown.report_states)
    values["employee_as"] = settings.employee_as or ""
    for name in DEFAULT_FIELDS:
        path = f"defaults.{name}"
        remote_id = getattr(settings.defaults, name)
        values[path] = shown_defaults.get(path, remote_id) if remote_id is not None else ""
    for index, rule in enumerate(settings.dimensions):
        values[f"dimensions.{index}.source"] = rule.source
        values[f"dimensions.{index}.destination"] = rule.destination
    for index, (kind, remote_id) in enumerate(settings.defaults.dimensions.items()):
        values[f"defaults.dimensions.{index}.type"] = kind
        values[f"defaults.dimensions.{index}.value"] = shown_defaults.get(f"defaults.dimensions.{kind}", remote_id)
    values["entity.source"] = settings.entity.source if settings.entity is not None else ""
    values["memo.line"] = settings.memo.line
    values["memo.document"] = settings.memo.document
    values["auto_map.employees"] = settings.auto_map.employees or ""
    values["auto_map.categories"] = settings.auto_map.categories or ""
    values["currency"] = settings.currency
    values["post_closed_period_to_first_open_day"] = "on" if settings.post_closed_period_to_first_open_day else ""
    values["tax"] = "on" if settings.tax else ""
    rules = [rule.model_dump(mode="json", exclude_defaults=True) for rule in settings.skip_rules]
    values["skip_rules"] = json.dumps(rules, indent=2, ensure_ascii=False) if rules else ""
    return values


def submitted_values(form: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """The settings controls of a posted form, as typed (anything else it carries is left out)."""
    values = {name: "" for name in CHECKBOXES}
    for name, value in form:
        if (name in SCALAR_CONTROLS or ROW_CONTROL.match(name)) and isinstance(value, str):
            values[name] = value if name in ("memo.line", "memo.document", "skip_rules") else value.strip()
    return values


def row_count(values: Mapping[str, str], section: str) -> int:
    """Rows to show for a list setting: every row given, then `BLANK_ROWS` empty ones (within the model's limit)."""
    pattern = re.compile(rf"^{re.escape(section)}\.(\d+)\.")
    used = [int(found.group(1)) + 1 for name, text in values.items() if text and (found := pattern.match(name))]
    return min(max(used, default=0) + BLANK_ROWS, MAX_DIMENSION_RULES)


def controls_of(values: Mapping[str, str]) -> list[str]:
    """Every control of the form showing `values`, in the order it shows them."""
    rows = [
        f"{section}.{row}.{part}"
        for section, parts in (("dimensions", ("source", "destination")), ("defaults.dimensions", ("type", "value")))
        for row in range(row_count(values, section))
        for part in parts
    ]
    return [*SCALAR_CONTROLS, *rows]
