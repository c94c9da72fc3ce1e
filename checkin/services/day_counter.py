"""The per-site day counter row: the walk-in quota's single point of truth, and the rollups.

A slot is claimed with one conditional UPDATE (``used < quota_limit``) in the transaction that
stores the visit, so the quota holds across tablets, worker processes and app servers; the
CHECK and UNIQUE constraints of the tables are the backstop. Functions here add to the caller's
transaction and never commit.

Every page, export and API answer that shows a day's limit or counts asks :func:`quotas` (or
:func:`quota_today`, which asks it): the day row where the day has one, else what the office
calendar plans for it, so that a door, a report and head office never disagree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from checkin.domain import admission, office_calendar
from checkin.domain.errors import QuotaBelowAdmitted
from checkin.domain.office_calendar import DayPlan
from checkin.extensions import db
from checkin.models import ClosedDay, DayQuota, FreeSlot, SessionDay, Site, WeekdayQuota


@dataclass(frozen=True)
class Quota:
    """A site's walk-in quota for one local day.

    ``used`` counts the admitted visitors and the slots tablets hold for going offline, so
    ``left`` (limit - used) is what any door can still give; a closed day has none left.
    """

    day: date
    limit: int
    used: int
    admitted: int = 0
    closed: bool = False

    @property
    def held(self) -> int:
        """Return the slots tablets hold and have not used (yet)."""
        return self.used - self.admitted

    @property
    def left(self) -> int:
        """Return how many walk-in slots remain that no tablet holds."""
        return 0 if self.closed else max(self.limit - self.used, 0)

    @property
    def return_held(self) -> bool:
        """Tell whether tablets should give back the slots they hold: none is left otherwise."""
        return self.left == 0 and self.held > 0


_DAY_ROWS = sa.select(
    DayQuota.site_id,
    DayQuota.day,
    DayQuota.limit,
    DayQuota.used,
    DayQuota.admitted,
    DayQuota.closed,
)
_ONE_DAY_ROW = _DAY_ROWS.where(
    DayQuota.site_id == sa.bindparam("site_id"), DayQuota.day == sa.bindparam("day")
)


def quota_today(site: Site, now: datetime) -> Quota:
    """Return the site's quota for its local day at ``now``, without writing anything."""
    day = site.local_day(now)
    return quotas({site: (day,)})[site.id, day]


def quotas(days_of: Mapping[Site, Iterable[date]]) -> dict[tuple[int, date], Quota]:
    """Return the quota of each site's days, keyed by (site id, day), without writing.

    A day with a counter row reads it; a day without one reads the office calendar, as the
    row will when the day's first check makes it. A few statements for any number of sites.
    """
    wanted = {(site.id, day) for site, days in days_of.items() for day in days}
    if not wanted:
        return {}
    if len(wanted) == 1:  # a door's poll: the statement built once
        ((site_id, day),) = wanted
        rows = db.session.execute(_ONE_DAY_ROW, {"site_id": site_id, "day": day})
    else:
        rows = db.session.execute(_DAY_ROWS.where(_any_of(DayQuota.site_id, DayQuota.day, wanted)))
    found = {
        (row.site_id, row.day): Quota(row.day, row.limit, row.used, row.admitted, row.closed)
        for row in rows
    }
    missing = wanted - found.keys()
    if missing:
        plans = day_plans(days_of.keys(), missing)
        found |= {key: Quota(key[1], plan.quota, 0, 0, plan.closed) for key, plan in plans.items()}
    return found


def day_plans(
    sites: Iterable[Site], days: Collection[tuple[int, date]]
) -> dict[tuple[int, date], DayPlan]:
    """Return what the sites' calendars say of the (site id, day) pairs: a quota, or closed."""
    by_id = {site.id: site for site in sites}
    site_ids = {site_id for site_id, _day in days}
    weekday_quotas: dict[int, dict[int, int | None]] = {site_id: {} for site_id in site_ids}
    for row in db.session.execute(
        sa.select(WeekdayQuota.site_id, WeekdayQuota.weekday, WeekdayQuota.quota).where(
            WeekdayQuota.site_id.in_(site_ids)
        )
    ):
        weekday_quotas[row.site_id][row.weekday] = row.quota
    closed = {
        (row.site_id, row.day): row.holiday
        for row in db.session.execute(
            sa.select(ClosedDay.site_id, ClosedDay.day, ClosedDay.holiday).where(
                _any_of(ClosedDay.site_id, ClosedDay.day, days)
            )
        )
    }
    return {
        (site_id, day): office_calendar.day_plan(
            day,
            by_id[site_id].daily_quota,
            weekday_quotas[site_id],
            closed_dates=(day,) if closed.get((site_id, day)) is False else (),
            ticked_holidays=(day,) if closed.get((site_id, day)) else (),
        )
        for site_id, day in days
    }


def planned(site: Site, day: date) -> DayPlan:
    """Return what the site's calendar says of ``day``: its quota, or why it is closed."""
    return day_plans([site], [(site.id, day)])[site.id, day]


def _any_of(
    site_column: sa.ColumnElement[int],
    day_column: sa.ColumnElement[date],
    pairs: Collection[tuple[int, date]],
) -> sa.ColumnElement[bool]:
    """Return a condition matching rows of any of the (site id, day) ``pairs``."""
    days_by_site: dict[int, set[date]] = {}
    for site_id, day in pairs:
        days_by_site.setdefault(site_id, set()).add(day)
    return sa.or_(
        *(
            sa.and_(site_column == site_id, day_column.in_(sorted(days)))
            for site_id, days in days_by_site.items()
        )
    )


def replan(site: Site, day: date, plan: DayPlan) -> Quota:
    """Give the day's row the quota the calendar says now, never below the slots taken.

    Closing keeps the slots taken and offers no more: tablets are asked to give back what they
    hold (``Quota.return_held``). Adds to the caller's transaction, which QuotaBelowAdmitted
    leaves to its entry point to roll back.
    """
    ensure_day_row(site, day)
    row_of_day = (DayQuota.site_id == site.id, DayQuota.day == day)
    # The booked places released to walk-ins today stay theirs whatever the calendar says now.
    quota = plan.quota + released_places(site, day)
    if plan.closed:
        update = sa.update(DayQuota).where(*row_of_day).values(closed=True, limit=DayQuota.used)
    else:
        # A day open now refuses a quota below the slots taken (the manager is told); a day
        # opened again keeps them, with no new ones if the quota was lowered while it was closed.
        update = (
            sa.update(DayQuota)
            .where(*row_of_day, sa.or_(DayQuota.used <= quota, DayQuota.closed))
            .values(
                closed=False,
                limit=sa.case((DayQuota.used > quota, DayQuota.used), else_=quota),
            )
        )
    changed = db.session.execute(
        update.returning(DayQuota.limit, DayQuota.used, DayQuota.admitted, DayQuota.closed),
        execution_options={"synchronize_session": False},
    ).first()
    if changed is None:
        row = db.session.get(DayQuota, (site.id, day))
        raise QuotaBelowAdmitted(row.admitted, row.held)
    return Quota(day, *changed)


def released_places(site: Site, day: date) -> int:
    """Return the booked places of the day released to walk-ins (``bookings.release_unclaimed``)."""
    return db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(SessionDay.released), 0)).where(
            SessionDay.site_id == site.id, SessionDay.day == day
        )
    )


# Statements of the check-in path, built once: building and cache-keying a statement per call
# cost more than running it. They address the table, not the mapped class, to skip the ORM.
_DAY_ROW = DayQuota.__table__
_FREE = FreeSlot.__table__
_NEW_DAY_ROW = {
    dialect.dialect.name: dialect.insert(_DAY_ROW).on_conflict_do_nothing(
        index_elements=["site_id", "day"]
    )
    for dialect in (postgresql, sqlite)
}
# The bind parameter that carries each counter's step, named once for statement and call.
_STEP_PARAM = {name: f"add_{name}" for name in DayQuota.COUNTERS}
# Each counter's column (a column may be named otherwise than its counter).
_COUNTER_COLUMN = {name: sa.inspect(DayQuota).columns[name] for name in DayQuota.COUNTERS}
_COUNTED = (
    _DAY_ROW.c.quota_limit,
    _DAY_ROW.c.used,
    _DAY_ROW.c.admitted,
    _DAY_ROW.c.closed,
    _DAY_ROW.c.issued,
)
_COUNT_ON_DAY = (
    sa.update(_DAY_ROW)
    .where(
        _DAY_ROW.c.site_id == sa.bindparam("row_site"), _DAY_ROW.c.day == sa.bindparam("row_day")
    )
    .values(
        {
            column: column + sa.bindparam(_STEP_PARAM[name])
            for name, column in _COUNTER_COLUMN.items()
        }
    )
    .returning(*_COUNTED)
)
# The slots a claim takes (one for a visitor, a few for a tablet's lease) must all be free, on
# a day the office is open. New numbers only while no number given back waits (``free``).
_SLOTS_LEFT = (
    _DAY_ROW.c.used + sa.bindparam(_STEP_PARAM["used"]) <= _DAY_ROW.c.quota_limit,
    _DAY_ROW.c.closed.is_(False),
)
_CLAIM_NEW_ON_DAY = _COUNT_ON_DAY.where(*_SLOTS_LEFT, _DAY_ROW.c.free == 0)
_CLAIM_FREE_ON_DAY = _COUNT_ON_DAY.where(*_SLOTS_LEFT, _DAY_ROW.c.free > 0)
# Run only under the day row's lock, which the free claim has just taken: no one else takes
# or adds a free number of the day meanwhile.
_TAKE_LOWEST_FREE = (
    sa.delete(_FREE)
    .where(
        _FREE.c.site_id == sa.bindparam("row_site"),
        _FREE.c.day == sa.bindparam("row_day"),
        _FREE.c.slot
        == sa.select(sa.func.min(_FREE.c.slot))
        .where(_FREE.c.site_id == sa.bindparam("row_site"), _FREE.c.day == sa.bindparam("row_day"))
        .scalar_subquery(),
    )
    .returning(_FREE.c.slot)
)


@dataclass(frozen=True)
class Counted:
    """A day row right after a check or claim counted on it, and the slot a claim took."""

    quota: Quota
    slot: int | None = None


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
    elif status == admission.RETEST:
        moves["retests"] = step
    return moves


def add_to_day(site_id: int, day: date, moves: dict[str, int]) -> Quota | None:
    """Add ``moves`` to a day row and return its quota after; None if the day has no row."""
    row = _run(site_id, day, moves, _COUNT_ON_DAY)
    return None if row is None else _quota(day, row)


def _run(site_id: int, day: date, moves: dict[str, int], statement: sa.Update) -> sa.Row | None:
    """Run a counting statement on a day row; its row after, or None if it matched nothing."""
    params = {"row_site": site_id, "row_day": day} | {
        _STEP_PARAM[name]: value for name, value in moves.items()
    }
    return db.session.connection().execute(statement, params).first()


def _counted(site: Site, day: date, moves: dict[str, int], statement: sa.Update) -> sa.Row | None:
    """Run a counting statement on the site's day row, making the row first if there is none."""
    counted = _run(site.id, day, moves, statement)
    if counted is None:
        # No row yet (the day's first check) or, for a claim, a full day. Retrying after the
        # insert is what tells them apart: on PostgreSQL a row another tablet has just created
        # is invisible to the first UPDATE, and the insert that conflicts with it says nothing.
        ensure_day_row(site, day)
        counted = _run(site.id, day, moves, statement)
    return counted


def _quota(day: date, row: sa.Row) -> Quota:
    """Return the quota a counting statement's row reports."""
    return Quota(day, row.quota_limit, row.used, row.admitted, row.closed)


def claim_slot(site: Site, day: date) -> Counted | None:
    """Count a passing check and give it the day's next slot; None when the day is full.

    The lowest number a tablet gave back comes first, then the next new number.
    """
    moves = steps(admission.ADMITTED, ()) | {"used": 1, "issued": 1}
    counted = _counted(site, day, moves, _CLAIM_NEW_ON_DAY)
    # Twice round: on PostgreSQL another claim or a tablet giving slots back may commit between
    # the two statements and flip which one can match.
    for _round in range(2):
        if counted is not None:
            return Counted(_quota(day, counted), counted.issued)
        freed = _run(site.id, day, moves | {"issued": 0, "free": -1}, _CLAIM_FREE_ON_DAY)
        if freed is not None:
            params = {"row_site": site.id, "row_day": day}
            return Counted(_quota(day, freed), db.session.scalar(_TAKE_LOWEST_FREE, params))
        counted = _run(site.id, day, moves, _CLAIM_NEW_ON_DAY)
    return None if counted is None else Counted(_quota(day, counted), counted.issued)


def number_booked(site: Site, day: date) -> Counted:
    """Give a visitor admitted to their booked place the day's next queue number.

    The number comes from the series walk-ins draw from, so one queue calls everyone in the
    order they came; no walk-in slot is used and no walk-in counter moves.
    """
    moves = dict.fromkeys(DayQuota.COUNTERS, 0) | {"issued": 1}
    counted = _counted(site, day, moves, _COUNT_ON_DAY)
    return Counted(_quota(day, counted), counted.issued)


def claim_slots(site: Site, day: date, count: int) -> range | None:
    """Take the day's next ``count`` new slots for a tablet's lease; None unless all are free.

    Leases take new numbers only, never one given back: a number a tablet gave back is given
    out again to a visitor admitted online, so no tablet is ever leased the same number twice.
    """
    moves = dict.fromkeys(DayQuota.COUNTERS, 0) | {"used": count, "issued": count}
    counted = _counted(site, day, moves, _CLAIM_NEW_ON_DAY)
    if counted is None:
        return None
    return range(counted.issued - count + 1, counted.issued + 1)


def free_slots(site_id: int, day: date, slots: Collection[int], now: datetime) -> None:
    """Put slots a tablet gave back (or a manager released) back in the day: not used, free.

    Adds to the caller's transaction, which has taken them from the lease they were held in.
    """
    if not slots:
        return
    db.session.execute(
        sa.insert(_FREE),
        [{"site_id": site_id, "day": day, "slot": slot, "freed_at": now} for slot in slots],
    )
    moves = dict.fromkeys(DayQuota.COUNTERS, 0) | {"used": -len(slots), "free": len(slots)}
    add_to_day(site_id, day, moves)


def count_check(site: Site, day: date, status: str, reasons: tuple[str, ...]) -> Quota:
    """Count a check that takes no slot from the counter (refused, re-test, or admitted on a
    slot its tablet leased before), and return the day's quota after it."""
    return _quota(day, _counted(site, day, steps(status, reasons), _COUNT_ON_DAY))
