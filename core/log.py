"""JSON logs carrying request, tenant, run and item ids, with secrets redacted before anything is written.

Two kinds of secrets are redacted: fields whose names say so (`password`, `token`, …), and secrets in text wherever
they appear, in any field or in a line's text (uvicorn's access log writes the path with its query): a webhook URL's
connection key, an OAuth callback's `code` and `state`, and the value after `password=` or the like
(`REDACTED_TEXT_PARTS`).

Ids are bound with `bind_context(...)` (structlog contextvars), so every line logged while handling a request or a
job carries them. Standard-library loggers (uvicorn, arq, alembic) go through the same processors.
"""

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog

from core.constants import REDACTED, REDACTED_TEXT_PARTS, SECRET_FIELD_MARKERS

bind_context = structlog.contextvars.bind_contextvars
clear_context = structlog.contextvars.clear_contextvars
get_logger = structlog.stdlib.get_logger

_TEXT_PARTS = tuple((re.compile(pattern), replacement) for pattern, replacement in REDACTED_TEXT_PARTS)


def redact_text(text: str) -> str:
    """`text` without the secrets written in it."""
    for pattern, replacement in _TEXT_PARTS:
        text = pattern.sub(replacement, text)
    return text


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(marker in lowered for marker in SECRET_FIELD_MARKERS)


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking field replaced, at any depth."""
    if isinstance(value, Mapping):
        return {key: REDACTED if is_secret_field(str(key)) else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def _redact_processor(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    return {key: REDACTED if is_secret_field(key) else redact(item) for key, item in event.items()}


def configure_logging(*, level: str = "INFO", json: bool = True) -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        # The traceback is rendered to text first, so the redaction reads it too: an exception's message may quote a
        # webhook URL or a callback's query.
        structlog.processors.format_exc_info,
        _redact_processor,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "arq"):
        # Whoever configured these before (uvicorn's own defaults do) may have silenced or detached them.
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
