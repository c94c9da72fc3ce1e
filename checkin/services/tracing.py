"""Contact tracing: find a site's checks by visitor, and who was inside at the same time.

Both read visitors' personal health data, so every search, list and export is recorded in the
audit log and committed before anything is shown or sent (see ``checkin.services.audit``).
Checks whose personal data was purged still match a search by time alone, without names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from checkin.domain import admission, limits
from checkin.extensions import db
from checkin.models import Site, User, Visit
from checkin.services import audit

# A search lists at most this many checks, newest first; more means "narrow the search".
MAX_RESULTS = 200
# The audit entry of a search keeps these until the retention period ends, as the visits do.
PERSONAL_TERMS = ("name", "phone", "nik_last4")
DEFAULT_WINDOW_MINUTES = 60
MIN_WINDOW_MINUTES, MAX_WINDOW_MINUTES = 15, 240
# Personal data is kept at most a year (purge-personal), so a longer range finds only times.
MAX_SEARCH_DAYS = limits.MAX_EXPORT_DAYS


@dataclass(frozen=True)
class SearchTerms:
    """What a manager looks for: any of a part of a name, a phone, a NIK's last four, in a range.

    With no name, phone or NIK, every check of the range matches: that is how checks whose
    personal data was purged are found, by time only.
    """

    start: date
    end: date
    name: str | None = None
    phone: str | None = None
    nik_last4: str | None = None

    def facts(self) -> dict[str, str]:
        """Return the terms as the audit log keeps them (the NIK's last four are its mask)."""
        given = dict(zip(PERSONAL_TERMS, (self.name, self.phone, self.nik_last4), strict=True))
        return {"start": self.start.isoformat(), "end": self.end.isoformat()} | {
            key: value for key, value in given.items() if value
        }


@dataclass(frozen=True)
class SearchResult:
    """The checks found, newest first, and whether more matched than are listed."""

    visits: list[Visit]
    more: bool


def search(site: Site, terms: SearchTerms, by: User, now: datetime) -> SearchResult:
    """Return the site's checks matching ``terms``; record the search and what it found."""
    limits.check_range(terms.start, terms.end, MAX_SEARCH_DAYS)
    conditions = [Visit.site_id == site.id, Visit.day.between(terms.start, terms.end)]
    if terms.name:
        conditions.append(
            sa.func.lower(Visit.visitor_name).contains(terms.name.lower(), autoescape=True)
        )
    if terms.phone:
        conditions.append(Visit.phone.contains(terms.phone, autoescape=True))
    if terms.nik_last4:
        conditions.append(Visit.nik_last4 == terms.nik_last4)
    newest_first = (Visit.day.desc(), Visit.checked_at.desc(), Visit.id.desc())
    # The ids first, from the index that holds every searched column (a year of checks is read
    # without touching the table); SQLite's planner prefers the narrower log index unless told.
    found = db.session.scalars(
        sa.select(Visit.id)
        .with_hint(Visit, "INDEXED BY visit_site_people", "sqlite")
        .where(*conditions)
        .order_by(*newest_first)
        .limit(MAX_RESULTS + 1)
    ).all()
    visits = list(
        db.session.scalars(sa.select(Visit).where(Visit.id.in_(found)).order_by(*newest_first))
    )
    more = len(visits) > MAX_RESULTS
    visits = visits[:MAX_RESULTS]
    audit.record(site, by, now, audit.TRACED, terms.facts() | {"rows": len(visits), "more": more})
    return SearchResult(visits, more)


@dataclass(frozen=True)
class Contacts:
    """The admitted visitors inside at the same time as a check, in the order they came."""

    check: Visit
    window_minutes: int
    start: datetime
    end: datetime
    visits: list[Visit]


def contacts(
    check: Visit, window_minutes: int, by: User, now: datetime, file_format: str | None = None
) -> Contacts:
    """Return who was inside around ``check``; record the list (or its export in ``file_format``).

    The window runs from ``window_minutes`` before the check to as long after the visitor left
    (done on the service floor) or, without that time, after the check. Another visit was inside
    from its check to its own end of service, or for ``window_minutes`` when that is not known;
    it counts when the two overlap. Only admitted checks that were not voided went inside.
    """
    window = timedelta(minutes=window_minutes)
    start = check.checked_at - window
    end = (check.finished_at or check.checked_at) + window
    site = check.site
    found = list(
        db.session.scalars(
            sa.select(Visit)
            # Everything the list and its export show, loaded before its entry point commits.
            .options(
                joinedload(Visit.recorded_by),
                joinedload(Visit.booth),
                joinedload(Visit.called_by),
            )
            .where(*overlapping(site, start, end, window), Visit.id != check.id)
            .order_by(Visit.checked_at, Visit.id)
        )
    )
    facts = {"window": window_minutes, "rows": len(found)}
    if file_format is None:
        audit.record(site, by, now, audit.CONTACTS_LISTED, facts, check)
    else:
        audit.record(site, by, now, audit.CONTACTS_EXPORTED, facts | {"format": file_format}, check)
    return Contacts(check, window_minutes, start, end, found)


def overlapping(
    site: Site, start: datetime, end: datetime, window: timedelta
) -> list[sa.ColumnElement[bool]]:
    """Return the conditions that pick the site's admitted visits inside during start..end.

    Bounded by local days as well, so that the (site, day, time) index finds the few candidates;
    the service floor closes every evening, so no visit is inside across midnight.
    """
    return [
        Visit.site_id == site.id,
        Visit.day.between(site.local_day(start - window), site.local_day(end)),
        Visit.status == admission.ADMITTED,
        Visit.voided_at.is_(None),
        Visit.checked_at <= end,
        sa.or_(
            sa.and_(Visit.finished_at.is_(None), Visit.checked_at >= start - window),
            Visit.finished_at >= start,
        ),
    ]
