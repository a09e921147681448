import json
import logging
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from core.db import Database
from core.log import bind_context, clear_context, configure_logging, get_logger
from core.models import Connection
from tests.conftest import TenantFixture


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging binds the root handler to the captured stderr; put the old handlers back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_bound_ids_and_redact_secrets(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(level="INFO", json=True)
    clear_context()
    bind_context(request_id="req-1", tenant_id="t-1")
    get_logger("test").info(
        "connected", password="hunter2", credentials={"refresh_token": "rt-secret", "realm": "123"}, amount="12.50"
    )
    logging.getLogger("uvicorn.error").info("stdlib line with %s", "args")
    clear_context()
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    ours, stdlib = lines[-2], lines[-1]
    assert ours["request_id"] == "req-1"
    assert ours["tenant_id"] == "t-1"
    assert ours["password"] == "[redacted]"
    assert ours["credentials"] == "[redacted]"
    assert ours["amount"] == "12.50"
    assert "hunter2" not in json.dumps(lines) and "rt-secret" not in json.dumps(lines)
    assert stdlib["event"] == "stdlib line with args"


def test_access_lines_never_carry_the_oauth_code_and_state_nor_a_webhook_key(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    configure_logging(level="INFO", json=True)
    access = logging.getLogger("uvicorn.access")
    callback = "/v1/connections/fyle/callback?code=authcode-123&state=state-456"
    webhook = "/webhooks/fyle/Kq3secretKeyOfTheConnection0123"
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", callback, "1.1", 200)
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST", webhook, "1.1", 202)
    get_logger("test").warning("request_failed", path=webhook, url=f"https://ledgerline.example{callback}")
    output = capsys.readouterr().err
    for secret in ("authcode-123", "state-456", "Kq3secretKeyOfTheConnection0123"):
        assert secret not in output
    lines = [json.loads(line) for line in output.strip().splitlines()]
    assert "GET /v1/connections/fyle/callback?[redacted] HTTP/1.1" in lines[-3]["event"]
    assert "POST /webhooks/fyle/[redacted] HTTP/1.1" in lines[-2]["event"]
    assert lines[-1]["path"] == "/webhooks/fyle/[redacted]"


def test_a_traceback_is_redacted_like_every_other_field(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    """A secret inside an exception's message (a webhook URL, a callback's query) must not reach the log through the
    rendered traceback, which is written after the fields were redacted."""
    configure_logging(level="INFO", json=True)
    webhook_key, code = "Kq3secretKeyInATraceback0123", "authcode-in-a-traceback"
    try:
        raise RuntimeError(f"POST /webhooks/fyle/{webhook_key} failed after /v1/connections/fyle/callback?code={code}")
    except RuntimeError:
        get_logger("test").exception("unhandled_error")
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    output = capsys.readouterr().err
    assert "/webhooks/fyle/[redacted]" in output
    assert webhook_key not in output and code not in output


async def test_a_database_error_never_carries_the_statement_parameters(
    capsys: pytest.CaptureFixture[str], restored_logging: None, database: Database, tenant: TenantFixture
) -> None:
    """SQLAlchemy writes a failed statement's parameters into its message (a new connection's webhook key, a session's
    CSRF token, …), and the unhandled-error handler logs that message."""
    configure_logging(level="INFO", json=True)
    webhook_key = secrets.token_urlsafe(24)
    with pytest.raises(IntegrityError) as failed:
        async with database.tenant_session(tenant.id) as session:
            for key in (secrets.token_urlsafe(24), webhook_key):  # the second breaks (tenant_id, name)'s uniqueness
                session.add(
                    Connection(tenant_id=tenant.id, name="twice", provider="fyle", role="source", webhook_key=key)
                )
                await session.flush()
    assert webhook_key not in str(failed.value)
    try:
        raise failed.value
    except IntegrityError:
        get_logger("test").exception("unhandled_error")
    assert webhook_key not in capsys.readouterr().err


def test_secrets_written_in_free_text_and_a_callback_with_a_trailing_slash_are_redacted(
    capsys: pytest.CaptureFixture[str], restored_logging: None
) -> None:
    """A library's message or an exception's text may spell a secret out (`password=…`, a JSON body, a header), and
    a callback may be asked for with a slash before its query: before, both reached the log."""
    configure_logging(level="INFO", json=True)
    secrets_in_text = {
        "password": "hunter2-in-text",
        "client_secret": "cs-in-a-json-body",
        "bearer": "bearer-token-in-a-header",
        "code": "authcode-after-a-slash",
    }
    logging.getLogger("uvicorn.error").warning(
        'sign-in failed for user=bob password=%s; body was {"client_secret": "%s", "realm": "123"}',
        secrets_in_text["password"],
        secrets_in_text["client_secret"],
    )
    get_logger("test").warning("upstream_refused", detail=f"Authorization: Bearer {secrets_in_text['bearer']}")
    logging.getLogger("uvicorn.access").info(
        '%s - "GET %s HTTP/1.1" 200', "127.0.0.1:5000", f"/v1/connections/fyle/callback/?code={secrets_in_text['code']}"
    )
    get_logger("test").info("fetched", detail="token_url=https://fyle.example/oauth/token, tokens used: 5")
    output = capsys.readouterr().err
    for secret in secrets_in_text.values():
        assert secret not in output
    lines = [json.loads(line) for line in output.strip().splitlines()]
    assert "user=bob password=[redacted]" in lines[-4]["event"] and '"realm": "123"' in lines[-4]["event"]
    assert lines[-3]["detail"] == "Authorization: Bearer [redacted]"
    assert "/callback/?[redacted]" in lines[-2]["event"]
    assert lines[-1]["detail"] == "token_url=https://fyle.example/oauth/token, tokens used: 5"  # no secret in it
