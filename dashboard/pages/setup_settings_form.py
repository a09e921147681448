"""The export settings as a form: every setting a control named by its path in the settings (`card.export_type`,
`defaults.card_vendor`, `dimensions.0.source`), so that each problem found on save — a pydantic error's `loc`, a
refused change's `path: …` prefix, a cross-field conflict naming the setting to change — lands beside its control.

What a control offers comes from the destination (its spec's export kinds, its vocabulary's types and labels), and
each one-line explanation from the settings model's own `Field(description=…)`.
"""

import json
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from core.destination_vocabulary import AttributeRole, DestinationVocabulary
from core.domain import DocumentKind
from mappings.constants import DIMENSION_SOURCES, MAX_DIMENSION_RULES, Fund
from mappings.settings import CardSettings, ExportSettings, ReimbursableSettings, SettingsConflict

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


def kind_label(kind: DocumentKind) -> str:
    return kind.value.replace("_", " ").capitalize()


def export_type_options(creates: Mapping[Fund, Sequence[DocumentKind]], fund: Fund) -> list[Option]:
    return [Option("", "Not exported"), *(Option(kind.value, kind_label(kind)) for kind in creates.get(fund, ()))]


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


# Form values → settings --------------------------------------------------------------------------------------------


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@dataclass
class ParsedForm:
    """The settings body a form describes, with what points back at its controls."""

    body: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    dimension_rows: list[int] = field(default_factory=list)
    """The form row of each dimension rule, in list order (empty rows are left out)."""
    default_dimension_rows: dict[str, int] = field(default_factory=dict)
    """The form row of each default line dimension, by its type."""


def parse_values(values: Mapping[str, str], resolved_defaults: Mapping[str, str]) -> ParsedForm:
    """The settings body of `values`, each default replaced by the remote id it resolved to (`resolved_defaults`,
    by control name; a default that did not resolve goes through as typed: its problem is the resolver's)."""
    parsed = ParsedForm(body={})
    body = parsed.body
    for fund in FUNDS:
        export_type = values.get(f"{fund}.export_type", "")
        body[fund.value] = (
            {
                "export_type": export_type,
                "grouping": {
                    "by": values.get(f"{fund}.grouping.by", ""),
                    "fields": _listed(values.get(f"{fund}.grouping.fields", "")),
                },
                "date": values.get(f"{fund}.date", ""),
                "expense_states": _listed(values.get(f"{fund}.expense_states", "")),
                "report_states": _listed(values.get(f"{fund}.report_states", "")),
            }
            if export_type
            else None
        )
    body["employee_as"] = values.get("employee_as") or None
    rules = []
    for row in range(MAX_DIMENSION_RULES):
        source = values.get(f"dimensions.{row}.source", "")
        destination = values.get(f"dimensions.{row}.destination", "")
        if source or destination:
            rules.append({"source": source, "destination": destination})
            parsed.dimension_rows.append(row)
    body["dimensions"] = rules
    defaults: dict[str, Any] = {}
    for name in DEFAULT_FIELDS:
        path = f"defaults.{name}"
        defaults[name] = resolved_defaults.get(path, values.get(path, "")) or None
    dimensions: dict[str, str] = {}
    for row in range(MAX_DIMENSION_RULES):
        kind = values.get(f"defaults.dimensions.{row}.type", "")
        path = f"defaults.dimensions.{row}.value"
        value = resolved_defaults.get(path, values.get(path, ""))
        if kind or value:
            if not kind or not value:
                missing = "line dimension" if not kind else "value"
                parsed.problems.append(
                    (
                        f"defaults.dimensions.{row}.{'type' if not kind else 'value'}",
                        f"Give a {missing} too, or clear the row.",
                    )
                )
                continue
            if kind in dimensions:
                parsed.problems.append(
                    (f"defaults.dimensions.{row}.type", "This line dimension already has a default.")
                )
                continue
            dimensions[kind] = value
            parsed.default_dimension_rows[kind] = row
    defaults["dimensions"] = dimensions
    body["defaults"] = defaults
    entity = values.get("entity.source", "")
    body["entity"] = {"source": entity} if entity else None
    body["memo"] = {"line": values.get("memo.line", ""), "document": values.get("memo.document", "")}
    body["auto_map"] = {
        "employees": values.get("auto_map.employees") or None,
        "categories": values.get("auto_map.categories") or None,
    }
    body["currency"] = values.get("currency", "")
    body["post_closed_period_to_first_open_day"] = values.get("post_closed_period_to_first_open_day") == "on"
    body["tax"] = values.get("tax") == "on"
    body["skip_rules"] = _skip_rules(values.get("skip_rules", ""), parsed)
    return parsed


def _skip_rules(text: str, parsed: ParsedForm) -> list[Any]:
    if not text.strip():
        return []
    try:
        rules = json.loads(text)
    except json.JSONDecodeError as exc:
        parsed.problems.append(("skip_rules", f"Not valid JSON (line {exc.lineno}, column {exc.colno}): {exc.msg}."))
        return []
    if not isinstance(rules, list):
        parsed.problems.append(("skip_rules", "Give a JSON list of rules: [{…}, {…}]."))
        return []
    return rules


def _problems_of(exc: PydanticValidationError) -> tuple[list[Problem], list[tuple[str | int, ...]]]:
    """Each problem, with the location of every field that failed on its own."""
    problems: list[Problem] = []
    failed: list[tuple[str | int, ...]] = []
    for error in exc.errors():
        cause = (error.get("ctx") or {}).get("error")
        if isinstance(cause, SettingsConflict):
            problems += [("", problem) for problem in cause.problems]
            continue
        problems.append((".".join(str(part) for part in error["loc"]), str(error["msg"]).removeprefix("Value error, ")))
        if error["loc"]:
            failed.append(tuple(error["loc"]))
    return problems, failed


CONFLICTING = re.compile(r"^(reimbursable|card)(\.(export_type|grouping\.by|date))?$|^(defaults|dimensions)(\.|$)")
"""Settings the cross-field rules read: with one of them invalid, those rules would judge a stand-in."""


def _without(body: dict[str, Any], failed: Sequence[tuple[str | int, ...]]) -> dict[str, Any] | None:
    """`body` with each failed field left to its default, so the rules across fields can judge the rest; None when
    a failed field is one those rules read."""
    trimmed: dict[str, Any] = json.loads(json.dumps(body))
    for loc in failed:
        parent: Any = trimmed
        path = [str(part) for part in loc]
        for depth, part in enumerate(loc):
            child = parent.get(part) if isinstance(parent, dict) else None
            if isinstance(child, list) or depth == len(loc) - 1 or not isinstance(child, dict):
                path = path[: depth + 1]
                if CONFLICTING.match(".".join(path)):
                    return None
                if isinstance(parent, dict):
                    parent.pop(part, None)
                break
            parent = child
    return trimmed


def validate(parsed: ParsedForm) -> ExportSettings | None:
    """The settings, or None with every problem found added to `parsed.problems`: the fields' own, and the rules
    across fields judged on the rest (pydantic checks those only once every field is valid)."""
    try:
        return ExportSettings.model_validate(parsed.body)
    except PydanticValidationError as exc:
        problems, failed = _problems_of(exc)
    parsed.problems += problems
    trimmed = _without(parsed.body, failed) if failed else None
    if trimmed is not None:
        try:
            ExportSettings.model_validate(trimmed)
        except PydanticValidationError as again:
            parsed.problems += [problem for problem in _problems_of(again)[0] if not problem[0]]
    return None


# Problems → controls -----------------------------------------------------------------------------------------------

_PATH_PREFIX = re.compile(r"^(?P<path>[a-z_]+(?:\.[A-Za-z0-9_:]+|\[\d+\])*): (?P<message>.+)$", re.DOTALL)
_MENTIONABLE = sorted((name for name in SCALAR_CONTROLS if "." in name or "_" in name), key=len, reverse=True)


def _mentioned(message: str) -> str | None:
    """The setting a message names in passing ("card bills need defaults.card_vendor"), the most specific first."""
    for name in _MENTIONABLE:
        if re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", message):
            return name
    return None


@dataclass
class PlacedProblems:
    by_control: dict[str, list[str]] = field(default_factory=dict)
    unplaced: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.by_control or self.unplaced)

    def count(self) -> int:
        return sum(map(len, self.by_control.values())) + len(self.unplaced)


def _form_path(path: str, parsed: ParsedForm) -> str:
    """A settings path as the form's controls name it: list positions become form rows, `defaults.dimensions.<type>`
    that type's row, and sections with one control that control."""
    path = re.sub(r"\[(\d+)\]", r".\1", path)
    rule = re.match(r"^dimensions\.(\d+)(.*)$", path)
    if rule and int(rule.group(1)) < len(parsed.dimension_rows):
        return f"dimensions.{parsed.dimension_rows[int(rule.group(1))]}{rule.group(2)}"
    default = re.match(r"^defaults\.dimensions\.(.+)$", path)
    if default and default.group(1) in parsed.default_dimension_rows:
        return f"defaults.dimensions.{parsed.default_dimension_rows[default.group(1)]}.value"
    return {"entity": "entity.source"}.get(path, path)


def _control_for(path: str, controls: Sequence[str]) -> str | None:
    if path in controls or path in SECTIONS:
        return path
    above = [name for name in (*controls, *SECTIONS) if path.startswith(name + ".")]
    if above:
        return max(above, key=len)
    below = [name for name in controls if name.startswith(path + ".")]
    if path and below:
        return below[0]
    return None


def _where_in_rules(path: str) -> str:
    """Which skip rule (and condition) a problem is about: they share one box, so the message says."""
    found = re.match(r"^skip_rules\.(\d+)(?:\.conditions\.(\d+))?", path)
    if found is None:
        return ""
    rule, condition = found.groups()
    return f"Rule {int(rule) + 1}" + (f", condition {int(condition) + 1}" if condition else "") + ": "


def place(problems: Iterable[Problem], parsed: ParsedForm, controls: Sequence[str]) -> PlacedProblems:
    """Each problem beside the control it names (by its path, its `path: ` prefix, or a setting it mentions);
    the rest for the top of the form."""
    placed = PlacedProblems()
    for path, message in problems:
        prefixed = _PATH_PREFIX.match(message)
        if prefixed:
            path, message = prefixed.group("path"), prefixed.group("message")
        elif not path:
            path = _mentioned(message) or ""
        control = _control_for(_form_path(path, parsed), controls)
        text = _where_in_rules(path) + message[:1].upper() + message[1:]
        if control is None:
            placed.unplaced.append(f"{title(path)}: {text}" if path else text)
        else:
            placed.by_control.setdefault(control, [])
            if text not in placed.by_control[control]:
                placed.by_control[control].append(text)
    return placed


def controls_of(values: Mapping[str, str]) -> list[str]:
    """Every control of the form showing `values`, in the order it shows them."""
    rows = [
        f"{section}.{row}.{part}"
        for section, parts in (("dimensions", ("source", "destination")), ("defaults.dimensions", ("type", "value")))
        for row in range(row_count(values, section))
        for part in parts
    ]
    return [*SCALAR_CONTROLS, *rows]
