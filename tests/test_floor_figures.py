"""Waiting and service times, the wait KPI and who served whom (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from checkin.domain.floor_figures import (
    Durations,
    FloorVisit,
    durations,
    floor_figures,
    percentile,
    service_minutes,
    state_shown,
    waiting_minutes,
)

DOOR = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 09:00 in Kediri


def visit(
    state: str | None,
    called: float | None = None,
    serving: float | None = None,
    finished: float | None = None,
    *,
    hour: int = 9,
    booth: int | None = 1,
    officer: str | None = "rina",
) -> FloorVisit:
    """A visit checked in at DOOR with its floor steps ``called`` ... minutes after it."""

    def at(minutes: float | None) -> datetime | None:
        return None if minutes is None else DOOR + timedelta(minutes=minutes)

    return FloorVisit(hour, DOOR, state, at(called), at(serving), at(finished), booth, officer)


@pytest.mark.parametrize(
    ("case", "waited", "served"),
    [
        (visit("waiting"), None, None),
        (visit(None), None, None),  # not admitted: not on the floor
        (visit("called", 12), 12, None),
        (visit("serving", 12, 14), 12, None),
        (visit("done", 12, 14, 29), 12, 15),
        # A recall: called_at holds the last call, which is the one the wait counts to.
        (visit("done", 40, 41, 46), 40, 5),
        (visit("no_show", 25, finished=30), 25, None),
        # Checked in on a tablet whose clock ran ahead, called at once: no negative wait.
        (visit("called", -3), 0, None),
    ],
)
def test_waiting_and_service_time_of_one_visit(case, waited, served) -> None:
    assert waiting_minutes(case) == waited
    assert service_minutes(case) == served


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([5.0], 0.9, 5.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([float(n) for n in range(1, 11)], 0.9, 9.1),
        ([float(n) for n in range(1, 11)], 0.5, 5.5),
        ([float(n) for n in range(1, 11)], 1.0, 10.0),
        ([float(n) for n in range(0, 101)], 0.9, 90.0),
    ],
)
def test_percentile_interpolates_between_ranks(values, share, expected) -> None:
    assert percentile(values, share) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [
        ([], Durations()),
        ([7.0], Durations(1, 7.0, 7.0, 7.0, 7.0)),
        ([10.0, 2.0, 6.0], Durations(3, 6.0, 6.0, 9.2, 10.0)),
        ([1.0, 1.0, 1.0, 41.0], Durations(4, 11.0, 1.0, 29.0, 41.0)),
    ],
)
def test_durations_summary(minutes, expected) -> None:
    got = durations(minutes)
    assert got.count == expected.count
    for name in ("average", "median", "p90", "longest"):
        assert getattr(got, name) == pytest.approx(getattr(expected, name)), name


def test_figures_with_recalls_no_shows_and_the_kpi() -> None:
    visits = [
        visit("done", 10, 11, 21, hour=9, booth=1, officer="rina"),
        visit("done", 45, 46, 52, hour=9, booth=2, officer="budi"),  # recalled: last call at 45
        visit("no_show", 31, finished=36, hour=10, booth=2, officer="budi"),
        visit("serving", 30, 31, hour=10, booth=3, officer="rina"),  # exactly the KPI: not over
        visit("called", 5, hour=11, booth=1, officer="rina"),
        visit("waiting", hour=11),
    ]
    figures = floor_figures(visits, kpi_minutes=30)
    assert figures.waiting.count == 5
    assert figures.waiting.average == pytest.approx((10 + 45 + 31 + 30 + 5) / 5)
    assert figures.waiting.median == 30
    assert figures.waiting.longest == 45
    assert figures.service.count == 2
    assert figures.service.average == pytest.approx(8)
    assert figures.service.longest == 10
    assert figures.over_kpi == 2
    assert figures.over_kpi_share == pytest.approx(0.4)
    assert figures.no_shows == 1
    assert figures.per_booth == {1: 1, 2: 1}
    assert figures.per_officer == {"budi": 1, "rina": 1}
    assert list(figures.waiting_by_hour) == [9, 10, 11]
    assert figures.waiting_by_hour[9].average == pytest.approx(27.5)
    assert figures.waiting_by_hour[10].longest == 31
    assert figures.waiting_by_hour[11].count == 1


@pytest.mark.parametrize(("kpi", "over"), [(5, 3), (10, 2), (44, 1), (45, 0)])
def test_waits_over_the_kpi_are_the_longer_ones(kpi: int, over: int) -> None:
    visits = [visit("called", minutes) for minutes in (5, 10, 30, 45)]
    figures = floor_figures(visits, kpi_minutes=kpi)
    assert figures.over_kpi == over
    # The service level: the share of the called visitors who waited no longer than the KPI.
    assert figures.service_level == pytest.approx((4 - over) / 4)


def test_a_day_without_calls_has_no_figures_but_counts_zero() -> None:
    figures = floor_figures([visit("waiting"), visit(None)], kpi_minutes=30)
    assert figures.waiting == Durations() and figures.service == Durations()
    assert figures.over_kpi_share is None and figures.service_level is None
    assert (figures.no_shows, figures.per_booth, figures.waiting_by_hour) == (0, {}, {})


@pytest.mark.parametrize(
    ("state", "day_ago", "shown"),
    [
        ("waiting", 0, "waiting"),
        ("waiting", 1, "not_called"),  # nobody calls a past day's queue
        ("called", 1, "called"),
        ("done", 1, "done"),
        (None, 1, None),
    ],
)
def test_the_state_a_log_says(state, day_ago, shown) -> None:
    today = DOOR.date()
    assert state_shown(state, today - timedelta(days=day_ago), today) == shown
