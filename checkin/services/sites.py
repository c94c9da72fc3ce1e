"""Sites (offices) and the settings their managers change."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from checkin import admission, rules
from checkin.extensions import db
from checkin.models import DayQuota, Site, User
from checkin.services import audit, day_counter
from checkin.services.day_counter import Quota
from checkin.services.errors import (
    InvalidSiteCode,
    NegativeQuota,
    QuotaBelowAdmitted,
    SiteCodeTaken,
    UnknownSite,
    WaitKpiOutOfRange,
)


def add_site(code: str, name: str, timezone: str = "Asia/Jakarta", **settings: object) -> Site:
    """Create a site under its code as stored (capitals), unless the code is taken."""
    code = rules.site_code(code)
    if re.fullmatch(rules.SITE_CODE_PATTERN, code) is None:
        raise InvalidSiteCode(code)
    if db.session.scalar(sa.select(Site.id).where(Site.code == code)) is not None:
        raise SiteCodeTaken(code)
    site = Site(code=code, name=name, timezone=timezone, **settings)
    db.session.add(site)
    db.session.commit()
    return site


def site_coded(typed: str) -> Site:
    """Return the site with the code ``typed`` (in any case)."""
    code = rules.site_code(typed)
    site = db.session.scalar(sa.select(Site).where(Site.code == code))
    if site is None:
        raise UnknownSite(code)
    return site


def all_sites() -> list[Site]:
    """Return every site by code."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.code)))


@dataclass(frozen=True)
class SiteSettings:
    """The settings a manager may change for their site."""

    daily_quota: int
    fever_cutoff_dc: int
    online_service_url: str


def update_site_settings(
    site: Site, settings: SiteSettings, by: User | None, now: datetime
) -> Quota:
    """Apply a manager's settings; the quota applies today at once but never below today's used."""
    if settings.daily_quota < 0:
        raise NegativeQuota()
    admission.check_plausible(settings.fever_cutoff_dc)
    day = site.local_day(now)
    day_counter.ensure_day_row(site, day)
    changed = db.session.execute(
        sa.update(DayQuota)
        .where(
            DayQuota.site_id == site.id,
            DayQuota.day == day,
            DayQuota.used <= settings.daily_quota,
        )
        .values(limit=settings.daily_quota)
        .returning(DayQuota.limit, DayQuota.used),
        execution_options={"synchronize_session": False},
    ).first()
    if changed is None:
        row = db.session.get(DayQuota, (site.id, day))
        db.session.rollback()
        raise QuotaBelowAdmitted(row.admitted, row.held)
    before = SiteSettings(site.daily_quota, site.fever_cutoff_dc, site.online_service_url)
    changes = {
        name: [getattr(before, name), value]
        for name, value in vars(settings).items()
        if getattr(before, name) != value
    }
    site.daily_quota = settings.daily_quota
    site.fever_cutoff_dc = settings.fever_cutoff_dc
    site.online_service_url = settings.online_service_url
    if changes:
        audit.record(site, by, now, "settings", changes)
    db.session.commit()
    return Quota(day, changed.limit, changed.used)


def set_wait_kpi(site: Site, minutes: int, by: User | None, now: datetime) -> None:
    """Set the waiting time the service floor's figures hold the waits against."""
    lowest, highest = rules.WAIT_KPI_MINUTES
    if not lowest <= minutes <= highest:
        raise WaitKpiOutOfRange(lowest, highest)
    if minutes != site.wait_kpi_minutes:
        change = {"wait_kpi_minutes": [site.wait_kpi_minutes, minutes]}
        audit.record(site, by, now, "settings", change)
        site.wait_kpi_minutes = minutes
    db.session.commit()
