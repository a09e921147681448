"""Every webhook test starts with a fresh count of failed deliveries and no failure limit to speak of: the suite's
deliveries all come from one address within a few seconds, and its many deliberate refusals (bad signatures,
fuzzing) would otherwise block the address for the tests after them. Tests of the limits set their own."""

from collections.abc import Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI

from webhooks.failure_limit import FailureGuard
from webhooks.ingress import WebhookIngress

UNLIMITED = 10**9


@pytest.fixture(autouse=True)
def fresh_failure_counts(app: FastAPI) -> Iterator[None]:
    ingress: WebhookIngress = app.state.webhook_ingress
    limits = ingress.limits
    ingress.failures = FailureGuard(app.state.queue.redis)
    ingress.limits = replace(limits, failures_per_address=UNLIMITED, failures_overall=UNLIMITED)
    yield
    ingress.limits = limits
