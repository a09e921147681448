from datetime import UTC, datetime

from core.errors import (
    ERROR_CLASSES,
    AuthError,
    DestinationRejected,
    EngineAction,
    MappingError,
    OutcomeUnknown,
    RateLimited,
    Transient,
    ValidationError,
)


def test_each_class_tells_the_engine_what_to_do() -> None:
    assert MappingError("x").action is EngineAction.NEEDS_ACTION
    assert ValidationError("x").action is EngineAction.NEEDS_ACTION
    assert DestinationRejected("x").action is EngineAction.NEEDS_ACTION
    assert AuthError("x").action is EngineAction.PAUSE_CONNECTION
    assert RateLimited("x").action is EngineAction.DEFER_CONNECTION
    assert Transient("x").action is EngineAction.RETRY
    assert OutcomeUnknown("x").action is EngineAction.RETRY_WITH_LOOKUP
    assert {cls.error_class for cls in ERROR_CLASSES.values()} == set(ERROR_CLASSES)
    assert len(ERROR_CLASSES) == 7


def test_errors_keep_code_hint_and_specifics() -> None:
    until = datetime(2026, 1, 1, tzinfo=UTC)
    limited = RateLimited("slow down", retry_at=until, provider_code="429")
    closed = DestinationRejected("period closed", code="period_closed", hint="Post on the first open day instead.")
    missing = MappingError("2 mappings missing", missing=[("category", "Travel"), ("employee", "a@b.c")])
    assert limited.retry_at == until
    assert closed.summary() == {
        "error_class": "destination_rejected",
        "code": "period_closed",
        "provider_code": None,
        "message": "period closed",
        "hint": "Post on the first open day instead.",
    }
    assert missing.missing == [("category", "Travel"), ("employee", "a@b.c")]
