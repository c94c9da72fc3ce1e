"""Sites (offices) and the settings their managers change."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

import sqlalchemy as sa

from checkin.domain import admission, limits
from checkin.domain.errors import (
    InvalidPrivacyContact,
    InvalidSiteCode,
    InvalidSiteName,
    NegativeQuota,
    RetestWaitOutOfRange,
    SiteCodeTaken,
    UnknownSite,
    UnknownTimezone,
    WaitKpiOutOfRange,
)
from checkin.extensions import db
from checkin.models import Site, User
from checkin.services import audit, booths, calendar
from checkin.services.day_counter import Quota


def add_site(code: str, name: str, timezone: str = "Asia/Jakarta", **settings: object) -> Site:
    """Create a site under its code as stored (capitals), unless the code is taken."""
    code = limits.site_code(code)
    if re.fullmatch(limits.SITE_CODE_PATTERN, code) is None:
        raise InvalidSiteCode(code)
    if db.session.scalar(sa.select(Site.id).where(Site.code == code)) is not None:
        raise SiteCodeTaken(code)
    site = Site(code=code, name=name, timezone=timezone, **settings)
    db.session.add(site)
    db.session.flush()
    booths.ensure_booths(site)
    return site


def edit_site(
    site: Site,
    by: User | None,
    now: datetime,
    *,
    name: str | None = None,
    timezone: str | None = None,
    daily_quota: int | None = None,
) -> dict[str, list[object]]:
    """Change a site's name, time zone or usual quota (None leaves one as it is); audited.

    The quota, and today in a new time zone, apply to today's row at once, as a manager's
    settings do. Return the changes, each as [before, after].
    """
    if name is not None:
        name = name.strip()
        if not name or len(name) > limits.MAX_SITE_NAME or not limits.storable(name):
            raise InvalidSiteName(limits.MAX_SITE_NAME)
    if timezone is not None and not limits.valid_timezone(timezone):
        raise UnknownTimezone(timezone)
    if daily_quota is not None and daily_quota < 0:
        raise NegativeQuota()
    wanted = {"name": name, "timezone": timezone, "daily_quota": daily_quota}
    changes = {
        field: [getattr(site, field), value]
        for field, value in wanted.items()
        if value is not None and getattr(site, field) != value
    }
    for field, (_before, after) in changes.items():
        setattr(site, field, after)
    if changes.keys() & {"timezone", "daily_quota"}:
        calendar.apply_today(site, now)
    if changes:
        audit.record(site, by, now, "settings", changes)
    return changes


def site_coded(typed: str) -> Site:
    """Return the site with the code ``typed`` (in any case)."""
    code = limits.site_code(typed)
    site = db.session.scalar(sa.select(Site).where(Site.code == code))
    if site is None:
        raise UnknownSite(code)
    return site


def all_sites() -> list[Site]:
    """Return every site by code."""
    return list(db.session.scalars(sa.select(Site).order_by(Site.code)))


# A setting the audit log keeps under another name: rows stored since the start say
# "recheck_minutes", and a site's history reads as one.
AUDIT_KEYS = {"retest_minutes": "recheck_minutes"}


@dataclass(frozen=True)
class SiteSettings:
    """The settings a manager may change for their site.

    ``weekday_quotas`` maps a weekday (Monday 0) to its own quota (None: closed that day);
    weekdays left out take ``daily_quota``. None leaves the weekdays as they are.
    """

    daily_quota: int
    fever_cutoff_dc: int
    online_service_url: str
    retest_minutes: int = admission.DEFAULT_RETEST_MINUTES
    weekday_quotas: Mapping[int, int | None] | None = None


def update_site_settings(
    site: Site, settings: SiteSettings, by: User | None, now: datetime
) -> Quota:
    """Apply a manager's settings; today's quota follows at once but never below today's used."""
    if settings.daily_quota < 0:
        raise NegativeQuota()
    admission.check_plausible(settings.fever_cutoff_dc)
    low, high = admission.MIN_RETEST_MINUTES, admission.MAX_RETEST_MINUTES
    if not low <= settings.retest_minutes <= high:
        raise RetestWaitOutOfRange(low, high)
    before = SiteSettings(
        site.daily_quota,
        site.fever_cutoff_dc,
        site.online_service_url,
        site.retest_minutes,
        calendar.weekday_quotas(site),
    )
    wanted = settings
    if settings.weekday_quotas is None:
        wanted = replace(settings, weekday_quotas=before.weekday_quotas)
    changes = {
        AUDIT_KEYS.get(name, name): [audit_value(getattr(before, name)), audit_value(value)]
        for name, value in vars(wanted).items()
        if getattr(before, name) != value
    }
    site.daily_quota = settings.daily_quota
    site.fever_cutoff_dc = settings.fever_cutoff_dc
    site.online_service_url = settings.online_service_url
    site.retest_minutes = settings.retest_minutes
    calendar.set_weekday_quotas(site, wanted.weekday_quotas)
    quota = calendar.apply_today(site, now)
    if changes:
        audit.record(site, by, now, "settings", changes)
    return quota


def audit_value(value: object) -> object:
    """Return a setting as the audit log keeps it: weekday quotas keyed by weekday in JSON."""
    if isinstance(value, Mapping):
        return {str(weekday): quota for weekday, quota in sorted(value.items())}
    return value


def set_wait_kpi(site: Site, minutes: int, by: User | None, now: datetime) -> None:
    """Set the waiting time the service floor's figures hold the waits against."""
    lowest, highest = limits.WAIT_KPI_MINUTES
    if not lowest <= minutes <= highest:
        raise WaitKpiOutOfRange(lowest, highest)
    if minutes != site.wait_kpi_minutes:
        change = {"wait_kpi_minutes": [site.wait_kpi_minutes, minutes]}
        audit.record(site, by, now, "settings", change)
        site.wait_kpi_minutes = minutes


def set_privacy_contact(site: Site, typed: str | None, by: User | None, now: datetime) -> None:
    """Set whom the public page names for questions about personal data; blank clears it.

    The contact is shown to anyone as one line, as typed: line breaks, control characters and
    invisible or direction-changing ones are refused, as is a contact too long to read there.
    """
    contact = (typed or "").strip() or None
    if contact is not None and (
        len(contact) > limits.MAX_PRIVACY_CONTACT or not limits.shown_as_typed(contact)
    ):
        raise InvalidPrivacyContact(limits.MAX_PRIVACY_CONTACT)
    if contact != site.privacy_contact:
        change = {"privacy_contact": [site.privacy_contact, contact]}
        audit.record(site, by, now, "settings", change)
        site.privacy_contact = contact
