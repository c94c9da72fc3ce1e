"""The floor's pure rules: which step a visitor at a booth may take, and the booth limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkin.domain import calling
from checkin.domain.calling import CALLED, DONE, NO_SHOW, SERVING, WAITING

T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "calls", "steps"),
    [
        (None, 0, ()),
        (WAITING, 0, ()),
        (CALLED, 1, ("recall", "start")),
        (CALLED, 2, ("recall", "start", "no_show")),
        (CALLED, 3, ("recall", "start", "no_show")),
        (SERVING, 1, ("done",)),
        (SERVING, 2, ("done",)),
        (DONE, 2, ()),
        (NO_SHOW, 2, ()),
    ],
)
def test_steps_from_each_state(state, calls, steps):
    assert calling.steps_from(state, calls) == steps


@pytest.mark.parametrize(
    ("step", "state", "calls", "waits"),
    [
        ("no_show", CALLED, 1, True),
        ("no_show", CALLED, 2, False),
        ("no_show", SERVING, 1, False),
        ("no_show", DONE, 1, False),
        ("recall", CALLED, 1, False),
        ("start", CALLED, 1, False),
    ],
)
def test_only_a_no_show_waits_for_a_recall(step, state, calls, waits):
    assert calling.waits_for_a_recall(step, state, calls) is waits


@pytest.mark.parametrize(
    ("step", "to_state", "frees_booth"),
    [
        ("recall", CALLED, False),
        ("start", SERVING, False),
        ("done", DONE, True),
        ("no_show", NO_SHOW, True),
    ],
)
def test_where_each_step_leads(step, to_state, frees_booth):
    assert (calling.STEPS[step].to_state, calling.STEPS[step].frees_booth) == (
        to_state,
        frees_booth,
    )


def test_a_visitor_at_a_booth_is_called_or_served():
    assert calling.AT_BOOTH == (CALLED, SERVING)


@pytest.mark.parametrize(
    ("delta", "minutes"),
    [
        (timedelta(0), 0),
        (timedelta(seconds=59), 0),
        (timedelta(minutes=1), 1),
        (timedelta(minutes=40, seconds=30), 40),
        (timedelta(minutes=-2), 0),
    ],
)
def test_waited_minutes(delta, minutes):
    assert calling.waited_minutes(T0, T0 + delta) == minutes


@pytest.mark.parametrize(
    ("text", "count", "labels"),
    [
        ("", 2, ["", ""]),
        ("A\nB\nC", 2, ["A", "B"]),
        ("  A \n\nC", 4, ["A", "", "C", ""]),
        ("x" * 50, 1, ["x" * 40]),
        ("A\r\nB", 2, ["A", "B"]),
    ],
)
def test_booth_labels(text, count, labels):
    assert calling.booth_labels(text, count) == labels
