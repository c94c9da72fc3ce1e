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
from checkin.services import day_counter, floor
from checkin.services.day_counter import Quota

# Sites keep their own days; a month of all sites is head office's (Jakarta, WIB).
HEAD_OFFICE_ZONE = ZoneInfo("Asia/Jakarta")


def head_office_day(now: datetime) -> date:
    """Return the day it is at head office (Jakarta), by which months and ranges are chosen."""
    return now.astimezone(HEAD_OFFICE_ZONE).date()


SORT_COLUMNS = ("code", "name", "used", "left", "refused", "inside")
DEFAULT_SORT = "code"


@dataclass(frozen=True)
class SiteToday:
    """One site's own today: its walk-in quota (read as every page reads it), refusals, and
    admitted visitors still inside."""

    site_id: int
    code: str
    name: str
    quota: Quota
    refused: int
    inside: int

    @property
    def day(self) -> date:
        """Return the site's own today."""
        return self.quota.day

    @property
    def limit(self) -> int:
        """Return today's walk-in limit."""
        return self.quota.limit

    @property
    def used(self) -> int:
        """Return the slots admitted visitors and tablets hold."""
        return self.quota.used

    @property
    def left(self) -> int:
        """Return the walk-in slots still free today."""
        return self.quota.left


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

    inside = dict(
        db.session.execute(
            sa.select(Visit.site_id, sa.func.count())
            .join(Site, Site.id == Visit.site_id)
            .where(
                Visit.day.in_(set(today.values())), on_its_today(Visit.day), floor.still_inside()
            )
            .group_by(Visit.site_id)
        ).all()
    )
    rows = db.session.execute(
        sa.select(Site, sa.func.coalesce(DayQuota.refused, 0)).outerjoin(
            DayQuota, sa.and_(DayQuota.site_id == Site.id, on_its_today(DayQuota.day))
        )
    ).all()
    quotas = day_counter.quotas({site: [today[site.timezone]] for site, _refused in rows})
    sites = [
        SiteToday(
            site.id,
            site.code,
            site.name,
            quotas[site.id, today[site.timezone]],
            refused,
            inside.get(site.id, 0),
        )
        for site, refused in rows
    ]
    sites.sort(key=lambda site: site.code)
    sites.sort(key=lambda site: getattr(site, column), reverse=descending)
    return sites


def month_of(day: date) -> tuple[date, date]:
    """Return the first and last day of the month holding ``day``."""
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, date.fromordinal(following.toordinal() - 1)
