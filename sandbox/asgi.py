"""`uvicorn sandbox.asgi:app`: every simulator with the default seed (benchmarks, containers)."""

from sandbox.app import Sandbox

app = Sandbox().asgi()
