"""Text PostgreSQL cannot store is refused at the door, naming the field, before any route or storage sees it.

JSON's `\\u0000` escape parses into a NUL character and `\\ud800` into half a UTF-16 surrogate pair; a query value
can carry `%00`. PostgreSQL refuses both in text and JSONB, so without this check they surfaced as 500s from deep
inside a write. Webhook deliveries are left alone here: their signature is checked over the raw bytes first, and
their handlers read them after that.
"""

import json
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from api.constants import WEBHOOKS_PATH_PREFIX
from web.problems import problem_response

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain a NUL character or an unpaired UTF-16 surrogate"


def _shown(text: str) -> str:
    """The text with each unstorable character written as its escape, so the answer can name it."""
    return UNSTORABLE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def unstorable_field(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first key or string in a parsed JSON value that PostgreSQL could not store."""
    if isinstance(value, str):
        return ".".join(path) or "body" if UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = (*path, _shown(key))
            if UNSTORABLE.search(key):
                return ".".join(here)
            if found := unstorable_field(item, here):
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := unstorable_field(item, (*path, str(index))):
                return found
    return None


def _first_unstorable_pair(pairs: Iterable[tuple[str, str]], location: str) -> str | None:
    for name, value in pairs:
        if UNSTORABLE.search(name) or UNSTORABLE.search(value):
            return f"{location}.{_shown(name)}"
    return None


def _body_field(scope: Scope) -> str | None:
    body: bytes = scope.get("state", {}).get("raw_body", b"")
    if not body:
        return None
    content_type = next((value for key, value in scope["headers"] if key == b"content-type"), b"").lower()
    if b"json" in content_type:
        try:
            return unstorable_field(json.loads(body))
        except ValueError:  # not JSON (or not UTF-8): the route's own parsing answers it
            return None
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        return _first_unstorable_pair(parse_qsl(body.decode("latin-1"), keep_blank_values=True), "form")
    return None


class StorableTextMiddleware:
    """Runs inside the body limit, which has already read (and bounded) the body into the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(WEBHOOKS_PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        field = (
            _first_unstorable_pair(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True), "query")
            or _first_unstorable_pair(
                ((key.decode("latin-1"), value.decode("latin-1")) for key, value in scope["headers"]), "header"
            )
            or _body_field(scope)
        )
        if field is None:
            await self.app(scope, receive, send)
            return
        response = problem_response(
            422,
            f"The request is not valid: {field}: {UNSTORABLE_MESSAGE}.",
            problem="validation-failed",
            title="Validation failed",
            instance=scope["path"],
            errors=[{"field": field, "message": UNSTORABLE_MESSAGE, "type": "unstorable_text"}],
        )
        await response(scope, receive, send)
