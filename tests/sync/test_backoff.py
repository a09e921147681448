import random
from datetime import UTC, datetime, timedelta

from sync.backoff import BackoffSchedule

START = datetime(2026, 1, 1, tzinfo=UTC)


def test_delays_grow_exponentially_up_to_the_cap_with_full_jitter() -> None:
    schedule = BackoffSchedule(base_seconds=30, cap_seconds=3600, window_seconds=86_400)
    assert [schedule.ceiling(attempt) for attempt in (1, 2, 3, 8, 20)] == [30, 60, 120, 3600, 3600]
    draw = random.Random(1)
    delays = [
        (schedule.next_attempt(attempt=3, first_attempt_at=START, now=START, draw=draw) or START) - START
        for _ in range(200)
    ]
    assert all(timedelta(0) <= delay <= timedelta(seconds=120) for delay in delays)
    assert len(set(delays)) > 150  # jittered, not a wave


def test_a_requested_retry_time_is_honoured() -> None:
    schedule = BackoffSchedule()
    later = START + timedelta(minutes=10)
    assert schedule.next_attempt(attempt=1, first_attempt_at=START, now=START, not_before=later) == later


def test_the_retry_window_ends_the_retries() -> None:
    schedule = BackoffSchedule(base_seconds=30, cap_seconds=3600, window_seconds=86_400)
    near_the_end = START + timedelta(hours=23, minutes=59)
    assert schedule.next_attempt(attempt=12, first_attempt_at=START, now=near_the_end, draw=random.Random(2)) is None
    assert schedule.next_attempt(attempt=1, first_attempt_at=START, now=START) is not None


def test_the_default_window_is_about_a_day() -> None:
    assert BackoffSchedule().window_seconds == 24 * 3600
