"""Kills paced by progress: every kill is due before the export can be over, whatever the machine's speed."""

from chaos.constants import KILL_SPREAD, KILLS
from chaos.kills import Kills, due


def test_every_kill_is_due_in_order_and_before_the_last_items() -> None:
    for total in (1, 7, 50, 1322, 100_000):
        thresholds = [due(kill, KILLS, total) for kill in range(1, KILLS + 1)]
        assert thresholds == sorted(thresholds)
        assert thresholds[-1] <= total
        assert thresholds[-1] <= KILL_SPREAD * total + 1


def test_kills_that_did_not_land_are_a_problem() -> None:
    tally = Kills(wanted=3, succeeded_at=[10, 20])
    assert tally.problems() == ["only 2 of 3 kills landed before the work was done"]
    tally.succeeded_at.append(30)
    assert tally.problems() == []
