"""`make chaos` restarts and flushes the local cluster, so without one it stops at once and says what is missing."""

import os
import subprocess
import sys


def test_chaos_without_a_reachable_postgresql_stops_with_one_line_naming_it() -> None:
    env = os.environ | {"LEDGERLINE_BENCH_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres"}
    result = subprocess.run(
        [sys.executable, "-m", "chaos", "--only", "nothing"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "make chaos needs the real local cluster (it restarts and flushes it); "
        "missing: PostgreSQL at postgresql://postgres@127.0.0.1:1/postgres"
    ]
    assert "scenarios in" not in result.stdout
