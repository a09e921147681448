"""`make bench`'s table: each benchmark's JSON becomes figures beside their baselines, with the goals judged."""

import pytest

from bench.all import BENCHMARKS, Figure, print_table

SUMMARIES = {benchmark.name: benchmark.summary for benchmark in BENCHMARKS}


def test_export_throughput_is_judged_against_the_floor_with_one_worker_only() -> None:
    row = {"per_second": 650.0, "calls_per_document": 0.064, "worker_peak_rss_mb": [140.0, 150.0]}
    figures = SUMMARIES["end_to_end"](
        {
            "results": [
                {"name": "baseline (no engine)", "per_second": 1300.0, "calls_per_document": 0.0425},
                {"name": "product, 1 worker", **row},
                {"name": "product, 2 workers", **row, "per_second": 450.0},
            ]
        }
    )
    by_name = {figure.figure: figure for figure in figures}
    one = by_name["product, 1 worker: expenses pulled to written back"]
    assert (one.value, one.baseline, one.ratio, one.met) == (650.0, 1300.0, 0.5, True)
    assert by_name["product, 2 workers: expenses pulled to written back"].met is None
    assert by_name["product, 2 workers: worker peak RSS"].value == 150.0


def test_webhook_goals_use_the_median_round_and_can_be_missed() -> None:
    def run(accepted: float, p99: float) -> dict[str, dict[str, float]]:
        return {"closed": {"accepted_per_second": accepted}, "open": {"p50_ms": 5.0, "p99_ms": p99}}

    figures = SUMMARIES["webhooks"](
        {
            "baseline": [run(1000, 20), run(1000, 30), run(1000, 25)],
            "product": [run(600, 40), run(800, 90), run(650, 70)],
        }
    )
    accepted, _, p99 = figures
    assert (accepted.value, accepted.met) == (650, False)  # 0.65 × the baseline
    assert (p99.value, p99.baseline, p99.met) == (70, 25, False)


def test_rate_budget_and_dashboard_goals() -> None:
    budget = SUMMARIES["rate_budget"](
        {
            "per_minute": 120,
            "results": [
                {"sustained": 0.7, "rejected_after_first_minute": 12},
                {"sustained": 0.95, "rejected_after_first_minute": 0},
            ],
        }
    )
    assert [(figure.value, figure.baseline, figure.met) for figure in budget] == [(95.0, 70.0, True), (0, 12, True)]
    pages = SUMMARIES["dashboard_queries"](
        {
            "figures": [
                {"name": "baseline: bare SELECT", "who": "owner", "p95_ms": 2.0},
                {"name": "list: default", "who": "support", "p95_ms": 4.0},
                {"name": "page: /dashboard/items", "who": "support", "p95_ms": 201.0},
                {"name": "page: /dashboard (overview)", "who": "support", "p95_ms": 350.0},
                {"name": "page: /dashboard/items?q=closed period", "who": "admin", "p95_ms": 160.0},
                {"name": "page: /dashboard (overview)", "who": "admin", "p95_ms": 190.0},
            ]
        }
    )
    assert [(figure.figure, figure.goal, figure.met) for figure in pages] == [
        ("support /dashboard/items p95", "≤ 200 ms", False),
        ("support /dashboard (overview) p95", "≤ 200 ms", False),
        ("admin /dashboard/items?q=closed period p95", "≤ 150 ms", False),
        ("admin /dashboard (overview) p95", "≤ 200 ms", True),
    ]


def test_the_table_prints_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    print_table([Figure("x", "a figure", 2.0, "ms", 4.0, goal="≤ 3 ms", met=True), Figure("x", "alone", 1.0, "MB")])
    out = capsys.readouterr().out
    assert "a figure" in out and "0.50" in out and "met" in out
    assert "alone" in out
