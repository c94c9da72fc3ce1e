"""The login throttle's pure rule: attempts per window, growing windows, forgiveness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkin.domain.throttle import WINDOW, Window

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
LIMIT = 5


def taken(window: Window, times: int, now: datetime) -> Window:
    """Take ``times`` attempts at ``now``, failing the test if one is refused."""
    for _ in range(times):
        window = window.take(LIMIT, now)
        assert window is not None
    return window


def test_a_window_lets_the_limit_through_then_refuses_until_it_ends():
    full = taken(Window(), LIMIT, T0)
    assert full.take(LIMIT, T0 + WINDOW - timedelta(seconds=1)) is None
    assert full.locked_until(LIMIT, T0) == T0 + WINDOW
    again = full.take(LIMIT, T0 + WINDOW)
    assert (again.started_at, again.attempts) == (T0 + WINDOW, 1)


@pytest.mark.parametrize(
    ("full_windows", "length"),
    [(0, 15), (1, 30), (2, 60), (3, 120), (6, 960), (7, 960), (40, 960)],
)
def test_each_window_that_ended_full_doubles_the_next_up_to_sixteen_hours(full_windows, length):
    assert Window(T0, 0, full_windows).length == timedelta(minutes=length)


def test_a_window_that_ended_full_makes_the_next_longer():
    first = taken(Window(), LIMIT, T0)
    second = taken(first, LIMIT, first.ends_at)
    assert second.full_windows == 1
    assert second.locked_until(LIMIT, second.started_at) == second.started_at + 2 * WINDOW
    third = second.take(LIMIT, second.ends_at)
    assert third.full_windows == 2


@pytest.mark.parametrize(
    ("attempts", "idle", "full_windows"),
    [
        (LIMIT, timedelta(0), 1),  # full, and tried again as soon as it ended
        (LIMIT, WINDOW - timedelta(seconds=1), 1),
        (LIMIT, WINDOW, 0),  # full, but then left alone for a whole window
        (LIMIT - 1, timedelta(0), 0),  # not full: staff mistyped a few times
    ],
)
def test_a_longer_wait_follows_only_a_recent_full_window(attempts, idle, full_windows):
    window = taken(Window(), attempts, T0)
    assert window.take(LIMIT, window.ends_at + idle).full_windows == full_windows


def test_a_correct_password_gives_its_attempt_back_and_forgives_the_longer_wait():
    window = taken(taken(Window(), LIMIT, T0), 3, T0 + WINDOW)
    assert window.full_windows == 1
    forgiven = window.give_back()
    assert (forgiven.attempts, forgiven.full_windows) == (2, 0)
    assert Window().give_back() == Window()


def test_nothing_is_locked_before_the_first_attempt_or_below_the_limit():
    assert Window().locked_until(LIMIT, T0) is None
    assert taken(Window(), LIMIT - 1, T0).locked_until(LIMIT, T0) is None
