"""The baseline for simulator capacity: the same HTTP stack answering canned bodies, with no simulation behind it.

Run as `uvicorn bench.baseline_server:app`. A simulator's ratio against this shows what its own logic costs.
"""

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LIST_BODY = json.dumps(
    {"count": 10_000, "offset": 0, "data": [{"id": f"tx{index:06d}", "amount": "12.50"} for index in range(200)]}
).encode()
XML_BODY = b"<response>" + b"<GLACCOUNT><ACCOUNTNO>6000</ACCOUNTNO></GLACCOUNT>" * 100 + b"</response>"


async def list_json(request: Request) -> Response:
    return Response(LIST_BODY, media_type="application/json")


async def create_json(request: Request) -> Response:
    payload = json.loads(await request.body())
    return Response(json.dumps({"data": payload}), media_type="application/json")


async def xml(request: Request) -> Response:
    await request.body()
    return Response(XML_BODY, media_type="application/xml")


app = Starlette(
    routes=[
        Route("/list", list_json, methods=["GET"]),
        Route("/create", create_json, methods=["POST"]),
        Route("/xml", xml, methods=["POST"]),
    ]
)
