"""`/v1` bodies are JSON: a body sent as anything else is answered 415, naming the media type to use.

FastAPI reads a body it cannot treat as JSON as raw bytes, and the route's model then refused it with a 422 about
"a valid dictionary", which sends a client looking at its fields instead of its `Content-Type`.
"""

from email.message import Message

from starlette.types import ASGIApp, Receive, Scope, Send

from api.constants import JSON_API_PATH_PREFIX
from web.problems import problem_response


def is_json_media_type(content_type: str) -> bool:
    """`application/json` or any `application/*+json`, with or without parameters."""
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


class JsonBodyMiddleware:
    """Runs inside the body limit, which has already read (and bounded) the body into the scope."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body: bytes = scope.get("state", {}).get("raw_body", b"") if scope["type"] == "http" else b""
        if not body or not scope["path"].startswith(JSON_API_PATH_PREFIX):
            await self.app(scope, receive, send)
            return
        content_type = next((value for key, value in scope["headers"] if key == b"content-type"), b"")
        if is_json_media_type(content_type.decode("latin-1")):
            await self.app(scope, receive, send)
            return
        shown = content_type.decode("latin-1") or "no Content-Type"
        response = problem_response(
            415,
            f"The body must be JSON, sent with `Content-Type: application/json` (this one came as {shown}).",
            problem="unsupported-media-type",
            title="Unsupported Media Type",
            instance=scope["path"],
        )
        await response(scope, receive, send)
