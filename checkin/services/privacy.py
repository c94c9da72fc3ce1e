"""Personal data: anonymise it once the retention period is over, and delete old bookings."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from checkin.domain.errors import RetentionTooShort
from checkin.extensions import db
from checkin.models import AuditEntry, Booking, Visit
from checkin.services import audit
from checkin.services.tracing import PERSONAL_TERMS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    """What a purge did: checks anonymised, bookings deleted."""

    checks: int
    bookings: int


def purge_personal(older_than_days: int, now: datetime) -> Purged:
    """Anonymise name, phone, NIK and void reason of checks older than the retention, and
    delete the bookings of days older than it; count both.

    A booking is all personal data (who, their phone, their NIK's last 4, their contact), so
    it goes whole; its day's counts stay on the session's day row (booked, admitted, released),
    and a visit it took the place of stays, anonymised as every other.

    Contact-tracing searches older than the retention lose the names, phones and NIKs they
    looked for from the audit log too: the entry keeps who searched, when, the days and what
    was found.

    On SQLite the purged values also leave the disk: every connection zeroes what it deletes
    (``secure_delete``), and once the purge is committed :func:`empty_write_ahead_log` copies
    the write-ahead log, which still holds the rows as they were, into the database file and
    empties it.
    """
    if older_than_days < 1:
        raise RetentionTooShort()
    cutoff = now - timedelta(days=older_than_days)
    purged = db.session.execute(
        sa.update(Visit)
        .where(Visit.checked_at < cutoff, Visit.anonymised_at.is_(None))
        .values(
            visitor_name=None,
            phone=None,
            nik_last4=None,
            void_reason=None,
            override_note=None,
            anonymised_at=now,
        ),
        execution_options={"synchronize_session": False},
    )
    old_bookings = sa.select(Booking.id).where(Booking.day < cutoff.date())
    # The visits they brought stay, without the link (the key says so too where it is kept).
    db.session.execute(
        sa.update(Visit).where(Visit.booking_id.in_(old_bookings)).values(booking_id=None),
        execution_options={"synchronize_session": False},
    )
    deleted = db.session.execute(
        sa.delete(Booking).where(Booking.id.in_(old_bookings)),
        execution_options={"synchronize_session": False},
    )
    _forget_search_terms(cutoff)
    return Purged(purged.rowcount, deleted.rowcount)


def _forget_search_terms(cutoff: datetime) -> None:
    """Remove the personal terms of contact-tracing searches made before ``cutoff``."""
    # Edited in Python, the same on both engines' JSON. The nightly purge reads the old
    # searches of every site; an entry already stripped is left as it is.
    searches = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == audit.TRACED, AuditEntry.at < cutoff)
    )
    for entry in searches:
        if set(PERSONAL_TERMS) & entry.detail.keys():
            kept = {key: value for key, value in entry.detail.items() if key not in PERSONAL_TERMS}
            entry.detail = kept | {"terms_removed": True}


def empty_write_ahead_log() -> None:
    """Checkpoint SQLite's write-ahead log into the database file and truncate it to nothing;
    on PostgreSQL, nothing. Run by the purge's entry point after it commits: the log holds the
    purge's own writes until then."""
    if db.engine.dialect.name != "sqlite":
        return
    with db.engine.connect() as connection:
        busy, _, _ = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    if busy:
        # A reader held its snapshot past the busy timeout; the next purge finishes the job.
        log.warning(
            "The SQLite write-ahead log is in use and still holds purged values until the next "
            "checkpoint: run purge-personal again when the app is quiet."
        )
