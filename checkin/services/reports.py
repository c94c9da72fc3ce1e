"""Reports from the day rows: a day's totals, trends over a range, arrivals per hour, all sites.

Each figure has one reader here, for the pages, the exports, the API and head office alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from checkin.domain import admission, calling, limits
from checkin.domain.floor_figures import FloorFigures, FloorVisit, floor_figures
from checkin.extensions import db
from checkin.models import (
    Booking,
    BookingSession,
    Booth,
    DayQuota,
    SessionDay,
    Site,
    User,
    Visit,
)
from checkin.services import day_counter

DAY, WEEK, MONTH = "day", "week", "month"
# Longer ranges are summed into weeks, then months, so a chart keeps a readable number of bars.
MAX_DAILY_PERIODS = 62
MAX_WEEKLY_PERIODS = 366


def no_show_rate(came: int, no_shows: int) -> float | None:
    """Return the share of the bookings settled (came, or nobody came) that nobody came for, or
    None if none is settled yet."""
    settled = came + no_shows
    return no_shows / settled if settled else None


@dataclass(frozen=True)
class Totals:
    """The counts of one day, or of a period of days summed with :meth:`plus`.

    ``quota`` is the walk-in slots offered: a day's own limit, and for a period the limits of
    the days the office saw visitors, so that quiet days (weekends) do not dilute the usage.
    ``held`` counts slots tablets leased and did not use: taken from the quota, never reissued.

    The booked channel: ``booked`` places taken by bookings (cancelled ones given back),
    ``came`` booked visitors admitted to their place, ``no_shows`` bookings nobody came for
    (those a release dropped, and on a day gone by every one not admitted), ``released``
    booked places given to walk-ins; ``overrides`` visitors a manager admitted past the full
    walk-in quota, counted apart from it.
    """

    start: date
    end: date
    quota: int = 0
    open_days: int = 0
    checks: int = 0
    admitted: int = 0
    refused: int = 0
    retests: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: dict.fromkeys(admission.REASONS, 0))
    held: int = 0
    booked: int = 0
    came: int = 0
    no_shows: int = 0
    released: int = 0
    overrides: int = 0

    @property
    def usage(self) -> float | None:
        """Return the share of the offered slots that was used, or None if none were offered."""
        return self.admitted / self.quota if self.quota else None

    @property
    def no_show_rate(self) -> float | None:
        """Return the share of the settled bookings that nobody came for (see no_show_rate)."""
        return no_show_rate(self.came, self.no_shows)

    def plus(self, day: Totals) -> Totals:
        """Return these totals with one more day added."""
        is_open = day.checks > 0
        return Totals(
            self.start,
            max(self.end, day.end),
            self.quota + day.quota * is_open,
            self.open_days + is_open,
            self.checks + day.checks,
            self.admitted + day.admitted,
            self.refused + day.refused,
            self.retests + day.retests,
            {reason: count + day.reasons[reason] for reason, count in self.reasons.items()},
            self.held + day.held,
            self.booked + day.booked,
            self.came + day.came,
            self.no_shows + day.no_shows,
            self.released + day.released,
            self.overrides + day.overrides,
        )


def summed(start: date, days: list[Totals]) -> Totals:
    """Return the totals of ``days``, a range beginning at ``start``."""
    total = Totals(start, start)
    for day in days:
        total = total.plus(day)
    return total


@dataclass(frozen=True)
class BookedDay:
    """A day's booked channel, summed over its sessions."""

    booked: int = 0
    came: int = 0
    no_shows: int = 0
    released: int = 0


def booked_columns(today: date) -> tuple[sa.ColumnElement[int], ...]:
    """Return the sums of the session rows read as :class:`BookedDay`: a booking of a day before
    ``today`` still waiting was a no-show."""
    waiting = SessionDay.booked - SessionDay.admitted
    return (
        sa.func.sum(SessionDay.booked + SessionDay.no_shows),
        sa.func.sum(SessionDay.admitted),
        sa.func.sum(SessionDay.no_shows + sa.case((SessionDay.day < today, waiting), else_=0)),
        sa.func.sum(SessionDay.released),
    )


def booked_days(site: Site, start: date, end: date, today: date) -> dict[date, BookedDay]:
    """Return the booked channel of each day from ``start`` to ``end`` that had sessions."""
    rows = db.session.execute(
        sa.select(SessionDay.day, *booked_columns(today))
        .where(SessionDay.site_id == site.id, SessionDay.day.between(start, end))
        .group_by(SessionDay.day)
    )
    return {day: BookedDay(*counts) for day, *counts in rows}


def daily_report(site: Site, start: date, end: date, today: date) -> list[Totals]:
    """Return the totals of each day from ``start`` to ``end`` inclusive, zero for quiet days;
    ``today`` is the site's, which settles the bookings of the days before it."""
    limits.check_range(start, end)
    rows = {
        row.day: row
        for row in db.session.scalars(
            sa.select(DayQuota).where(DayQuota.site_id == site.id, DayQuota.day.between(start, end))
        )
    }
    booked = booked_days(site, start, end, today)
    every_day = [start + timedelta(days=offset) for offset in range((end - start).days + 1)]
    # Days without a row yet (today before its first check, days to come) read the calendar.
    planned = day_counter.quotas({site: [day for day in every_day if day not in rows]})
    days = []
    for day in every_day:
        row = rows.get(day)
        channel = booked.get(day, BookedDay())
        if row is None:
            days.append(Totals(day, day, planned[site.id, day].limit, **vars(channel)))
        else:
            days.append(
                Totals(
                    day,
                    day,
                    row.limit,
                    open_days=int(row.checks > 0),
                    checks=row.checks,
                    admitted=row.admitted,
                    refused=row.refused,
                    retests=row.retests,
                    reasons=row.reason_counts(),
                    held=row.held,
                    overrides=row.overrides,
                    **vars(channel),
                )
            )
    return days


@dataclass(frozen=True)
class Arrivals:
    """First readings (re-tests left out, voids excluded) per local hour, with temperatures."""

    by_hour: dict[int, int]
    temperature_sum_dc: int

    @property
    def total(self) -> int:
        """Return how many visitors arrived."""
        return sum(self.by_hour.values())

    @property
    def hours(self) -> range:
        """Return every hour from the first to the last with arrivals, quiet ones included."""
        return range(min(self.by_hour, default=0), max(self.by_hour, default=-1) + 1)

    @property
    def peak_hour(self) -> int | None:
        """Return the busiest hour of the day (the earliest one on a tie), or None if quiet."""
        if not self.total:
            return None
        return max(sorted(self.by_hour), key=self.by_hour.__getitem__)

    @property
    def average_temperature_dc(self) -> float | None:
        """Return the mean first reading in tenths of a degree, or None without arrivals."""
        return self.temperature_sum_dc / self.total if self.total else None


def arrivals(site: Site, start: date, end: date) -> Arrivals:
    """Count arrivals per local hour from ``start`` to ``end`` on the (site, day) index."""
    rows = db.session.execute(
        sa.select(Visit.local_hour, sa.func.count(), sa.func.sum(Visit.temperature_dc))
        .where(
            Visit.site_id == site.id,
            Visit.day.between(start, end),
            Visit.retest_of_id.is_(None),
            Visit.voided_at.is_(None),
        )
        .group_by(Visit.local_hour)
    ).all()
    return Arrivals(
        by_hour={hour: count for hour, count, _total in rows},
        temperature_sum_dc=sum(total for _hour, _count, total in rows),
    )


@dataclass(frozen=True)
class DayOverview:
    """Everything the top of a day's log and its printed summary show."""

    summary: Totals
    arrivals: Arrivals
    voided: int
    floor: FloorFigures


def voided_checks(site: Site, start: date, end: date) -> int:
    """Return how many checks from ``start`` to ``end`` were voided (the totals leave them out)."""
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            Visit.site_id == site.id, Visit.day.between(start, end), Visit.voided_at.is_not(None)
        )
    )


def day_overview(site: Site, day: date, today: date) -> DayOverview:
    """Return a day's rollup counts, arrivals per hour, voided checks and service floor figures."""
    return DayOverview(
        daily_report(site, day, day, today)[0],
        arrivals(site, day, day),
        voided_checks(site, day, day),
        floor_report(site, day),
    )


@dataclass(frozen=True)
class RangeSummary:
    """A range's totals as the report page shows them, and the voided checks they leave out."""

    total: Totals
    voided: int


def range_summary(site: Site, start: date, end: date, today: date) -> RangeSummary:
    """Return the totals of ``start`` to ``end`` summed from the day rows, and the voided count."""
    return RangeSummary(
        summed(start, daily_report(site, start, end, today)), voided_checks(site, start, end)
    )


def floor_visits(site: Site, start: date, end: date) -> list[tuple[date, FloorVisit]]:
    """Return the admitted visits of ``start``..``end`` that reached the floor, and the video
    sessions the officers' queue held, by day.

    A video session never passes the door: it waits from its session's start (local time)
    and is served without a booth. Times, booth numbers and the calling officer's account
    only: no visitor's details.
    """
    visits = db.session.execute(
        sa.select(
            Visit.day,
            Visit.local_hour,
            Visit.checked_at,
            Visit.floor_state,
            Visit.called_at,
            Visit.serving_at,
            Visit.finished_at,
            Booth.number,
            User.username,
        )
        .outerjoin(Booth, Visit.booth_id == Booth.id)
        .outerjoin(User, Visit.called_by_id == User.id)
        .where(
            Visit.site_id == site.id,
            Visit.day.between(start, end),
            Visit.voided_at.is_(None),
            Visit.floor_state.is_not(None),
        )
    )
    sessions = db.session.execute(
        sa.select(
            Booking.day,
            BookingSession.starts,
            Booking.floor_state,
            Booking.called_at,
            Booking.serving_at,
            Booking.finished_at,
            User.username,
        )
        .join(BookingSession, Booking.session_id == BookingSession.id)
        .outerjoin(User, Booking.officer_id == User.id)
        .where(
            Booking.site_id == site.id,
            Booking.day.between(start, end),
            Booking.kind == calling.VIDEO,
            Booking.floor_state.is_not(None),
        )
    )
    return [(day, FloorVisit(*fields)) for day, *fields in visits] + [
        (
            day,
            FloorVisit(
                starts.hour,
                datetime.combine(day, starts, site.zone),
                state,
                called_at,
                serving_at,
                finished_at,
                officer=officer,
            ),
        )
        for day, starts, state, called_at, serving_at, finished_at, officer in sessions
    ]


def floor_report(site: Site, start: date, end: date | None = None) -> FloorFigures:
    """Return the service floor's figures of ``start``..``end`` (or the one day ``start``)."""
    limits.check_range(start, end or start)
    visits = [visit for _day, visit in floor_visits(site, start, end or start)]
    return floor_figures(visits, site.wait_kpi_minutes)


def floor_by_day(site: Site, start: date, end: date) -> dict[date, FloorFigures]:
    """Return the service floor's figures of each day of ``start``..``end``, quiet days too."""
    limits.check_range(start, end)
    by_day: dict[date, list[FloorVisit]] = {}
    for day, visit in floor_visits(site, start, end):
        by_day.setdefault(day, []).append(visit)
    return {
        start + timedelta(days=offset): floor_figures(
            by_day.get(start + timedelta(days=offset), []), site.wait_kpi_minutes
        )
        for offset in range((end - start).days + 1)
    }


@dataclass(frozen=True)
class Report:
    """A site's trends over a date range, per day, week or month, with arrivals per hour."""

    start: date
    end: date
    granularity: str
    periods: list[Totals]
    total: Totals
    arrivals: Arrivals


def granularity_for(start: date, end: date) -> str:
    """Return the period a report over ``start``..``end`` sums its days into."""
    days = (end - start).days + 1
    return DAY if days <= MAX_DAILY_PERIODS else WEEK if days <= MAX_WEEKLY_PERIODS else MONTH


def period_start(day: date, granularity: str) -> date:
    """Return the first day of the day, Monday-based week or month holding ``day``."""
    if granularity == WEEK:
        return day - timedelta(days=day.weekday())
    if granularity == MONTH:
        return day.replace(day=1)
    return day


def site_report(site: Site, start: date, end: date, today: date) -> Report:
    """Return a site's report from ``start`` to ``end`` from rollups and the (site, day) index."""
    days = daily_report(site, start, end, today)
    granularity = granularity_for(start, end)
    periods: dict[date, Totals] = {}
    for day in days:
        key = period_start(day.start, granularity)
        periods[key] = periods.get(key, Totals(max(key, start), day.start)).plus(day)
    by_hour = arrivals(site, start, end)
    return Report(start, end, granularity, list(periods.values()), summed(start, days), by_hour)


@dataclass(frozen=True)
class SiteTotals:
    """One site's totals over a period, read from the day rows."""

    site_id: int
    code: str
    name: str
    days: int
    checks: int
    admitted: int
    refused: int
    retests: int
    quota: int
    overrides: int
    booked: int = 0
    came: int = 0
    no_shows: int = 0
    released: int = 0

    @property
    def no_show_rate(self) -> float | None:
        """Return the share of the settled bookings that nobody came for (see no_show_rate)."""
        return no_show_rate(self.came, self.no_shows)

    @property
    def took_bookings_or_overrides(self) -> bool:
        """Return whether the site had a booked channel (places booked or released) or an
        admission past the quota in the period, as the reports show them."""
        return bool(self.booked or self.released or self.overrides)


def national_summary(start: date, end: date, today: date) -> list[SiteTotals]:
    """Return every site's totals from ``start`` to ``end`` inclusive, from the day rows and the
    session rows; ``today`` settles the bookings of the days before it."""
    channels = {
        site_id: BookedDay(*counts)
        for site_id, *counts in db.session.execute(
            sa.select(SessionDay.site_id, *booked_columns(today))
            .where(SessionDay.day.between(start, end))
            .group_by(SessionDay.site_id)
        )
    }
    rows = db.session.execute(
        sa.select(
            Site.id,
            Site.code,
            Site.name,
            sa.func.count(DayQuota.day),
            sa.func.coalesce(sa.func.sum(DayQuota.checks), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.admitted), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.refused), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.retests), 0),
            # The slots offered on the days the office saw visitors, as Totals.plus counts them.
            sa.func.coalesce(
                sa.func.sum(sa.case((DayQuota.checks > 0, DayQuota.limit), else_=0)), 0
            ),
            sa.func.coalesce(sa.func.sum(DayQuota.overrides), 0),
        )
        .outerjoin(
            DayQuota,
            sa.and_(DayQuota.site_id == Site.id, DayQuota.day.between(start, end)),
        )
        .group_by(Site.id, Site.code, Site.name)
        .order_by(Site.code)
    )
    return [SiteTotals(*row, **vars(channels.get(row.id, BookedDay()))) for row in rows]
