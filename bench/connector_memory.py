"""Peak memory of streaming Fyle expenses through the connector, beside plain httpx reading the same pages.

The sandbox runs as its own uvicorn process, so the 100,000 expenses it holds do not count. Every measurement runs
in a fresh subprocess of this module, so one run's peak cannot hide inside another's. Both kinds of child import
the same modules; the baseline fetches the same pages (offset/limit 200, oldest first), parses them and discards
them. The ratio is therefore what the connector itself adds (OAuth2 flow, paginator, classification, `SourceItem`s),
and a flat peak from 10,000 to 100,000 records shows that only one page is ever held.

    .venv/bin/python -m bench.connector_memory [--sizes 10000 100000] [--json PATH]
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.sandbox_capacity import fyle_token, served
from connectors.auth import OAuth2Auth, OAuth2Client, OAuth2Tokens, Refresher
from connectors.base import ConnectorContext
from connectors.fyle import FyleConnector
from connectors.fyle.constants import LIST_ORDER
from connectors.http import build_client
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, FYLE_SANDBOX_REFRESH_TOKEN

DEFAULT_SIZES = (10_000, 100_000)
MODES = ("baseline", "connector")
CHILD_TIMEOUT_SECONDS = 1800
KIB_PER_MIB = 1024
"""`ru_maxrss` is in KiB on Linux."""
SPEC = FyleConnector.spec


class MemoryTokenStore:
    """One process's tokens, expired from the start so the first call refreshes as a fresh worker's would."""

    def __init__(self) -> None:
        self._tokens = OAuth2Tokens("", FYLE_SANDBOX_REFRESH_TOKEN, datetime.now(UTC))

    async def current(self) -> OAuth2Tokens:
        return self._tokens

    async def refreshed(self, stale_access_token: str, refresh: Refresher) -> OAuth2Tokens:
        if self._tokens.access_token == stale_access_token:
            self._tokens = await refresh(self._tokens.refresh_token)
        return self._tokens


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / KIB_PER_MIB


async def stream_with_connector(sandbox_url: str) -> int:
    urls = {name: SPEC.url(name, sandbox_base=sandbox_url) for name in SPEC.urls}
    assert SPEC.auth.oauth2 is not None
    client = OAuth2Client(
        SPEC.auth.oauth2,
        client_id=FYLE_SANDBOX_CLIENT_ID,
        client_secret=FYLE_SANDBOX_CLIENT_SECRET,
        token_url=urls["token"],
        authorize_url=urls["authorize"],
        http=build_client(),
    )
    auth = OAuth2Auth(MemoryTokenStore(), client)
    connector = FyleConnector(
        ConnectorContext(tenant_id=uuid.uuid4(), connection_id=uuid.uuid4(), urls=urls, auth=auth)
    )
    records = 0
    async with connector:
        async for _ in connector.stream("expenses", since=None):
            records += 1
    return records


async def stream_with_httpx(sandbox_url: str, access_token: str) -> int:
    headers = {"Authorization": f"Bearer {access_token}"}
    page_size = SPEC.pagination.page_size
    records = 0
    async with httpx.AsyncClient(base_url=SPEC.url("api", sandbox_base=sandbox_url), timeout=60) as client:
        while True:
            params: dict[str, str | int] = {"order": LIST_ORDER, "offset": records, "limit": page_size}
            response = await client.get("/admin/expenses", params=params, headers=headers)
            response.raise_for_status()
            page = response.json()["data"]
            records += len(page)
            if len(page) < page_size:
                return records


def child(mode: str, sandbox_url: str) -> None:
    """Measure one stream in this process and print one JSON line."""
    before = peak_rss_mb()
    started = time.perf_counter()
    if mode == "connector":
        records = asyncio.run(stream_with_connector(sandbox_url))
    else:
        records = asyncio.run(stream_with_httpx(sandbox_url, fyle_token(sandbox_url)))
    figures = {
        "mode": mode,
        "records": records,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "rss_before_stream_mb": round(before, 1),
        "seconds": round(time.perf_counter() - started, 2),
    }
    print(json.dumps(figures))


def measure(mode: str, sandbox_url: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.connector_memory", "--child", mode, "--sandbox-url", sandbox_url]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        cwd=Path(__file__).parent.parent,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def fill(sandbox_url: str, expenses: int) -> None:
    """Reset the sandbox to its seed and top the expenses up to exactly `expenses`."""
    with httpx.Client(base_url=f"{sandbox_url}/_sandbox", timeout=600) as control:
        control.post("/reset", json={}).raise_for_status()
        seeded = control.get("/fyle/counts").json()["expenses"]
        control.post("/fyle/generate", json={"expenses": expenses - seeded}).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(DEFAULT_SIZES))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--sandbox-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.sandbox_url)
        return

    rows = []
    with served("sandbox.asgi:app") as sandbox_url:
        for size in args.sizes:
            fill(sandbox_url, size)
            baseline, streamed = (measure(mode, sandbox_url) for mode in MODES)
            assert baseline["records"] == streamed["records"] == size, (baseline, streamed)
            rows.append(
                {
                    "records": size,
                    "peak_rss_mb": streamed["peak_rss_mb"],
                    "baseline_mb": baseline["peak_rss_mb"],
                    "ratio": round(streamed["peak_rss_mb"] / baseline["peak_rss_mb"], 3),
                    "rss_before_stream_mb": streamed["rss_before_stream_mb"],
                    "baseline_rss_before_stream_mb": baseline["rss_before_stream_mb"],
                    "seconds": streamed["seconds"],
                    "baseline_seconds": baseline["seconds"],
                }
            )

    print(f"{'records':>9} {'peak RSS MB':>12} {'baseline MB':>12} {'ratio':>6} {'seconds':>8} {'baseline s':>11}")
    for row in rows:
        print(
            f"{row['records']:>9,} {row['peak_rss_mb']:>12.1f} {row['baseline_mb']:>12.1f} {row['ratio']:>6.2f} "
            f"{row['seconds']:>8.1f} {row['baseline_seconds']:>11.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "connector_memory", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
