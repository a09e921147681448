"""The baseline for simulator capacity: the same HTTP stack answering canned bodies, with no simulation behind it.

The benchmark first captures one real answer of each simulator scenario into `BENCH_BODIES_DIR`; this server
replays those bytes, so the ratio shows what the simulators' own logic costs for bodies of the same size.
Run as `BENCH_BODIES_DIR=… uvicorn bench.baseline_server:app`.
"""

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODIES = Path(os.environ.get("BENCH_BODIES_DIR", "."))


async def canned(request: Request) -> Response:
    await request.body()
    path = BODIES / request.path_params["name"]
    media_type = "application/xml" if path.suffix == ".xml" else "application/json"
    return Response(path.read_bytes(), media_type=media_type)


async def ready(request: Request) -> Response:
    return Response(b"ok")


app = Starlette(routes=[Route("/", ready), Route("/{name}", canned, methods=["GET", "POST"])])
