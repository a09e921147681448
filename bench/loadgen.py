"""A small closed-loop load generator: C concurrent clients, N requests, throughput and latency percentiles."""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

RequestFactory = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    errors: int
    latencies_ms: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies_ms)

    @property
    def p99(self) -> float:
        return self.percentile(0.99)


async def run_load(
    base_url: str, send: RequestFactory, *, total: int, concurrency: int, warmup: int = 20
) -> LoadResult:
    """Send `total` requests from `concurrency` workers; a request counts as an error unless 2xx."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        for index in range(warmup):
            await send(client, -1 - index)
        counter = iter(range(total))
        latencies: list[float] = []
        errors = 0

        async def worker() -> None:
            nonlocal errors
            for index in counter:
                started = time.perf_counter()
                response = await send(client, index)
                latencies.append((time.perf_counter() - started) * 1000)
                if not response.is_success:
                    errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return LoadResult(total, time.perf_counter() - started, errors, latencies)
