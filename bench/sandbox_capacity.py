"""Simulator capacity: list and create requests per second for each simulator, beside a bare-HTTP baseline.

Both servers run as separate processes (uvicorn, one worker each) and the load comes from this process. The
baseline replays a captured copy of each scenario's real answer over the same HTTP stack, so the ratio is what the
simulator's own logic costs for the same bytes on the wire.

    .venv/bin/python -m bench.sandbox_capacity [--requests 2000] [--concurrency 16]
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from bench.loadgen import LoadResult, RequestFactory, run_load
from sandbox.fyle.constants import FYLE_SANDBOX_CLIENT_ID, FYLE_SANDBOX_CLIENT_SECRET, FYLE_SANDBOX_REFRESH_TOKEN
from sandbox.intacct.constants import SENDER_ID, SENDER_PASSWORD, SINGLE_ENTITY_COMPANY, USER_ID, USER_PASSWORD
from sandbox.server import free_port

STARTUP_SECONDS = 30
GATEWAY = "/intacct/ia/xml/xmlgw.phtml"
FYLE_ADMIN = "/fyle/platform/v1/admin"


@contextmanager
def served(module: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run an ASGI app in its own uvicorn process; yields its base URL once it answers."""
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", module, "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(
        [*command, "--no-access-log"], cwd=Path(__file__).parent.parent, env={**os.environ, **(env or {})}
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{module} did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def intacct_envelope(function: str, session_id: str) -> bytes:
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><request><control><senderid>{SENDER_ID}</senderid>"
        f"<password>{SENDER_PASSWORD}</password><controlid>{uuid.uuid4()}</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication>"
        f"<sessionid>{session_id}</sessionid></authentication><content>"
        f"<function controlid='{uuid.uuid4()}'>{function}</function></content></operation></request>"
    ).encode()


def intacct_session(url: str) -> str:
    login = (
        f"<?xml version='1.0' encoding='UTF-8'?><request><control><senderid>{SENDER_ID}</senderid>"
        f"<password>{SENDER_PASSWORD}</password><controlid>bench</controlid><uniqueid>false</uniqueid>"
        "<dtdversion>3.0</dtdversion></control><operation><authentication><login>"
        f"<userid>{USER_ID}</userid><companyid>{SINGLE_ENTITY_COMPANY}</companyid><password>{USER_PASSWORD}</password>"
        "</login></authentication><content><function controlid='s'><getAPISession/></function></content>"
        "</operation></request>"
    )
    text = httpx.post(f"{url}{GATEWAY}", content=login.encode()).text
    return text.split("<sessionid>")[1].split("</sessionid>")[0]


def fyle_token(url: str) -> str:
    response = httpx.post(
        f"{url}/fyle/oauth/token",
        json={
            "grant_type": "refresh_token",
            "refresh_token": FYLE_SANDBOX_REFRESH_TOKEN,
            "client_id": FYLE_SANDBOX_CLIENT_ID,
            "client_secret": FYLE_SANDBOX_CLIENT_SECRET,
        },
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def scenarios(url: str) -> dict[str, RequestFactory]:
    headers = {"Authorization": f"Bearer {fyle_token(url)}"}
    session_id = intacct_session(url)
    read = intacct_envelope(
        "<readByQuery><object>GLACCOUNT</object><fields>*</fields><query/><pagesize>100</pagesize></readByQuery>",
        session_id,
    )

    def bill(index: int) -> bytes:
        return intacct_envelope(
            f"<create><APBILL><VENDORID>V00004</VENDORID><RECORDID>bench-{index}</RECORDID><WHENCREATED>03/01/2024"
            "</WHENCREATED><WHENDUE>03/31/2024</WHENDUE><APBILLITEMS><APBILLITEM><ACCOUNTNO>70004</ACCOUNTNO>"
            "<TRX_AMOUNT>12.50</TRX_AMOUNT></APBILLITEM></APBILLITEMS></APBILL></create>",
            session_id,
        )

    return {
        "fyle list expenses (200/page)": lambda client, _: client.get(
            f"{FYLE_ADMIN}/expenses", params={"limit": 200, "order": "updated_at.asc,id.asc"}, headers=headers
        ),
        "fyle create categories (bulk of 1)": lambda client, index: client.post(
            f"{FYLE_ADMIN}/categories/bulk",
            json={"data": [{"name": f"Bench {index}", "is_enabled": True}]},
            headers=headers,
        ),
        "intacct readByQuery (100/page)": lambda client, _: client.post(GATEWAY, content=read),
        "intacct create APBILL": lambda client, index: client.post(GATEWAY, content=bill(index)),
    }


async def capture_bodies(url: str, factories: dict[str, RequestFactory], into: Path) -> None:
    """One real answer per scenario, for the baseline server to replay."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for index, send in enumerate(factories.values()):
            response = await send(client, 10_000_000 + index)
            suffix = ".xml" if "xml" in response.headers.get("content-type", "") else ".json"
            (into / f"scenario{index}{suffix}").write_bytes(response.content)


def baseline(bodies: Path) -> dict[str, RequestFactory]:
    """The same scenarios against canned copies of their answers."""
    factories: dict[str, RequestFactory] = {}
    for path in sorted(bodies.iterdir()):
        factories[path.name] = lambda client, _, name=path.name: client.post(f"/{name}", content=b"<request/>")
    return factories


async def measure(
    url: str, factories: dict[str, RequestFactory], total: int, concurrency: int
) -> dict[str, LoadResult]:
    return {name: await run_load(url, send, total=total, concurrency=concurrency) for name, send in factories.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as bodies_dir:
        bodies = Path(bodies_dir)
        with served("sandbox.asgi:app") as url:
            factories = scenarios(url)
            asyncio.run(capture_bodies(url, factories, bodies))
            simulated = asyncio.run(measure(url, factories, args.requests, args.concurrency))
        with served("bench.baseline_server:app", {"BENCH_BODIES_DIR": bodies_dir}) as url:
            base = asyncio.run(measure(url, baseline(bodies), args.requests, args.concurrency))

    rows = []
    print(f"{'scenario':38} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'baseline req/s':>15} {'ratio':>6}")
    for name, reference in zip(simulated, base.values(), strict=True):
        result = simulated[name]
        ratio = result.per_second / reference.per_second
        print(
            f"{name:38} {result.per_second:8.0f} {result.p50:8.1f} {result.p99:8.1f} {result.errors:6d} "
            f"{reference.per_second:15.0f} {ratio:6.2f}"
        )
        rows.append(
            {
                "scenario": name,
                "requests_per_second": round(result.per_second, 1),
                "p50_ms": round(result.p50, 2),
                "p99_ms": round(result.p99, 2),
                "errors": result.errors,
                "baseline_requests_per_second": round(reference.per_second, 1),
                "ratio": round(ratio, 3),
            }
        )
    if args.json:
        args.json.write_text(json.dumps({"benchmark": "sandbox_capacity", "results": rows}, indent=2))


if __name__ == "__main__":
    main()
