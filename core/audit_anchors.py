"""Anchors for the audit chains' heads, so that rows cut from a chain's end show.

A hash chain proves every row follows from the one before it, but a chain whose last rows were deleted still verifies.
So every tenant chain's head is recorded in the system chain (by the worker, periodically, and by `ledgerline audit
anchor`), and the heads of all chains, the system chain's included, can be appended to a file the operator keeps
outside the database. `ledgerline audit verify` then checks each chain still reaches the last head anchored for it.
"""

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AnchoredHead, EventDraft, append_events
from core.constants import (
    AUDIT_ANCHOR_ACTION,
    AUDIT_ANCHOR_ENTITY,
    AUDIT_ANCHOR_IN_SYSTEM_CHAIN,
    SYSTEM_AUDIT_CHAIN,
)

# One index probe per chain (a skip scan over the (chain, seq) key), however long the chains are.
CHAIN_HEADS = text(
    """
    WITH RECURSIVE chains(chain) AS (
        SELECT min(chain) FROM audit_events
        UNION ALL
        SELECT (SELECT min(chain) FROM audit_events WHERE chain > chains.chain)
        FROM chains WHERE chains.chain IS NOT NULL
    )
    SELECT chains.chain, head.seq, head.hash FROM chains
    CROSS JOIN LATERAL (
        SELECT seq, hash FROM audit_events WHERE chain = chains.chain ORDER BY seq DESC LIMIT 1
    ) head
    WHERE chains.chain IS NOT NULL
    """
)
LATEST_ANCHORS = text(
    """
    SELECT DISTINCT ON (entity_id) entity_id, data, created_at FROM audit_events
    WHERE chain = :system AND action = :action AND entity_type = :entity
    ORDER BY entity_id, seq DESC
    """
)


@dataclass(frozen=True, slots=True)
class ChainHead:
    chain: str
    seq: int
    hash: str


class AnchorFileError(ValueError):
    """An anchor file line that cannot be read; its message names the file and line."""


async def chain_heads(session: AsyncSession) -> list[ChainHead]:
    """The last row of every chain the session can see."""
    rows = await session.execute(CHAIN_HEADS)
    return [ChainHead(chain=chain, seq=seq, hash=hash_) for chain, seq, hash_ in rows]


async def anchors_in_system_chain(session: AsyncSession) -> list[AnchoredHead]:
    """The last head the system chain recorded for each chain."""
    rows = await session.execute(
        LATEST_ANCHORS, {"system": SYSTEM_AUDIT_CHAIN, "action": AUDIT_ANCHOR_ACTION, "entity": AUDIT_ANCHOR_ENTITY}
    )
    return [
        AnchoredHead(
            chain=chain,
            seq=int(data["seq"]),
            hash=str(data["hash"]),
            anchored_at=created_at,
            source=AUDIT_ANCHOR_IN_SYSTEM_CHAIN,
        )
        for chain, data, created_at in rows
    ]


async def anchor_chain_heads(session: AsyncSession, *, actor: str) -> list[ChainHead]:
    """Record in the system chain the head of every other chain that moved since it was last anchored.

    Returns the chains anchored now. The session must see every chain (the owner's, or a cross-tenant one)."""
    anchored = {(anchor.chain, anchor.seq, anchor.hash) for anchor in await anchors_in_system_chain(session)}
    moved = [
        head
        for head in await chain_heads(session)
        if head.chain != SYSTEM_AUDIT_CHAIN and (head.chain, head.seq, head.hash) not in anchored
    ]
    await append_events(
        session,
        tenant_id=None,
        actor=actor,
        events=[
            EventDraft(AUDIT_ANCHOR_ACTION, AUDIT_ANCHOR_ENTITY, head.chain, {"seq": head.seq, "hash": head.hash})
            for head in moved
        ],
    )
    return moved


def anchor_file_lines(heads: Iterable[ChainHead], *, at: datetime) -> str:
    """JSON lines, one per chain head, to append to an anchor file."""
    stamp = at.astimezone(UTC).isoformat()
    return "".join(
        json.dumps({"chain": head.chain, "seq": head.seq, "hash": head.hash, "anchored_at": stamp}) + "\n"
        for head in heads
    )


def read_anchor_file(path: Path) -> list[AnchoredHead]:
    """Every head an anchor file holds (verify needs only each chain's highest, but older ones cost little)."""
    anchors = []
    source = f"anchor file {path}"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            anchors.append(
                AnchoredHead(
                    chain=str(entry["chain"]),
                    seq=int(entry["seq"]),
                    hash=str(entry["hash"]),
                    anchored_at=datetime.fromisoformat(entry["anchored_at"]),
                    source=source,
                )
            )
        except KeyError as exc:
            raise AnchorFileError(f"{path}, line {number}: not an anchor: it has no {exc.args[0]!r}") from exc
        except (ValueError, TypeError) as exc:
            raise AnchorFileError(
                f"{path}, line {number}: not an anchor (a JSON object with chain, seq, hash and anchored_at): {exc}"
            ) from exc
    return anchors
