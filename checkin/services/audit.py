"""The audit log: who changed a stored decision, a setting or an account, and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, Site, User, Visit


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


def entries(site: Site, limit: int = 200) -> list[AuditEntry]:
    """Return the site's latest audit entries, newest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.site_id == site.id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )
