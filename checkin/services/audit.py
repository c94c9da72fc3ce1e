"""The audit log: who changed a stored decision, a setting or an account, and who saw personal data.

A change is recorded in the transaction that makes it. Access to visitors' personal data (a
check's page, an export, the API's list) is recorded in a transaction its entry point commits
before the data is sent, so that a failure to record it sends nothing instead of data without a
record (UU 27/2022).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, Site, User, Visit

VIEWED = "viewed"
EXPORTED = "exported"
# Contact tracing (checkin.services.tracing): a search, a "same time" list and its export.
TRACED = "traced"
CONTACTS_LISTED = "contacts"
CONTACTS_EXPORTED = "contacts_exported"
# Entries by kind, for the audit page's filter; every other action is a change.
# Bookings listed or searched through the API (checkin.services.bookings).
BOOKINGS_READ = "bookings_read"
ACCESS_ACTIONS = (VIEWED, EXPORTED, TRACED, CONTACTS_LISTED, CONTACTS_EXPORTED, BOOKINGS_READ)
KINDS = ("changes", "access")


def record(
    site: Site | None,
    by: User | None,
    now: datetime,
    action: str,
    detail: dict[str, Any],
    visit: Visit | None = None,
) -> None:
    """Add an entry to the caller's transaction; ``by`` None means the command line."""
    db.session.add(
        AuditEntry(
            site_id=site.id if site else None,
            user_id=by.id if by else None,
            at=now,
            action=action,
            detail=detail,
            visit_id=visit.id if visit else None,
        )
    )


def record_view(visit: Visit, by: User, now: datetime) -> None:
    """Record that ``by`` opens a check's page, with its personal data."""
    record(visit.site, by, now, VIEWED, {}, visit)


def record_export(
    site: Site, by: User, now: datetime, start: date, end: date, file_format: str
) -> int:
    """Record that ``by`` downloads the site's checks from ``start`` to ``end``; count them.

    The count is taken now, before the file streams them: a check recorded during the download
    of a range that includes today may be in the file and not in the count.
    """
    rows = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Visit)
        .where(Visit.site_id == site.id, Visit.day.between(start, end))
    )
    _record_export(site, by, now, start, end, file_format, rows)
    return rows


def record_api_read(site: Site, by: User, now: datetime, day: date, rows: int) -> None:
    """Record that ``by`` reads ``rows`` of the day's checks through the JSON API."""
    _record_export(site, by, now, day, day, "api", rows)


def _record_export(
    site: Site, by: User, now: datetime, start: date, end: date, file_format: str, rows: int
) -> None:
    """Record an export's range, format and number of rows."""
    detail = {"start": start.isoformat(), "end": end.isoformat(), "format": file_format}
    record(site, by, now, EXPORTED, detail | {"rows": rows})


def record_log_read(site: Site, by: User, now: datetime, day: date, rows: int) -> None:
    """Record that ``by``, of head office, reads ``rows`` of the site's checks in its log."""
    _record_export(site, by, now, day, day, "log", rows)


@dataclass(frozen=True)
class AuditFilter:
    """Which of a site's entries to list: one kind, a time span, one account's; None is any."""

    kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # excluded
    username: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first, and the id of its last when older ones follow."""

    entries: list[AuditEntry]
    older_than: int | None


def entries(
    site: Site, shown: AuditFilter | None = None, before: int | None = None, limit: int = 50
) -> AuditPage:
    """Return a page of the site's audit entries, newest first, older than entry ``before``."""
    shown = shown or AuditFilter()
    query = sa.select(AuditEntry).where(AuditEntry.site_id == site.id)
    if shown.kind == "access":
        query = query.where(AuditEntry.action.in_(ACCESS_ACTIONS))
    elif shown.kind == "changes":
        query = query.where(AuditEntry.action.not_in(ACCESS_ACTIONS))
    if shown.since is not None:
        query = query.where(AuditEntry.at >= shown.since)
    if shown.until is not None:
        query = query.where(AuditEntry.at < shown.until)
    if shown.username is not None:
        query = query.join(User, AuditEntry.user_id == User.id).where(
            User.username == shown.username
        )
    if before is not None:
        # Scoped to the site, so a cursor cannot reveal when another site's entry was made.
        before_at = (
            sa.select(AuditEntry.at)
            .where(AuditEntry.id == before, AuditEntry.site_id == site.id)
            .scalar_subquery()
        )
        query = query.where(sa.tuple_(AuditEntry.at, AuditEntry.id) < sa.tuple_(before_at, before))
    found = list(
        db.session.scalars(
            query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)
        )
    )
    more = len(found) > limit
    found = found[:limit]
    return AuditPage(found, found[-1].id if more else None)


def usernames(site: Site) -> list[str]:
    """Return the accounts that have entries in the site's audit log, by name."""
    return list(
        db.session.scalars(
            sa.select(User.username)
            .join(AuditEntry, AuditEntry.user_id == User.id)
            .where(AuditEntry.site_id == site.id)
            .distinct()
            .order_by(User.username)
        )
    )
