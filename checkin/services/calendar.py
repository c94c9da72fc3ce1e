"""A site's office calendar: quotas by weekday, the national holidays it closes on, local closures.

The calendar gives each day its quota when the day's counter row is made (``day_counter``);
a change that concerns today applies to today's row at once, as a quota change always has.
Closing today keeps the slots taken; tablets give back what they hold unused.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from checkin.domain import limits, office_calendar
from checkin.domain.errors import (
    AlreadyClosed,
    ClosedDayInPast,
    ClosedLabelInvalid,
    NegativeQuota,
    NotAHoliday,
    UnknownClosedDay,
)
from checkin.extensions import db
from checkin.models import ClosedDay, Site, User, WeekdayQuota
from checkin.models.calendar import MAX_CLOSED_LABEL
from checkin.services import audit, day_counter
from checkin.services.day_counter import Quota

CLOSED_DAYS = "closed_days"


def weekday_quotas(site: Site) -> dict[int, int | None]:
    """Return the weekdays with a quota of their own (``office_calendar.CLOSED``: closed)."""
    rows = db.session.execute(
        sa.select(WeekdayQuota.weekday, WeekdayQuota.quota)
        .where(WeekdayQuota.site_id == site.id)
        .order_by(WeekdayQuota.weekday)
    )
    return {weekday: quota for weekday, quota in rows}


def set_weekday_quotas(site: Site, quotas: Mapping[int, int | None]) -> None:
    """Replace the weekdays' own quotas in the caller's transaction; others take the default."""
    if any(quota is not None and quota < 0 for quota in quotas.values()):
        raise NegativeQuota()
    db.session.execute(sa.delete(WeekdayQuota).where(WeekdayQuota.site_id == site.id))
    db.session.add_all(
        WeekdayQuota(site_id=site.id, weekday=weekday, quota=quota)
        for weekday, quota in sorted(quotas.items())
        if weekday in office_calendar.WEEKDAYS
    )


def apply_today(site: Site, now: datetime) -> Quota:
    """Give today's counter row the calendar's quota of today, in the caller's transaction.

    Closing today leaves no slot unheld, so tablets give back what they hold when they next ask
    (``Quota.return_held``); opening it again lets them lease again.
    """
    day = site.local_day(now)
    return day_counter.replan(site, day, day_counter.planned(site, day))


@dataclass(frozen=True)
class Holiday:
    """A national holiday or collective leave day, and whether the site closes on it."""

    day: date
    name: str
    ticked: bool


def holidays_shown(site: Site, today: date, language: str) -> list[Holiday]:
    """Return the holidays of this year (and next, in December), ticked where the site closes."""
    found = office_calendar.national_holidays(office_calendar.holiday_years(today), language)
    closed = set(
        db.session.scalars(
            sa.select(ClosedDay.day).where(
                ClosedDay.site_id == site.id, ClosedDay.day.between(min(found), max(found))
            )
        )
    )
    return [Holiday(day, name, day in closed) for day, name in found.items()]


def closed_days_from(site: Site, start: date) -> list[ClosedDay]:
    """Return the site's local closed days (not holidays) from ``start`` on, by date."""
    return list(
        db.session.scalars(
            sa.select(ClosedDay)
            .where(ClosedDay.site_id == site.id, ClosedDay.day >= start, ~ClosedDay.holiday)
            .order_by(ClosedDay.day)
        )
    )


def set_holidays(site: Site, ticked: Collection[date], by: User | None, now: datetime) -> Quota:
    """Close the site on the ticked holidays shown, open it on the others; past ones stay.

    A holiday that is also a local closed day stays closed: the local closure says so.
    """
    today = site.local_day(now)
    found = office_calendar.national_holidays(office_calendar.holiday_years(today))
    unknown = sorted(set(ticked) - set(found))
    if unknown:
        raise NotAHoliday(unknown[0])
    coming = {day: name for day, name in found.items() if day >= today}
    rows = {
        row.day: row
        for row in db.session.scalars(
            sa.select(ClosedDay).where(
                ClosedDay.site_id == site.id, ClosedDay.day.in_(list(coming))
            )
        )
    }
    closing = sorted(day for day in set(ticked) & set(coming) if day not in rows)
    opening = sorted(day for day, row in rows.items() if row.holiday and day not in ticked)
    db.session.add_all(
        ClosedDay(site_id=site.id, day=day, label=coming[day], holiday=True) for day in closing
    )
    for day in opening:
        db.session.delete(rows[day])
    if closing or opening:
        detail = {
            "holiday": True,
            "closed": [[day.isoformat(), coming[day]] for day in closing],
            "opened": [[day.isoformat(), coming[day]] for day in opening],
        }
        audit.record(site, by, now, CLOSED_DAYS, detail)
    return apply_today(site, now)


def add_closed_day(site: Site, day: date, label: str, by: User | None, now: datetime) -> Quota:
    """Close the site on ``day`` (today or later) for the reason ``label``."""
    label = label.strip()
    if not label or len(label) > MAX_CLOSED_LABEL or not limits.storable(label):
        raise ClosedLabelInvalid(MAX_CLOSED_LABEL)
    if day < site.local_day(now):
        raise ClosedDayInPast(day)
    if db.session.get(ClosedDay, (site.id, day)) is not None:
        raise AlreadyClosed(day)
    db.session.add(ClosedDay(site_id=site.id, day=day, label=label, holiday=False))
    detail = {"holiday": False, "closed": [[day.isoformat(), label]], "opened": []}
    audit.record(site, by, now, CLOSED_DAYS, detail)
    return apply_today(site, now)


def remove_closed_day(site: Site, day: date, by: User | None, now: datetime) -> Quota:
    """Open the site again on a local closed day of today or later."""
    row = db.session.get(ClosedDay, (site.id, day))
    if row is None or row.holiday or day < site.local_day(now):
        raise UnknownClosedDay(day)
    detail = {"holiday": False, "closed": [], "opened": [[day.isoformat(), row.label]]}
    db.session.delete(row)
    audit.record(site, by, now, CLOSED_DAYS, detail)
    return apply_today(site, now)


@dataclass(frozen=True)
class Closure:
    """Why the office is closed on a day: a holiday or local closure by name, or its weekday."""

    because: str
    name: str = ""


def closure(site: Site, day: date, language: str) -> Closure | None:
    """Return why the calendar closes the site on ``day``, named in ``language``; None if open."""
    plan = day_counter.planned(site, day)
    if not plan.closed:
        return None
    if plan.closed_because == office_calendar.CLOSED_WEEKDAY:
        return Closure(plan.closed_because)
    row = db.session.get(ClosedDay, (site.id, day))
    name = row.label
    if row.holiday:
        name = office_calendar.national_holidays([day.year], language).get(day, name)
    return Closure(plan.closed_because, name)
