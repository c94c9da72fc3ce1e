"""The per-site day counter row: the walk-in quota's single point of truth, and the rollups.

A slot is claimed with one conditional UPDATE (``used < quota_limit``) in the transaction that
stores the visit, so the quota holds across tablets, worker processes and app servers; the
CHECK and UNIQUE constraints of the tables are the backstop. Functions here add to the caller's
transaction and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from checkin import admission, office_calendar
from checkin.extensions import db
from checkin.models import ClosedDay, DayQuota, Site, WeekdayQuota
from checkin.office_calendar import DayPlan
from checkin.services.errors import QuotaBelowAdmitted


@dataclass(frozen=True)
class Quota:
    """A site's walk-in quota for one local day; a closed day has no slot left."""

    day: date
    limit: int
    used: int
    closed: bool = False

    @property
    def left(self) -> int:
        """Return how many walk-in slots remain."""
        return max(self.limit - self.used, 0)


def quota_today(site: Site, now: datetime) -> Quota:
    """Return the site's quota for its local day at ``now``, without writing anything."""
    day = site.local_day(now)
    row = db.session.execute(
        sa.select(DayQuota.limit, DayQuota.used, DayQuota.closed).where(
            DayQuota.site_id == site.id, DayQuota.day == day
        )
    ).first()
    if row is None:
        plan = planned(site, day)
        return Quota(day, plan.quota, 0, plan.closed)
    return Quota(day, row.limit, row.used, row.closed)


def planned(site: Site, day: date) -> DayPlan:
    """Return what the site's calendar says of ``day``: its quota, or why it is closed."""
    weekday = db.session.execute(
        sa.select(WeekdayQuota.quota).where(
            WeekdayQuota.site_id == site.id, WeekdayQuota.weekday == day.weekday()
        )
    ).first()
    closed = db.session.execute(
        sa.select(ClosedDay.holiday).where(ClosedDay.site_id == site.id, ClosedDay.day == day)
    ).first()
    return office_calendar.day_plan(
        day,
        site.daily_quota,
        {} if weekday is None else {day.weekday(): weekday.quota},
        closed_dates=(day,) if closed is not None and not closed.holiday else (),
        ticked_holidays=(day,) if closed is not None and closed.holiday else (),
    )


def is_closed(site: Site, day: date) -> bool:
    """Tell whether the site's day row says the office is closed (after a slot was refused)."""
    return bool(
        db.session.scalar(
            sa.select(DayQuota.closed).where(DayQuota.site_id == site.id, DayQuota.day == day)
        )
    )


def replan(site: Site, day: date, plan: DayPlan) -> Quota:
    """Give the day's row the quota the calendar says now, never below the slots taken.

    Closing keeps the slots taken and offers no more. Adds to the caller's transaction; on
    QuotaBelowAdmitted it is rolled back.
    """
    ensure_day_row(site, day)
    row_of_day = (DayQuota.site_id == site.id, DayQuota.day == day)
    if plan.closed:
        update = sa.update(DayQuota).where(*row_of_day).values(closed=True, limit=DayQuota.used)
    else:
        update = (
            sa.update(DayQuota)
            .where(*row_of_day, DayQuota.used <= plan.quota)
            .values(closed=False, limit=plan.quota)
        )
    changed = db.session.execute(
        update.returning(DayQuota.limit, DayQuota.used, DayQuota.closed),
        execution_options={"synchronize_session": False},
    ).first()
    if changed is None:
        row = db.session.get(DayQuota, (site.id, day))
        db.session.rollback()
        raise QuotaBelowAdmitted(row.admitted, row.held)
    return Quota(day, changed.limit, changed.used, changed.closed)


# Statements of the check-in path, built once: building and cache-keying a statement per call
# cost more than running it. They address the table, not the mapped class, to skip the ORM.
_DAY_ROW = DayQuota.__table__
_NEW_DAY_ROW = {
    dialect.dialect.name: dialect.insert(_DAY_ROW).on_conflict_do_nothing(
        index_elements=["site_id", "day"]
    )
    for dialect in (postgresql, sqlite)
}
# The bind parameter that carries each counter's step, named once for statement and call.
_STEP_PARAM = {name: f"add_{name}" for name in DayQuota.COUNTERS}
_COUNT_ON_DAY = (
    sa.update(_DAY_ROW)
    .where(
        _DAY_ROW.c.site_id == sa.bindparam("row_site"), _DAY_ROW.c.day == sa.bindparam("row_day")
    )
    .values({name: _DAY_ROW.c[name] + sa.bindparam(param) for name, param in _STEP_PARAM.items()})
    .returning(_DAY_ROW.c.quota_limit, _DAY_ROW.c.used, _DAY_ROW.c.issued)
)
# The slots a claim takes (one for a visitor, a few for a tablet's lease) must all be free.
_CLAIM_ON_DAY = _COUNT_ON_DAY.where(
    _DAY_ROW.c.used + sa.bindparam(_STEP_PARAM["used"]) <= _DAY_ROW.c.quota_limit
)


def ensure_day_row(site: Site, day: date) -> None:
    """Create the site's counter row for ``day`` unless it exists, racing safely; its quota is
    the calendar's, fixed from now on (a manager may still change today's)."""
    plan = planned(site, day)
    db.session.execute(
        _NEW_DAY_ROW[db.session.get_bind().dialect.name],
        {"site_id": site.id, "day": day, "quota_limit": plan.quota, "closed": plan.closed},
    )


def steps(status: str, reasons: tuple[str, ...] | list[str], step: int = 1) -> dict[str, int]:
    """Return how much each day counter moves to record (or with step -1 unrecord) a decision."""
    moves = dict.fromkeys(DayQuota.COUNTERS, 0)
    moves["checks"] = step
    if status == admission.ADMITTED:
        moves["admitted"] = step
    elif status == admission.REFUSED:
        moves["refused"] = step
        for reason in reasons:
            moves[f"refused_{reason}"] = step
    elif status == admission.RECHECK:
        moves["rechecks"] = step
    return moves


def add_to_day(
    site_id: int, day: date, moves: dict[str, int], statement: sa.Update = _COUNT_ON_DAY
) -> sa.Row | None:
    """Add ``moves`` to a day row and return its limit, used and issued; None if none matched."""
    params = {"row_site": site_id, "row_day": day} | {
        _STEP_PARAM[name]: value for name, value in moves.items()
    }
    return db.session.execute(statement, params).first()


def _count_on_day(site: Site, day: date, moves: dict[str, int], claim: bool) -> sa.Row | None:
    """Count a check on the site's day row, only while a slot is free if ``claim`` (None: full)."""
    statement = _CLAIM_ON_DAY if claim else _COUNT_ON_DAY
    counted = add_to_day(site.id, day, moves, statement)
    if counted is None:
        # No row yet (the day's first check) or, for a claim, a full day. Retrying after the
        # insert is what tells them apart: on PostgreSQL a row another tablet has just created
        # is invisible to the first UPDATE, and the insert that conflicts with it says nothing.
        ensure_day_row(site, day)
        counted = add_to_day(site.id, day, moves, statement)
    return counted


def claim_slot(site: Site, day: date) -> sa.Row | None:
    """Count a passing check and take the day's next slot; None when the day is full."""
    moves = steps(admission.ADMITTED, ()) | {"used": 1, "issued": 1}
    return _count_on_day(site, day, moves, claim=True)


def claim_slots(site: Site, day: date, count: int) -> sa.Row | None:
    """Take the day's next ``count`` slots for a tablet's lease; None unless all are free.

    The slots are ``issued - count + 1`` to ``issued`` of the returned row.
    """
    moves = dict.fromkeys(DayQuota.COUNTERS, 0) | {"used": count, "issued": count}
    return _count_on_day(site, day, moves, claim=True)


def count_check(site: Site, day: date, status: str, reasons: tuple[str, ...]) -> sa.Row:
    """Count a check that takes no slot from the counter (refused, re-test, or admitted on a
    slot its tablet leased before), and return the day's limit, used and issued."""
    return _count_on_day(site, day, steps(status, reasons), claim=False)
