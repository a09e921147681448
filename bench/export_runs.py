"""One destination's end-to-end export measured for a comparison benchmark (`bench.quickbooks_export`,
`bench.xero_export`): a fresh sandbox process and tenant, `bench.end_to_end.measure_product` timing a `realtime` run
of W workers, and the destination's calls split into those creating documents and those carrying receipts, beside the
batch size of the system's spec."""

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.destinations import ExportPlan, SandboxDestination
from bench.e2e_setup import BILLS_PER_REPORT
from bench.end_to_end import SANDBOX_APP, Figures, measure_product
from bench.sandbox_capacity import served
from connectors.registry import connector_class
from mappings.settings import ExportSettings

Observe = Callable[[str, Figures], dict[str, Any]]
"""(sandbox URL, the run's figures) → more figures, read while the sandbox still answers."""


@dataclass(frozen=True)
class ExportRun:
    system: str
    figures: Figures
    batch_size: int
    """Documents per call the system's spec allows (`spec.batch_size`)."""
    receipt_calls: int
    observed: dict[str, Any] = field(default_factory=dict)

    @property
    def document_calls(self) -> int:
        """Calls other than receipts: the creates, and any lookups or reads around them."""
        return self.figures.destination_calls - self.receipt_calls

    @property
    def document_calls_per_document(self) -> float:
        documents = self.figures.documents
        return self.document_calls / documents if documents else float("nan")

    @property
    def documents_per_call(self) -> float:
        """Exported documents per non-receipt call, to read beside `batch_size` (its ceiling)."""
        return self.figures.documents / self.document_calls if self.document_calls else float("nan")


def measure_export(
    destination: SandboxDestination,
    database_url: str,
    args: argparse.Namespace,
    logs: Path,
    *,
    app: str = SANDBOX_APP,
    export: ExportSettings | ExportPlan = BILLS_PER_REPORT,
    observe: Observe | None = None,
    quiet_seconds: float = 0.0,
) -> ExportRun:
    """`args` as `measure_product` reads them (expenses, per_report, state, profile); workers from `args.workers`."""
    observed: dict[str, Any] = {}
    with served(app) as url:
        try:
            figures = asyncio.run(
                measure_product(
                    url, database_url, args, args.workers, logs, destination, export=export, quiet_seconds=quiet_seconds
                )
            )
            if observe is not None:
                observed = observe(url, figures)
        except Exception:
            for log in sorted(logs.iterdir()):
                print(f"--- {log.name}\n{log.read_text()[-3000:]}", file=sys.stderr)
            raise
    name = f"{destination.system}, {args.workers} worker{'s' if args.workers > 1 else ''}"
    receipts = sum(figures.destination_operations.get(operation, 0) for operation in destination.receipt_operations)
    batch_size = connector_class(destination.system).spec.batch_size
    return ExportRun(destination.system, replace(figures, name=name), batch_size, receipts, observed)
