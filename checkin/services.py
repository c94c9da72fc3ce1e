"""Transactions of checkin: each public function that writes commits once, or not at all."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, make_transient_to_detached
from werkzeug.security import generate_password_hash

from checkin import admission
from checkin.extensions import db
from checkin.models import ApiToken, AuditEntry, DayQuota, Site, User, Visit, hash_token

_DUMMY_HASH = generate_password_hash("not a password")


ALREADY_RETESTED = "This visitor has already been re-tested."


class InvalidInput(Exception):
    """Input that passed the schema but breaks a rule needing the database; nothing was stored."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class QuotaBelowUsed(InvalidInput):
    """A new quota lower than the slots already used today."""

    def __init__(self, used: int) -> None:
        super().__init__(
            {
                "daily_quota": [
                    f"{used} visitors are already admitted today: "
                    f"the quota cannot be lower than {used}."
                ]
            }
        )
        self.used = used


@dataclass(frozen=True)
class Quota:
    """A site's walk-in quota for one local day."""

    day: date
    limit: int
    used: int

    @property
    def left(self) -> int:
        """Return how many walk-in slots remain."""
        return max(self.limit - self.used, 0)


@dataclass(frozen=True)
class CheckInData:
    """A validated check-in: the reading plus optional visitor details (NIK already cut to 4)."""

    temperature_dc: int
    hand_sanitiser: bool
    mask: bool
    distancing: bool
    visitor_name: str | None = None
    phone: str | None = None
    nik_last4: str | None = None
    purpose: str | None = None
    recheck_of: int | None = None


@dataclass(frozen=True)
class CheckInResult:
    """The stored visit and the day's quota right after it."""

    visit: Visit
    quota: Quota


def quota_today(site: Site, now: datetime) -> Quota:
    """Return the site's quota for its local day at ``now``, without writing anything."""
    day = site.local_day(now)
    row = db.session.execute(
        sa.select(DayQuota.limit, DayQuota.used).where(
            DayQuota.site_id == site.id, DayQuota.day == day
        )
    ).first()
    if row is None:
        return Quota(day, site.daily_quota, 0)
    return Quota(day, row.limit, row.used)


def check_in(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    now: datetime,
    race_delay: float = 0.0,
) -> CheckInResult:
    """Screen a visitor, claim a slot atomically if they pass, and store the visit.

    ``race_delay`` (tests only) sleeps between claiming the slot and inserting the visit, to
    widen the window in which a weaker design would over-admit.
    """
    day = site.local_day(now)
    if data.recheck_of is not None:
        _check_recheck_allowed(site, data.recheck_of, day, now)
    screening = admission.screen(
        admission.Reading(
            temperature_dc=data.temperature_dc,
            hand_sanitiser=data.hand_sanitiser,
            mask=data.mask,
            distancing=data.distancing,
            is_recheck=data.recheck_of is not None,
        ),
        site.policy,
    )
    # Everything is decided before the first write: on SQLite that write takes the lock all
    # tablets queue on, so the lock is held from the counter update to the commit only.
    local = now.astimezone(site.zone)
    counted = None
    if screening.passed:
        with_slot = _steps(screening.status, screening.reasons) | {"used": 1, "issued": 1}
        counted = _count_on_day(site, day, with_slot, claim=True)
        if counted is None:
            screening = admission.quota_refusal()
    if race_delay:
        time.sleep(race_delay)
    if counted is None:
        counted = _count_on_day(site, day, _steps(screening.status, screening.reasons))
    visit = Visit(
        site_id=site.id,
        day=day,
        local_hour=local.hour,
        checked_at=now,
        recorded_by_id=recorder.id if recorder else None,
        visitor_name=data.visitor_name,
        phone=data.phone,
        nik_last4=data.nik_last4,
        purpose=data.purpose,
        temperature_dc=data.temperature_dc,
        hand_sanitiser=data.hand_sanitiser,
        mask=data.mask,
        distancing=data.distancing,
        status=screening.status,
        reason_codes=",".join(screening.reasons),
        slot=counted.issued if screening.passed else None,
        recheck_of_id=data.recheck_of,
        # Set, not left to defaults: the visit attached after the INSERT need not reload.
        voided_at=None,
        voided_by_id=None,
        void_reason=None,
        anonymised_at=None,
    )
    try:
        _insert(visit)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        if data.recheck_of is not None:
            raise InvalidInput({"recheck_of": [ALREADY_RETESTED]}) from exc
        raise
    return CheckInResult(visit, Quota(day, counted.quota_limit, counted.used))


def retest_ready_at(visit: Visit, site: Site) -> datetime:
    """Return when a visitor asked to rest may be measured again, on the next whole minute."""
    # Staff see the time as HH:MM: a re-test at the minute shown must never be "too early".
    rested = visit.checked_at + timedelta(minutes=site.recheck_minutes)
    whole_minute = rested.replace(second=0, microsecond=0)
    return whole_minute if whole_minute == rested else whole_minute + timedelta(minutes=1)


def retest_of(visit: Visit) -> Visit | None:
    """Return the second reading taken for ``visit``, if it was re-tested."""
    return db.session.scalar(sa.select(Visit).where(Visit.recheck_of_id == visit.id))


def _check_recheck_allowed(site: Site, first_id: int, day: date, now: datetime) -> None:
    """Raise InvalidInput unless ``first_id`` is today's un-retested re-check of this site."""
    first = db.session.get(Visit, first_id)
    if first is None or first.site_id != site.id or first.status != admission.RECHECK:
        raise InvalidInput({"recheck_of": ["No visit of this site is waiting for a re-test."]})
    if first.voided or first.day != day:
        raise InvalidInput({"recheck_of": ["A re-test must follow a valid reading of today."]})
    retested = db.session.scalar(sa.select(Visit.id).where(Visit.recheck_of_id == first_id))
    if retested is not None:
        raise InvalidInput({"recheck_of": [ALREADY_RETESTED]})
    ready_at = retest_ready_at(first, site)
    if now < ready_at:
        local = ready_at.astimezone(site.zone).strftime("%H:%M")
        raise InvalidInput(
            {"recheck_of": [f"Let the visitor rest: re-test possible from {local}."]}
        )


# Statements of the check-in path, built once: building and cache-keying a statement per call
# cost more than running it. They address tables, not mapped classes, to skip the ORM layer.
_DAY_ROW = DayQuota.__table__
_VISIT_ROW = Visit.__table__
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
_CLAIM_ON_DAY = _COUNT_ON_DAY.where(_DAY_ROW.c.used < _DAY_ROW.c.quota_limit)
_INSERT_VISIT = sa.insert(_VISIT_ROW)
# Core speaks column names, the model attribute names (``reason_codes`` is stored as ``reasons``).
_COLUMN_OF = {prop.key: prop.columns[0].name for prop in Visit.__mapper__.column_attrs}


def _ensure_day_row(site: Site, day: date) -> None:
    """Create the site's counter row for ``day`` unless it exists, racing safely."""
    db.session.execute(
        _NEW_DAY_ROW[db.session.get_bind().dialect.name],
        {"site_id": site.id, "day": day, "quota_limit": site.daily_quota},
    )


def _steps(status: str, reasons: tuple[str, ...] | list[str], step: int = 1) -> dict[str, int]:
    """Return how much each day counter moves to record (or with step -1 unrecord) a decision."""
    steps = dict.fromkeys(DayQuota.COUNTERS, 0)
    steps["checks"] = step
    if status == admission.REFUSED:
        steps["refused"] = step
        for reason in reasons:
            steps[f"refused_{reason}"] = step
    elif status == admission.RECHECK:
        steps["rechecks"] = step
    return steps


def _add_to_day(
    site_id: int, day: date, steps: dict[str, int], statement: sa.Update = _COUNT_ON_DAY
) -> sa.Row | None:
    """Add ``steps`` to a day row and return its limit, used and issued; None if none matched."""
    params = {"row_site": site_id, "row_day": day} | {
        _STEP_PARAM[name]: value for name, value in steps.items()
    }
    return db.session.execute(statement, params).first()


def _count_on_day(site: Site, day: date, steps: dict, claim: bool = False) -> sa.Row | None:
    """Count a check on the site's day row, only while a slot is free if ``claim`` (None: full)."""
    statement = _CLAIM_ON_DAY if claim else _COUNT_ON_DAY
    counted = _add_to_day(site.id, day, steps, statement)
    if counted is None:
        # No row yet (the day's first check) or, for a claim, a full day. Retrying after the
        # insert is what tells them apart: on PostgreSQL a row another tablet has just created
        # is invisible to the first UPDATE, and the insert that conflicts with it says nothing.
        _ensure_day_row(site, day)
        counted = _add_to_day(site.id, day, steps, statement)
    return counted


def _insert(visit: Visit) -> None:
    """Store a new visit with one INSERT, without a flush, and attach it to the session."""
    # Only the attributes set, so that the table's defaults fill the others.
    row = {_COLUMN_OF[name]: value for name, value in vars(visit).items() if name in _COLUMN_OF}
    inserted = db.session.execute(_INSERT_VISIT, row)
    visit.id = inserted.inserted_primary_key[0]
    make_transient_to_detached(visit)
    db.session.add(visit)


@dataclass(frozen=True)
class SiteSettings:
    """The settings a manager may change for their site."""

    daily_quota: int
    fever_cutoff_dc: int
    online_service_url: str


def update_site_settings(site: Site, settings: SiteSettings, by: User, now: datetime) -> Quota:
    """Apply a manager's settings; the quota applies today at once but never below today's used."""
    if settings.daily_quota < 0:
        raise InvalidInput({"daily_quota": ["The quota cannot be negative."]})
    admission.check_plausible(settings.fever_cutoff_dc)
    day = site.local_day(now)
    _ensure_day_row(site, day)
    changed = db.session.execute(
        sa.update(DayQuota)
        .where(
            DayQuota.site_id == site.id,
            DayQuota.day == day,
            DayQuota.used <= settings.daily_quota,
        )
        .values(limit=settings.daily_quota)
        .returning(DayQuota.limit, DayQuota.used),
        execution_options={"synchronize_session": False},
    ).first()
    if changed is None:
        db.session.rollback()
        raise QuotaBelowUsed(quota_today(site, now).used)
    before = SiteSettings(site.daily_quota, site.fever_cutoff_dc, site.online_service_url)
    changes = {
        name: [getattr(before, name), value]
        for name, value in vars(settings).items()
        if getattr(before, name) != value
    }
    site.daily_quota = settings.daily_quota
    site.fever_cutoff_dc = settings.fever_cutoff_dc
    site.online_service_url = settings.online_service_url
    if changes:
        _audit(site, by, now, "settings", changes)
    db.session.commit()
    return Quota(day, changed.limit, changed.used)


def void_visit(visit: Visit, by: User, reason: str, now: datetime) -> None:
    """Mark a mistaken check as void, uncount it, and free its slot in the same atomic way."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput({"reason": ["Say why this check is void."]})
    voided = db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.voided_at.is_(None))
        .values(voided_at=now, voided_by_id=by.id, void_reason=reason[:200]),
        execution_options={"synchronize_session": False},
    )
    if voided.rowcount != 1:
        db.session.rollback()
        raise InvalidInput({"reason": ["This check is already void."]})
    steps = _steps(visit.status, visit.reasons, -1)
    if visit.status == admission.ADMITTED:
        # The slot is free again; ``issued`` stays, so its number is never handed out twice.
        steps["used"] = -1
    _add_to_day(visit.site_id, visit.day, steps)
    _audit(visit.site, by, now, "void", {"status": visit.status, "slot": visit.slot}, visit)
    db.session.commit()
    db.session.refresh(visit)


def _audit(
    site: Site | None,
    by: User | None,
    now: datetime,
    action: str,
    detail: dict[str, Any],
    visit: Visit | None = None,
) -> None:
    """Add an audit entry to the current transaction."""
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


def audit_log(site: Site, limit: int = 200) -> list[AuditEntry]:
    """Return the site's latest audit entries, newest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.site_id == site.id)
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(limit)
        )
    )


def recent_checks(site: Site, now: datetime, limit: int = 10) -> list[Visit]:
    """Return the site's latest checks of its local day, newest first, for the door screen."""
    return list(
        db.session.scalars(
            sa.select(Visit)
            .where(Visit.site_id == site.id, Visit.day == site.local_day(now))
            .order_by(Visit.checked_at.desc(), Visit.id.desc())
            .limit(limit)
        )
    )


LOCKOUT_AFTER = 5
LOCKOUT_MINUTES = 15


def authenticate(username: str, password: str, now: datetime) -> User | None:
    """Return the account if the password matches; lock it for a while after repeated failures."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active:
        # Hash anyway so the response time does not reveal which usernames exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if user.check_password(password):
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()
        return user
    user.failed_logins += 1
    if user.failed_logins >= LOCKOUT_AFTER:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
    db.session.commit()
    return None


def is_locked(username: str, now: datetime) -> bool:
    """Tell whether the account is locked after too many failed logins."""
    locked_until = db.session.scalar(sa.select(User.locked_until).where(User.username == username))
    return locked_until is not None and locked_until > now


@dataclass(frozen=True)
class LogPage:
    """One page of a day's entry log and where the next page starts."""

    visits: list[Visit]
    next_after: int | None


def entry_log(
    site: Site,
    day: date,
    *,
    status: str | None = None,
    reason: str | None = None,
    after: int | None = None,
    limit: int = 50,
) -> LogPage:
    """Return a day's checks in time order, one keyset page after visit id ``after``."""
    # Who recorded each check is on every row of the log and the API page: one join, instead of
    # a hundred identity-map look-ups that cost a fifth of the page.
    query = (
        sa.select(Visit)
        .options(joinedload(Visit.recorded_by))
        .where(*_log_filters(site, day, status, reason))
    )
    if after is not None:
        # Scoped to the site, so a cursor cannot reveal when another site's visit happened.
        after_time = (
            sa.select(Visit.checked_at)
            .where(Visit.id == after, Visit.site_id == site.id)
            .scalar_subquery()
        )
        query = query.where(sa.tuple_(Visit.checked_at, Visit.id) > sa.tuple_(after_time, after))
    visits = list(db.session.scalars(query.order_by(Visit.checked_at, Visit.id).limit(limit + 1)))
    more = len(visits) > limit
    visits = visits[:limit]
    return LogPage(visits, visits[-1].id if more else None)


def count_log(site: Site, day: date, *, status: str | None, reason: str | None) -> int:
    """Count the checks of a day that the log shows with these filters, over all its pages."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Visit)
        .where(*_log_filters(site, day, status, reason))
    )


def _log_filters(
    site: Site, day: date, status: str | None, reason: str | None
) -> list[sa.ColumnElement[bool]]:
    """Return the conditions that pick the site's checks of a day, by status and reason."""
    conditions = [Visit.site_id == site.id, Visit.day == day]
    if status is not None:
        conditions.append(Visit.status == status)
    if reason is not None:
        conditions.append(Visit.reason_codes.contains(reason))
    return conditions


@dataclass(frozen=True)
class DaySummary:
    """The counts of one site-day, read from its rollup row."""

    day: date
    limit: int
    checks: int = 0
    admitted: int = 0
    refused: int = 0
    rechecks: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: dict.fromkeys(admission.REASONS, 0))


MAX_REPORT_DAYS = 3700
# Exports write every check, not day totals: a year is about 20,000 rows at one branch.
MAX_EXPORT_DAYS = 366
EXPORT_BATCH = 500


def _check_range(start: date, end: date, max_days: int = MAX_REPORT_DAYS) -> None:
    """Raise InvalidInput unless ``start``..``end`` is ordered and at most ``max_days`` long."""
    if end < start:
        raise InvalidInput({"to": ["The end date is before the start date."]})
    if (end - start).days >= max_days:
        raise InvalidInput({"to": [f"A report covers at most {max_days} days."]})


def daily_report(site: Site, start: date, end: date) -> list[DaySummary]:
    """Return one summary per day from ``start`` to ``end`` inclusive, zero for quiet days."""
    _check_range(start, end)
    rows = {
        row.day: row
        for row in db.session.scalars(
            sa.select(DayQuota).where(DayQuota.site_id == site.id, DayQuota.day.between(start, end))
        )
    }
    summaries = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        row = rows.get(day)
        if row is None:
            summaries.append(DaySummary(day, site.daily_quota))
        else:
            summaries.append(
                DaySummary(
                    day,
                    row.limit,
                    checks=row.checks,
                    admitted=row.used,
                    refused=row.refused,
                    rechecks=row.rechecks,
                    reasons=row.reason_counts(),
                )
            )
    return summaries


def site_visit(site: Site, visit_id: int) -> Visit | None:
    """Return the visit ``visit_id`` only if it belongs to ``site``; other sites' stay hidden."""
    return db.session.scalar(sa.select(Visit).where(Visit.id == visit_id, Visit.site_id == site.id))


@dataclass(frozen=True)
class Arrivals:
    """First readings (re-tests left out, voids excluded) per local hour, with temperatures."""

    by_hour: dict[int, int]
    temperature_sum_dc: int

    @property
    def total(self) -> int:
        """Return how many visitors arrived."""
        return sum(self.by_hour.values())

    @property
    def hours(self) -> range:
        """Return every hour from the first to the last with arrivals, quiet ones included."""
        return range(min(self.by_hour, default=0), max(self.by_hour, default=-1) + 1)

    @property
    def peak_hour(self) -> int | None:
        """Return the busiest hour of the day (the earliest one on a tie), or None if quiet."""
        if not self.total:
            return None
        return max(sorted(self.by_hour), key=self.by_hour.__getitem__)

    @property
    def average_temperature_dc(self) -> float | None:
        """Return the mean first reading in tenths of a degree, or None without arrivals."""
        return self.temperature_sum_dc / self.total if self.total else None


def arrivals(site: Site, start: date, end: date) -> Arrivals:
    """Count arrivals per local hour from ``start`` to ``end`` on the (site, day) index."""
    rows = db.session.execute(
        sa.select(Visit.local_hour, sa.func.count(), sa.func.sum(Visit.temperature_dc))
        .where(
            Visit.site_id == site.id,
            Visit.day.between(start, end),
            Visit.recheck_of_id.is_(None),
            Visit.voided_at.is_(None),
        )
        .group_by(Visit.local_hour)
    ).all()
    return Arrivals(
        by_hour={hour: count for hour, count, _total in rows},
        temperature_sum_dc=sum(total for _hour, _count, total in rows),
    )


@dataclass(frozen=True)
class DayOverview:
    """Everything the top of a day's log and its printed summary show."""

    summary: DaySummary
    arrivals: Arrivals
    voided: int


def day_overview(site: Site, day: date) -> DayOverview:
    """Return a day's rollup counts, its arrivals per hour and how many checks were voided."""
    voided = db.session.scalar(
        sa.select(sa.func.count()).where(
            Visit.site_id == site.id, Visit.day == day, Visit.voided_at.is_not(None)
        )
    )
    return DayOverview(daily_report(site, day, day)[0], arrivals(site, day, day), voided)


DAY, WEEK, MONTH = "day", "week", "month"
# Longer ranges are summed into weeks, then months, so a chart keeps a readable number of bars.
MAX_DAILY_PERIODS = 62
MAX_WEEKLY_PERIODS = 366


@dataclass(frozen=True)
class PeriodTotals:
    """Counts of one day, week or month; quota counts only the days the office saw visitors."""

    start: date
    end: date
    open_days: int = 0
    quota: int = 0
    checks: int = 0
    admitted: int = 0
    refused: int = 0
    rechecks: int = 0
    reasons: dict[str, int] = field(default_factory=lambda: dict.fromkeys(admission.REASONS, 0))

    @property
    def usage(self) -> float | None:
        """Return the share of the quota that was used, or None if the office saw nobody."""
        return self.admitted / self.quota if self.quota else None

    def plus(self, day: DaySummary) -> PeriodTotals:
        """Return these totals with one more day added."""
        is_open = day.checks > 0
        return PeriodTotals(
            self.start,
            max(self.end, day.day),
            self.open_days + is_open,
            self.quota + day.limit * is_open,
            self.checks + day.checks,
            self.admitted + day.admitted,
            self.refused + day.refused,
            self.rechecks + day.rechecks,
            {reason: count + day.reasons[reason] for reason, count in self.reasons.items()},
        )


@dataclass(frozen=True)
class Report:
    """A site's trends over a date range, per day, week or month, with arrivals per hour."""

    start: date
    end: date
    granularity: str
    periods: list[PeriodTotals]
    total: PeriodTotals
    arrivals: Arrivals


def granularity_for(start: date, end: date) -> str:
    """Return the period a report over ``start``..``end`` sums its days into."""
    days = (end - start).days + 1
    return DAY if days <= MAX_DAILY_PERIODS else WEEK if days <= MAX_WEEKLY_PERIODS else MONTH


def period_start(day: date, granularity: str) -> date:
    """Return the first day of the day, Monday-based week or month holding ``day``."""
    if granularity == WEEK:
        return day - timedelta(days=day.weekday())
    if granularity == MONTH:
        return day.replace(day=1)
    return day


def site_report(site: Site, start: date, end: date) -> Report:
    """Return a site's report from ``start`` to ``end`` from rollups and the (site, day) index."""
    days = daily_report(site, start, end)
    granularity = granularity_for(start, end)
    periods: dict[date, PeriodTotals] = {}
    total = PeriodTotals(start, start)
    for day in days:
        key = period_start(day.day, granularity)
        periods[key] = periods.get(key, PeriodTotals(max(key, start), day.day)).plus(day)
        total = total.plus(day)
    by_hour = arrivals(site, start, end)
    return Report(start, end, granularity, list(periods.values()), total, by_hour)


def export_visits(site: Site, start: date, end: date) -> Iterator[Visit]:
    """Yield the site's checks from ``start`` to ``end`` in time order, a few hundred at a time."""
    _check_range(start, end, MAX_EXPORT_DAYS)
    query = (
        sa.select(Visit)
        .where(Visit.site_id == site.id, Visit.day.between(start, end))
        .options(joinedload(Visit.recorded_by), joinedload(Visit.voided_by))
        .order_by(Visit.day, Visit.checked_at, Visit.id)
        .execution_options(yield_per=EXPORT_BATCH)
    )
    yield from db.session.scalars(query)


def site_code(typed: str) -> str:
    """Return a site code as stored: codes are capitals everywhere, so "mlg" can only mean MLG."""
    return typed.strip().upper()


def add_site(code: str, name: str, timezone: str = "Asia/Jakarta", **settings: object) -> Site:
    """Create a site, unless its code is taken."""
    if db.session.scalar(sa.select(Site.id).where(Site.code == code)) is not None:
        raise InvalidInput({"code": [f"A site with code {code} exists already."]})
    site = Site(code=code, name=name, timezone=timezone, **settings)
    db.session.add(site)
    db.session.commit()
    return site


def add_user(
    username: str,
    role: str,
    password: str,
    site: Site | None,
    *,
    by: User | None,
    now: datetime,
) -> User:
    """Create an account unless the username is taken; audit it as done ``by`` (None: the CLI)."""
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise InvalidInput({"username": [f"The username {username} is taken."]})
    user = User(username=username, role=role, site=site)
    user.set_password(password)
    db.session.add(user)
    _audit(site, by, now, "account", {"account": username, "change": "created", "role": role})
    db.session.commit()
    return user


@dataclass(frozen=True)
class Directory:
    """Every site and every account, for the admin page."""

    sites: list[Site]
    accounts: list[User]


def directory() -> Directory:
    """Return all sites by code and all accounts by username."""
    return Directory(
        list(db.session.scalars(sa.select(Site).order_by(Site.code))),
        list(db.session.scalars(sa.select(User).order_by(User.username))),
    )


def set_account_active(user: User, active: bool, by: User, now: datetime) -> None:
    """Deactivate an account (it can no longer log in or use its tokens) or reactivate it."""
    if user.id == by.id and not active:
        raise InvalidInput({"active": ["You cannot deactivate your own account."]})
    user.active = active
    change = "reactivated" if active else "deactivated"
    _audit(user.site, by, now, "account", {"account": user.username, "change": change})
    db.session.commit()


def reset_password(user: User, password: str, by: User, now: datetime) -> None:
    """Give an account a new password and lift any lockout."""
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    _audit(user.site, by, now, "account", {"account": user.username, "change": "password_reset"})
    db.session.commit()


def issue_token(user: User, label: str = "") -> str:
    """Create an API token for ``user`` and return its secret, which is shown only once."""
    secret = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, label=label, token_hash=hash_token(secret)))
    db.session.commit()
    return secret


# Built once, as the check-in statements are: this runs on every API call.
_USER_FOR_TOKEN = (
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .options(joinedload(User.site))
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


def user_for_token(secret: str) -> User | None:
    """Return the active user a bearer token acts as, or None for unknown or revoked tokens."""
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": hash_token(secret)})


def purge_personal(older_than_days: int, now: datetime) -> int:
    """Anonymise name, phone, NIK and void reason of checks older than the retention; count them."""
    if older_than_days < 1:
        raise InvalidInput({"older_than": ["Keep at least one day of personal data."]})
    cutoff = now - timedelta(days=older_than_days)
    purged = db.session.execute(
        sa.update(Visit)
        .where(Visit.checked_at < cutoff, Visit.anonymised_at.is_(None))
        .values(visitor_name=None, phone=None, nik_last4=None, void_reason=None, anonymised_at=now),
        execution_options={"synchronize_session": False},
    )
    db.session.commit()
    return purged.rowcount


@dataclass(frozen=True)
class SiteTotals:
    """One site's totals over a period, read from the day rows."""

    site_id: int
    code: str
    name: str
    days: int
    checks: int
    admitted: int
    refused: int
    rechecks: int
    quota: int


def national_summary(start: date, end: date) -> list[SiteTotals]:
    """Return every site's totals from ``start`` to ``end`` inclusive, from the rollup rows."""
    rows = db.session.execute(
        sa.select(
            Site.id,
            Site.code,
            Site.name,
            sa.func.count(DayQuota.day),
            sa.func.coalesce(sa.func.sum(DayQuota.checks), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.used), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.refused), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.rechecks), 0),
            sa.func.coalesce(sa.func.sum(DayQuota.limit), 0),
        )
        .outerjoin(
            DayQuota,
            sa.and_(DayQuota.site_id == Site.id, DayQuota.day.between(start, end)),
        )
        .group_by(Site.id, Site.code, Site.name)
        .order_by(Site.code)
    )
    return [SiteTotals(*row) for row in rows]
