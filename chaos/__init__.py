"""`make chaos`: the fault-injection suite in one run, ending with a count of duplicates, missing expenses and lost
webhooks (all must be zero) and recovery times.

Why a package of its own rather than `bench/chaos*.py`: a benchmark prints figures, a chaos run gives a verdict and
an exit code; and its parts (a world to break, one module per fault, the counters) are a handful of modules that
are worth type-checking strictly, which `bench/` is not. It reuses the benchmarks' set-up (`bench.e2e_setup`:
throw-away database, tenant, product environment; `bench.sandbox_capacity.served` and `bench.e2e_sandbox`: the
simulators in a process of their own) and the fault techniques of the tests (`tests/sync/test_crash_safety.py`,
`test_worker_export.py`, `test_database_blips.py`), at a size and with recovery timing the tests do not need.

    .venv/bin/python -m chaos [--only NAME …] [--expenses N] [--json chaos/results.json]
"""
