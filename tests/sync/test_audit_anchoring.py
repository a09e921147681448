"""The worker's periodic job anchors every audit chain head that moved, and only those."""

from core.audit import append_event
from core.audit_anchors import anchors_in_system_chain, chain_heads
from core.db import Database
from sync.jobs import anchor_audit_chains
from tests.conftest import TenantFixture


async def test_the_worker_anchors_each_moved_chain_head_once(database: Database, tenant: TenantFixture) -> None:
    async with database.tenant_session(tenant.id) as session:
        await append_event(
            session, tenant_id=tenant.id, actor="test", action="mapping.set", entity_type="mappings", entity_id="1"
        )
    assert await anchor_audit_chains({"database": database}) >= 1
    async with database.owner_session() as session:
        anchored = {anchor.chain: (anchor.seq, anchor.hash) for anchor in await anchors_in_system_chain(session)}
        heads = {head.chain: (head.seq, head.hash) for head in await chain_heads(session)}
    assert anchored[str(tenant.id)] == heads[str(tenant.id)]
    assert await anchor_audit_chains({"database": database}) == 0  # nothing moved since: nothing new to anchor
