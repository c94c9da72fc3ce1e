"""Personal data: anonymise it once the retention period is over."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Visit
from checkin.services.errors import RetentionTooShort


def purge_personal(older_than_days: int, now: datetime) -> int:
    """Anonymise name, phone, NIK and void reason of checks older than the retention; count them."""
    if older_than_days < 1:
        raise RetentionTooShort()
    cutoff = now - timedelta(days=older_than_days)
    purged = db.session.execute(
        sa.update(Visit)
        .where(Visit.checked_at < cutoff, Visit.anonymised_at.is_(None))
        .values(visitor_name=None, phone=None, nik_last4=None, void_reason=None, anonymised_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return purged.rowcount
