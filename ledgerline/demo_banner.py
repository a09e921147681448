"""What `ledgerline demo` prints once it is ready: where to sign in (one-time links), what was set up and what was
arranged to fail, the API docs and the sandbox's control API."""

from dataclasses import dataclass

from connectors.spec import ConnectorRole
from core.settings import Settings
from ledgerline.demo_access import DemoLinks
from ledgerline.demo_seed import Arranged, DemoSeedReport


@dataclass(frozen=True)
class DemoReady:
    report: DemoSeedReport
    links: DemoLinks
    control_url: str


def _failures(entry: Arranged) -> str:
    parts = [f"{source_type} {value!r} left unmapped" for source_type, value, _kind in entry.unmapped]
    if entry.closed_through:
        parts.append(f"books closed through {entry.closed_through}")
    if entry.deactivated:
        parts.append(f"{entry.deactivated['attribute_type']} {entry.deactivated['remote_id']} made inactive")
    return f"{entry.system}: {', '.join(parts) or 'nothing'}"


def demo_banner(settings: Settings, ready: DemoReady, *, base: str, seconds: float) -> list[str]:
    report = ready.report
    sources = [c.system for c in report.connections if c.role is ConnectorRole.SOURCE]
    destinations = [c.system for c in report.connections if c.role is ConnectorRole.DESTINATION]
    lines = [f"Ledgerline demo on {base}, ready in {seconds:.1f} s."]
    if not report.connections:
        lines.append(f"Tenant '{report.slug}' is empty (--empty): connect systems from the dashboard or the API.")
    else:
        how = "set up now; its first export is running" if report.seeded else "found from an earlier start"
        lines.append(f"Tenant '{report.slug}': {', '.join(sources)} → {', '.join(destinations)} ({how}).")
        lines.append("Arranged to fail, for you to fix and replay: " + "; ".join(map(_failures, report.arranged)))
    control = ready.control_url
    lines += [
        f"Sign in as the tenant admin (link works once): {ready.links.admin}",
        f"Sign in as support (link works once):          {ready.links.support}",
        f"API docs:        {base}/docs",
        f"Sandbox control: {control} (its OpenAPI UI: {control.removesuffix('/_sandbox')}/docs)",
        "Press Ctrl-C to stop.",
    ]
    return lines
