"""What every wire route shares: the state and token dependencies, body parsing and the list response."""

import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from starlette.responses import JSONResponse, Response

from sandbox.fyle.collection import Collection, Record
from sandbox.fyle.errors import BadRequest
from sandbox.fyle.filters import Fields, QueryError, parse_list_query
from sandbox.fyle.listing import run_query
from sandbox.fyle.oauth import AccessGrant
from sandbox.fyle.state import FyleState

R = TypeVar("R", bound=Record)


def get_state(request: Request) -> FyleState:
    state: FyleState = request.app.state.fyle
    return state


StateDep = Annotated[FyleState, Depends(get_state)]


def get_grant(state: StateDep, authorization: Annotated[str | None, Header()] = None) -> AccessGrant:
    return state.oauth.authenticate(authorization)


GrantDep = Annotated[AccessGrant, Depends(get_grant)]
"""The caller's access grant; every admin route requires it (401 `{"message": "invalid token"}` otherwise)."""


def public_base(request: Request) -> str:
    """This simulator's own base URL as the client sees it (`http://host:port/fyle`), for URLs it hands out."""
    return f"{request.url.scheme}://{request.url.netloc}{request.scope.get('root_path', '')}"


async def json_body(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadRequest("request body must be JSON") from None


async def data_of(request: Request) -> Any:
    """The `data` member every admin write wraps its payload in."""
    body = await json_body(request)
    if not isinstance(body, dict) or "data" not in body:
        raise BadRequest("request body must be an object with a data key")
    return body["data"]


async def data_list(request: Request) -> list[Any]:
    data = await data_of(request)
    if not isinstance(data, list):
        raise BadRequest("data must be an array")
    return data


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


def list_response(
    request: Request, collection: Collection[R], fields: Fields[R], render: Callable[[R], dict[str, Any]]
) -> Response:
    """`{"count", "offset", "data"}`, the shape of every list in the spec.

    Each record is encoded as soon as it is rendered: its dozens of small dicts then die young instead of living
    until the whole page is encoded, which would promote them and trigger full garbage collections over every
    stored record (that doubled the cost of a page with 100,000 expenses in memory).
    """
    try:
        query = parse_list_query(request.query_params.multi_items(), fields)
    except QueryError as error:
        raise BadRequest(str(error)) from None
    count, page = run_query(collection, query, fields)
    data = b",".join(_encode(render(record)) for record in page)
    body = b'{"count":%d,"offset":%d,"data":[%b]}' % (count, query.offset, data)
    return Response(body, media_type="application/json")


def empty_ok() -> JSONResponse:
    """The spec gives bulk writes a 200 with no schema; `{}` keeps clients that parse every 200 (the SDK) happy."""
    return JSONResponse({})
