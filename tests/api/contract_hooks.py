"""Schemathesis hooks of the published-contract run (`tests/api/test_published_contract.py` names this file).

Every tenant POST declares an optional `Idempotency-Key` (`api.openapi_contract.IDEMPOTENCY_PARAMETER`), so the run
sends one. Hypothesis draws keys from a small space ("0" comes up again and again), and the API answers a key that
came with another request before with 422, as it must: a client that repeats keys is broken. Real clients send a
fresh key per request, so the schema-valid key of each positive case is made unique here, keeping its drawn prefix
and so its form. Negative cases go out as drawn: a key that breaks the declared form must still get a 400. Key reuse
and replays are held by `tests/api/test_idempotency.py` and the contract test's own idempotency test.
"""

import re
import uuid
from typing import Any

import schemathesis

from api.openapi_contract import IDEMPOTENCY_PARAMETER

_SCHEMA = IDEMPOTENCY_PARAMETER["schema"]
_SUFFIX_LENGTH = 33  # "-" and a UUID's 32 hex digits


def _fits(key: str) -> bool:
    return _SCHEMA["minLength"] <= len(key) <= _SCHEMA["maxLength"] and bool(re.fullmatch(_SCHEMA["pattern"], key))


def fresh(key: str) -> str:
    """The key with a unique ending, of the declared form still."""
    return f"{key[: _SCHEMA['maxLength'] - _SUFFIX_LENGTH]}-{uuid.uuid4().hex}"


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.meta is not None and case.meta.generation.mode.is_negative:
        # Left as drawn: any 4xx is the right answer to a negative case, and an edited header makes Schemathesis
        # revalidate the case as positive, which puts back a header the case is about leaving out (Authorization).
        return
    headers = case.headers or {}
    for name, key in list(headers.items()):
        if name.lower() == IDEMPOTENCY_PARAMETER["name"].lower() and isinstance(key, str) and _fits(key):
            headers[name] = fresh(key)
