"""Pure figures of the service floor: waiting and service times, the wait KPI, who served whom.

Definitions (Qmatic's, as the floor's reports use them):
- waiting time = the last call - the check at the door; a recalled visitor waited until the
  call they answered (or missed), so only the last call counts; every called visit has one,
  no-shows included (they waited that long before their number came up); a video session,
  which never passes the door, waits from the start of its booked session;
- service time = done - start of service, for visits served to the end;
- a wait is over the KPI when it is longer than the site's ``wait_kpi_minutes``;
- visitors per booth and per officer count the visits served there (done).
No database, no clock: the services hand over plain rows.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from checkin.domain.calling import CALLED, DONE, NO_SHOW, SERVING, WAITING

if TYPE_CHECKING:
    from checkin.models import Visit

_CALLED_STATES = (CALLED, SERVING, DONE, NO_SHOW)
# Not stored: a visitor still waiting when their day ended (checkin.models.floor).
NOT_CALLED = "not_called"


@dataclass(frozen=True)
class FloorVisit:
    """What the figures need of one admitted visit or video session: times, its booth and
    officer, no names."""

    arrival_hour: int
    checked_at: datetime
    state: str | None
    called_at: datetime | None = None
    serving_at: datetime | None = None
    finished_at: datetime | None = None
    booth: int | None = None
    officer: str | None = None


def waiting_minutes(visit: FloorVisit) -> float | None:
    """Return how long a called visitor waited, in minutes, up to their last call; else None."""
    if visit.state not in _CALLED_STATES or visit.called_at is None:
        return None
    # An offline tablet's clock may run a little ahead of the server's: never a negative wait.
    return max(0.0, (visit.called_at - visit.checked_at).total_seconds() / 60)


def service_minutes(visit: FloorVisit) -> float | None:
    """Return how long a served visitor was served, in minutes; None unless done."""
    if visit.state != DONE or visit.serving_at is None or visit.finished_at is None:
        return None
    return (visit.finished_at - visit.serving_at).total_seconds() / 60


def visit_minutes(visit: Visit) -> tuple[float | None, float | None]:
    """Return how long a stored visit waited for its last call and was served, in minutes."""
    steps = FloorVisit(
        visit.local_hour,
        visit.checked_at,
        visit.floor_state,
        visit.called_at,
        visit.serving_at,
        visit.finished_at,
    )
    return waiting_minutes(steps), service_minutes(steps)


def state_shown(state: str | None, day: date, today: date) -> str | None:
    """Return a visit's floor state as the log says it: nobody calls a past day's queue."""
    return NOT_CALLED if state == WAITING and day < today else state


def percentile(values: list[float], share: float) -> float:
    """Return the ``share`` (0-1) percentile of sorted ``values``, interpolating between ranks.

    The inclusive method (Excel's PERCENTILE.INC): the 90th of 1..10 is 9.1, of one value that
    value.
    """
    position = (len(values) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return values[low] + (values[high] - values[low]) * (position - low)


@dataclass(frozen=True)
class Durations:
    """Average, median, 90th percentile and longest of some durations, in minutes."""

    count: int = 0
    average: float | None = None
    median: float | None = None
    p90: float | None = None
    longest: float | None = None


def durations(minutes: Iterable[float]) -> Durations:
    """Summarise ``minutes``; every figure is None when there are none."""
    ordered = sorted(minutes)
    if not ordered:
        return Durations()
    return Durations(
        len(ordered),
        statistics.fmean(ordered),
        statistics.median(ordered),
        percentile(ordered, 0.9),
        ordered[-1],
    )


@dataclass(frozen=True)
class FloorFigures:
    """The service floor's figures over a day or a range."""

    waiting: Durations
    service: Durations
    kpi_minutes: int
    over_kpi: int
    no_shows: int
    per_booth: dict[int, int]
    per_officer: dict[str, int]
    # Waiting time by the local hour the visitors arrived at the door.
    waiting_by_hour: dict[int, Durations]

    @property
    def over_kpi_share(self) -> float | None:
        """Return the share of waits longer than the KPI, or None when nobody was called."""
        return self.over_kpi / self.waiting.count if self.waiting.count else None

    @property
    def service_level(self) -> float | None:
        """Return the share of visitors called within the KPI, or None when nobody was called."""
        return 1 - self.over_kpi / self.waiting.count if self.waiting.count else None


def floor_figures(visits: Iterable[FloorVisit], kpi_minutes: int) -> FloorFigures:
    """Return the figures of ``visits`` against a wait KPI of ``kpi_minutes``."""
    waits: list[float] = []
    services: list[float] = []
    by_hour: defaultdict[int, list[float]] = defaultdict(list)
    per_booth: Counter[int] = Counter()
    per_officer: Counter[str] = Counter()
    no_shows = 0
    for visit in visits:
        waited = waiting_minutes(visit)
        if waited is not None:
            waits.append(waited)
            by_hour[visit.arrival_hour].append(waited)
        served = service_minutes(visit)
        if served is not None:
            services.append(served)
        if visit.state == DONE:
            if visit.booth is not None:
                per_booth[visit.booth] += 1
            if visit.officer is not None:
                per_officer[visit.officer] += 1
        no_shows += visit.state == NO_SHOW
    return FloorFigures(
        waiting=durations(waits),
        service=durations(services),
        kpi_minutes=kpi_minutes,
        over_kpi=sum(waited > kpi_minutes for waited in waits),
        no_shows=no_shows,
        per_booth=dict(sorted(per_booth.items())),
        per_officer=dict(sorted(per_officer.items())),
        waiting_by_hour={hour: durations(by_hour[hour]) for hour in sorted(by_hour)},
    )
