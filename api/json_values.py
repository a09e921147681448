"""Free-form JSON fields that PostgreSQL's JSONB will accept: finite numbers only.

Python's JSON parser takes `NaN` and `Infinity`, JSONB does not; without this check such a body reaches the
database and fails there as a 500 instead of a 422.
"""

import math
from typing import Annotated, Any

from pydantic import AfterValidator, JsonValue


def _require_finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite (NaN and Infinity are not JSON)")
    if isinstance(value, dict):
        for item in value.values():
            _require_finite(item)
    elif isinstance(value, list):
        for item in value:
            _require_finite(item)
    return value


JsonObject = Annotated[dict[str, JsonValue], AfterValidator(_require_finite)]
