"""Re-tests: a visitor whose first reading was high rests, then is measured once more.

The second reading is a check like any other (``checkin.services.checkins``); here are the
rules of when it may be taken, the door's list of visitors resting, and recording one who left.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from checkin.domain import admission
from checkin.domain.errors import (
    AlreadyRetested,
    RetestClosed,
    RetestNotWaiting,
    RetestTooEarly,
    ServiceError,
    TooSoonToCallGone,
)
from checkin.extensions import db
from checkin.models import Site, Visit


def ready_at(visit: Visit, site: Site) -> datetime:
    """Return when a visitor asked to rest may be measured again, on the next whole minute."""
    # Staff see the time as HH:MM: a re-test at the minute shown must never be "too early".
    rested = visit.checked_at + timedelta(minutes=site.retest_minutes)
    whole_minute = rested.replace(second=0, microsecond=0)
    return whole_minute if whole_minute == rested else whole_minute + timedelta(minutes=1)


def second_of(visit: Visit) -> Visit | None:
    """Return the second reading taken for ``visit``, if it was re-tested."""
    return db.session.scalar(sa.select(Visit).where(Visit.retest_of_id == visit.id))


def still_open(visit: Visit, now: datetime) -> bool:
    """Tell whether ``visit`` still waits for its second reading today, ready yet or not."""
    found = refusal(visit, visit.site, now)
    return found is None or isinstance(found, RetestTooEarly)


def refusal(first: Visit | None, site: Site, now: datetime) -> ServiceError | None:
    """Return why ``first`` cannot have its second reading taken at ``now``; None if it can."""
    if first is None or first.status != admission.RETEST:
        return RetestNotWaiting()
    if first.voided or first.left_at is not None or first.day != site.local_day(now):
        return RetestClosed()
    if second_of(first) is not None:
        return AlreadyRetested()
    ready = ready_at(first, site)
    if now < ready:
        return RetestTooEarly(ready.astimezone(site.zone))
    return None


def gone_at(visit: Visit) -> datetime:
    """Return from when a visitor still waiting for a re-test may be recorded as gone."""
    return visit.checked_at + timedelta(minutes=admission.LEFT_AFTER_MINUTES)


def record_left(visit: Visit, now: datetime) -> None:
    """Record that a visitor asked to rest went away: the door stops waiting for them.

    Only once they have been gone a while (``gone_at``), so that a visitor resting on a bench
    outside is not closed by mistake.
    """
    found = refusal(visit, visit.site, now)
    if found is not None and not isinstance(found, RetestTooEarly):
        raise found
    may_leave_at = gone_at(visit)
    if now < may_leave_at:
        raise TooSoonToCallGone(may_leave_at.astimezone(visit.site.zone))
    closed = db.session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.left_at.is_(None)).values(left_at=now),
        execution_options={"synchronize_session": False},
    )
    if closed.rowcount != 1:
        raise RetestClosed()


def waiting(site: Site, now: datetime) -> list[Visit]:
    """Return today's visitors asked to rest with no second reading yet, longest waiting first."""
    second = sa.orm.aliased(Visit)
    return list(
        db.session.scalars(
            sa.select(Visit)
            .outerjoin(second, second.retest_of_id == Visit.id)
            .where(
                Visit.site_id == site.id,
                Visit.day == site.local_day(now),
                Visit.status == admission.RETEST,
                Visit.voided_at.is_(None),
                Visit.left_at.is_(None),
                second.id.is_(None),
            )
            .order_by(Visit.checked_at, Visit.id)
        )
    )
