"""Every queue job logs with its arq ids and has its outcome counted, under the name arq enqueues it by."""

import asyncio
from typing import Any

import pytest
import structlog
from prometheus_client import REGISTRY

from sync.queue import observed


def jobs_total(function: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("ledgerline_jobs_total", {"function": function, "outcome": outcome}) or 0.0


async def test_a_job_binds_its_ids_for_its_log_lines_and_counts_how_it_ended() -> None:
    seen: dict[str, Any] = {}

    async def sample_job(ctx: dict[str, Any], value: int) -> int:
        seen.update(structlog.contextvars.get_contextvars())
        return value

    async def broken_job(ctx: dict[str, Any]) -> None:
        raise RuntimeError("boom")

    ctx = {"job_id": "export:abc:1", "job_try": 2, "worker_id": "host:1:abcdef"}
    succeeded, failed = jobs_total("sample_job", "succeeded"), jobs_total("broken_job", "failed")
    # arq runs each job in its own task; so does this test, so nothing bound leaks into it.
    assert await asyncio.ensure_future(observed(sample_job)(ctx, 5)) == 5
    with pytest.raises(RuntimeError):
        await asyncio.ensure_future(observed(broken_job)(ctx))
    assert seen == {"job": "sample_job", "job_id": "export:abc:1", "job_try": 2, "worker_id": "host:1:abcdef"}
    assert "job_id" not in structlog.contextvars.get_contextvars()
    assert jobs_total("sample_job", "succeeded") - succeeded == 1
    assert jobs_total("broken_job", "failed") - failed == 1


def test_a_job_keeps_the_name_arq_registers_it_under() -> None:
    async def export_connection(ctx: dict[str, Any]) -> None:
        return None

    assert observed(export_connection).__qualname__ == export_connection.__qualname__
