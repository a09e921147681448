"""The export settings form read back: what the admin typed as a settings body, checked as a whole, and every
problem found — a pydantic error's `loc`, a refused change's `path: …` prefix, a cross-field conflict naming the
setting to change — placed beside the control it is about (the rest for the top of the form).
"""

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from dashboard.pages.setup_settings_form import (
    DEFAULT_FIELDS,
    FUNDS,
    SCALAR_CONTROLS,
    SECTIONS,
    Problem,
    title,
)
from mappings.constants import MAX_DIMENSION_RULES
from mappings.settings import ExportSettings, SettingsConflict

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


def _in_words(message: str) -> str:
    """A message with each setting it names by path named as the form labels it."""
    for name in _MENTIONABLE:
        message = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", f"“{title(name)}”", message)
    return message


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
        text = _where_in_rules(path) + _in_words(message[:1].upper() + message[1:])
        if control is None:
            placed.unplaced.append(f"{title(path)}: {text}" if path else text)
        else:
            placed.by_control.setdefault(control, [])
            if text not in placed.by_control[control]:
                placed.by_control[control].append(text)
    return placed
