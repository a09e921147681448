"""Names, limits and timeouts of the composition root, in one place (the demo's, so far)."""

from typing import Final

from sandbox.constants import CONTROL_PREFIX

DEMO_TENANT_SLUG: Final = "demo"
DEMO_TENANT_NAME: Final = "Demo Company"
DEMO_ACTOR: Final = "demo"
"""How the audit log names what the demo set up."""
DEMO_SEEDED_ACTION: Final = "demo.seeded"
"""The audit event that says a tenant's demo data exists, carrying what was arranged to fail."""
DEMO_SHARE_RULE_NAME: Final = "another destination's employees (demo)"
"""The skip rule by which destinations share the demo's expenses (`ledgerline.demo_seed`)."""
DEMO_ADMIN_KEY_NAME: Final = "demo admin"
DEMO_SUPPORT_KEY_NAME: Final = "demo support"
DEMO_FAILURE_SHARE: Final = 0.15
DEMO_MIN_FAILURES: Final = 2
"""A failure the demo arranges may stop at most this share of a destination's documents (or this many)."""
HOOK_PATH: Final = "/demo"
"""Under `{CONTROL_PREFIX}/{system}`: each simulator's demo hooks (`sandbox.demo`)."""
SIMULATOR_TIMEOUT_SECONDS: Final = 30.0
DEMO_STARTUP_WAIT_SECONDS: Final = 15.0
"""How long the demo waits for a sandbox it started to answer."""

__all__ = [
    "CONTROL_PREFIX",
    "DEMO_ACTOR",
    "DEMO_ADMIN_KEY_NAME",
    "DEMO_FAILURE_SHARE",
    "DEMO_MIN_FAILURES",
    "DEMO_SEEDED_ACTION",
    "DEMO_SHARE_RULE_NAME",
    "DEMO_STARTUP_WAIT_SECONDS",
    "DEMO_SUPPORT_KEY_NAME",
    "DEMO_TENANT_NAME",
    "DEMO_TENANT_SLUG",
    "HOOK_PATH",
    "SIMULATOR_TIMEOUT_SECONDS",
]
