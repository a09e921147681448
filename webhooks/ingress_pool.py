"""The ingress's own pool of database connections, tuned for one short exchange per delivery.

Why not the service engine (`core.db.Database.app_engine`): it pings every connection on checkout (a round trip
and a switch to autocommit and back, on every delivery) and opens overflow connections under a burst only to close
them again a moment later (a PostgreSQL backend started and stopped per burst). Here:

- no overflow: a burst waits for one of `size` connections, at most `wait_seconds`, then is told to come back (429);
- no ping: a connection the server dropped fails on its next statement and is thrown away, and the ingress tries
  the delivery again on another one (`ConnectionLostError`). Safe whenever it failed: an insert that did commit
  before the connection went is found by the retry as a redelivery (acknowledged 2xx; the reconciler rings for it);
- autocommit: the ingress writes its own `BEGIN … COMMIT` into the statements it sends (`webhooks.store`), so a
  transaction costs no extra round trip, and a connection goes back to the pool only outside a transaction (rolled
  back, or dropped if even that fails).

Its connections name themselves in `pg_stat_activity` (`application_name`), so an operator can tell them apart.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from core.log import get_logger
from webhooks.constants import INGRESS_APPLICATION_NAME

log = get_logger(__name__)


class PoolBusyError(Exception):
    """No connection came free within the wait."""


class ConnectionLostError(Exception):
    """The connection died under a statement (server restarted, backend terminated, network gone)."""


class IngressPool:
    def __init__(self, url: URL, *, size: int) -> None:
        self.size = size
        self._engine = create_async_engine(
            url,
            pool_size=size,
            max_overflow=0,
            pool_pre_ping=False,
            pool_reset_on_return=None,  # `release` rolls back itself, and only when a transaction is open
            isolation_level="AUTOCOMMIT",
            connect_args={"application_name": INGRESS_APPLICATION_NAME},
        )

    @asynccontextmanager
    async def connection(self, *, wait_seconds: float) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        """A pooled psycopg connection, outside any transaction; `PoolBusyError` after `wait_seconds`, and
        `ConnectionLostError` when a statement fails because the connection is gone."""
        try:
            async with asyncio.timeout(wait_seconds):
                pooled = await self._engine.raw_connection()
        except TimeoutError:
            raise PoolBusyError from None
        try:
            driver = pooled.driver_connection
            assert isinstance(driver, psycopg.AsyncConnection)
            try:
                yield driver
            except psycopg.OperationalError as exc:
                if driver.closed:
                    raise ConnectionLostError from exc
                raise
        finally:
            await self._release(pooled)

    async def _release(self, pooled: PoolProxiedConnection) -> None:
        driver = pooled.driver_connection
        assert isinstance(driver, psycopg.AsyncConnection)
        if not driver.closed and driver.info.transaction_status != TransactionStatus.IDLE:
            try:
                await driver.rollback()
            except psycopg.Error:
                log.info("webhook_connection_dropped", reason="rollback failed")
        if driver.closed or driver.info.transaction_status != TransactionStatus.IDLE:
            await greenlet_spawn(pooled.invalidate)
        else:
            pooled.close()

    async def close(self) -> None:
        await self._engine.dispose()
