"""Head office's view of every site: today's counters and who is inside now, a month's totals.

Read from the day rows (one per site and day) and the (site, day, floor state) index of visits,
never by scanning visits, so the page stays fast with hundreds of sites and years of checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import DayQuota, Site, Visit
from checkin.services import floor

# Sites keep their own days; a month of all sites is head office's (Jakarta, WIB).
HEAD_OFFICE_ZONE = ZoneInfo("Asia/Jakarta")
SORT_COLUMNS = ("code", "name", "used", "left", "refused", "inside")
DEFAULT_SORT = "code"


@dataclass(frozen=True)
class SiteToday:
    """One site's own today: slots used and left, refusals, and admitted visitors still inside.

    A site with no check yet today has no day row: nothing used, its whole quota left.
    """

    site_id: int
    code: str
    name: str
    day: date
    limit: int
    used: int
    refused: int
    inside: int

    @property
    def left(self) -> int:
        """Return the walk-in slots still free today."""
        return self.limit - self.used


def sort_key(sort: str) -> tuple[str, bool]:
    """Return the column and direction of a ``?sort=`` value (``-used``: most first), or raise."""
    column, descending = sort.removeprefix("-"), sort.startswith("-")
    if column not in SORT_COLUMNS:
        raise ValueError(sort)
    return column, descending


def today_by_site(now: datetime, sort: str = DEFAULT_SORT) -> list[SiteToday]:
    """Return every site's today at the instant ``now``, sorted by a ``sort_key`` value."""
    column, descending = sort_key(sort)
    zones = db.session.scalars(sa.select(Site.timezone).distinct()).all()
    today = {zone: now.astimezone(ZoneInfo(zone)).date() for zone in zones}

    def on_its_today(day_column: sa.ColumnElement) -> sa.ColumnElement[bool]:
        return sa.or_(
            *(sa.and_(Site.timezone == zone, day_column == day) for zone, day in today.items())
        )

    inside = (
        sa.select(Visit.site_id, sa.func.count().label("inside"))
        .join(Site, Site.id == Visit.site_id)
        .where(Visit.day.in_(set(today.values())), on_its_today(Visit.day), floor.still_inside())
        .group_by(Visit.site_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(
            Site.id,
            Site.code,
            Site.name,
            Site.timezone,
            sa.func.coalesce(DayQuota.limit, Site.daily_quota),
            sa.func.coalesce(DayQuota.used, 0),
            sa.func.coalesce(DayQuota.refused, 0),
            sa.func.coalesce(inside.c.inside, 0),
        )
        .outerjoin(DayQuota, sa.and_(DayQuota.site_id == Site.id, on_its_today(DayQuota.day)))
        .outerjoin(inside, inside.c.site_id == Site.id)
    )
    sites = [
        SiteToday(site_id, code, name, today[zone], *counts)
        for site_id, code, name, zone, *counts in rows
    ]
    sites.sort(key=lambda site: site.code)
    sites.sort(key=lambda site: getattr(site, column), reverse=descending)
    return sites


def month_of(day: date) -> tuple[date, date]:
    """Return the first and last day of the month holding ``day``."""
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
