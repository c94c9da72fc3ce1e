"""The audit log: who changed a stored decision, a setting or an account, and who saw personal data.

A change is recorded in the transaction that makes it. Access to visitors' personal data (a
check's page, an export, the API's list) is recorded and committed before the data is sent, so
that a failure to record it sends nothing instead of data without a record (UU 27/2022).
"""

from __future__ import annotations

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
    db.session.commit()


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
    """Record and commit an export's range, format and number of rows."""
    detail = {"start": start.isoformat(), "end": end.isoformat(), "format": file_format}
    record(site, by, now, EXPORTED, detail | {"rows": rows})
    db.session.commit()


def entries(site: Site, kind: str | None = None, limit: int = 200) -> list[AuditEntry]:
    """Return the site's latest audit entries, newest first: all, or only changes or access."""
    query = sa.select(AuditEntry).where(AuditEntry.site_id == site.id)
    if kind == "access":
        query = query.where(AuditEntry.action.in_(ACCESS_ACTIONS))
    elif kind == "changes":
        query = query.where(AuditEntry.action.not_in(ACCESS_ACTIONS))
    return list(
        db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    )
