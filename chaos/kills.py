"""Worker SIGKILLs paced by the export's progress rather than by the clock.

Why: a clock-paced loop (a kill every second or so) lands its kills after the export is over on a fast machine, and
then proves nothing. Here kill k of n waits until k / n of `KILL_SPREAD` of the items have succeeded, and strikes only
a worker that has been up long enough to be working; each kill is counted only if items were still unfinished when it
landed, so the count printed is the number of kills the export really lived through.
"""

import asyncio
import math
import random
import time
from dataclasses import dataclass, field

from chaos.constants import KILL_MIN_UP_SECONDS, KILL_SPREAD, PACE_POLL_SECONDS, RECOVERY_DEADLINE_SECONDS
from chaos.world import World


@dataclass
class Kills:
    wanted: int
    succeeded_at: list[int] = field(default_factory=list)
    """Items succeeded at each kill that landed while items were still unfinished."""

    @property
    def landed(self) -> int:
        return len(self.succeeded_at)

    def problems(self) -> list[str]:
        if self.landed >= self.wanted:
            return []
        return [f"only {self.landed} of {self.wanted} kills landed before the work was done"]


def due(kill: int, kills: int, total: int) -> int:
    """Items that must have succeeded before kill number `kill` (1-based) of `kills` strikes."""
    return math.ceil(kill / kills * KILL_SPREAD * total)


def victim(world: World, draw: random.Random) -> int | None:
    """A random worker among those up long enough to be working, or None while all are starting."""
    ready = [index for index in range(len(world.workers)) if world.up_for(index) >= KILL_MIN_UP_SECONDS]
    return draw.choice(ready) if ready else None


async def paced_kills(
    world: World, *, kills: int, seed: int, deadline_seconds: float = RECOVERY_DEADLINE_SECONDS
) -> Kills:
    """SIGKILL and restart workers `kills` times over the export; call once the first document is exported."""
    draw = random.Random(seed)
    tally = Kills(wanted=kills)
    deadline = time.monotonic() + deadline_seconds
    while tally.landed < kills and time.monotonic() < deadline:
        progress = await world.safe_progress()
        if progress is not None:
            if not progress.unfinished:
                break
            chosen = victim(world, draw)
            if chosen is not None and progress.succeeded >= due(tally.landed + 1, kills, progress.total):
                world.kill_and_restart(chosen)
                tally.succeeded_at.append(progress.succeeded)
        await asyncio.sleep(PACE_POLL_SECONDS)
    return tally
