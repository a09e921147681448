"""Export chains: at most a few export jobs work one destination connection at a time.

An export job works a few batches, then hands over to a continuation at the back of the queue (fairness). The
reconciler rings the bell for a connection every period while it has due items, and a run rings it while it waits;
without a bound, every ring of a long backlog would start one more chain, until one tenant's chains fill every job
slot of every worker. So a chain holds one of the connection's slots (as many as the system takes concurrent calls)
in Redis; a job that finds them all taken ends at once, since the chains already running will reach its items.

A slot is a key with a time to live, refreshed after every batch: a killed worker's slot frees itself, and after a
`FLUSHALL` the next ring simply starts a new chain. Neither can lose work, which is all in PostgreSQL.
"""

import uuid

from redis.asyncio import Redis

from sync.constants import EXPORT_CHAIN_KEY

_KEEP = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class ExportChains:
    def __init__(self, redis: Redis, connection_id: uuid.UUID, *, slots: int, ttl_seconds: float) -> None:
        self.redis = redis
        self.connection_id = connection_id
        self.slots = slots
        self.ttl_ms = max(1, int(ttl_seconds * 1000))
        self._keep = redis.register_script(_KEEP)
        self._release = redis.register_script(_RELEASE)

    def _key(self, slot: int) -> str:
        return EXPORT_CHAIN_KEY.format(connection_id=self.connection_id, slot=slot)

    async def take(self) -> str | None:
        """A free slot's token (`<slot>:<nonce>`), or None when every slot has a chain."""
        nonce = uuid.uuid4().hex
        for slot in range(self.slots):
            if await self.redis.set(self._key(slot), nonce, nx=True, px=self.ttl_ms):
                return f"{slot}:{nonce}"
        return None

    async def keep(self, token: str) -> bool:
        """Refresh our slot; False when it expired and may belong to another chain now (this one should end)."""
        slot, nonce = token.split(":", 1)
        kept = await self._keep(keys=[self._key(int(slot))], args=[nonce, self.ttl_ms])
        if not kept:  # expired (slow batch) or flushed: take it again if it is free, else yield to whoever has it
            return bool(await self.redis.set(self._key(int(slot)), nonce, nx=True, px=self.ttl_ms))
        return True

    async def release(self, token: str) -> None:
        slot, nonce = token.split(":", 1)
        await self._release(keys=[self._key(int(slot))], args=[nonce])
