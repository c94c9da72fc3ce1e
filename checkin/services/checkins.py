"""Check-ins at the door: screen a visitor, claim a slot, re-test a high reading, void a mistake."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from checkin import admission, rules
from checkin.extensions import db
from checkin.models import Site, User, Visit
from checkin.models.floor import WAITING
from checkin.services import audit, day_counter, floor, leases
from checkin.services.day_counter import Quota
from checkin.services.errors import (
    AlreadyRetested,
    AlreadyVoided,
    RetestClosed,
    RetestNotWaiting,
    RetestTooEarly,
    ServiceError,
    TooSoonToCallGone,
    VoidReasonMissing,
)


@dataclass(frozen=True)
class CheckInData:
    """A validated check-in: the reading plus optional visitor details (NIK already cut to 4).

    ``client_ref`` is the id the form or tablet made for this check: sent again, the same
    check is returned, not stored twice. ``device_id`` is the tablet's own id: an admission
    then takes a slot of its lease first. A re-test names its first reading by id, or (when
    made offline, before the first had an id) by that reading's ``client_ref``. ``tablet_id``
    is the paired tablet (a device row) a PIN session was opened on: the visit names it even
    when no leased slot does.
    """

    temperature_dc: int
    hand_sanitiser: bool
    mask: bool
    distancing: bool
    visitor_name: str | None = None
    phone: str | None = None
    nik_last4: str | None = None
    purpose: str | None = None
    recheck_of: int | None = None
    client_ref: str | None = None
    device_id: str | None = None
    recheck_of_ref: str | None = None
    tablet_id: int | None = None

    @property
    def is_recheck(self) -> bool:
        """Tell whether this is the second reading of a visitor asked to rest."""
        return self.recheck_of is not None or self.recheck_of_ref is not None


def second_reading(
    first: Visit, temperature_dc: int, client_ref: str | None = None, device_id: str | None = None
) -> CheckInData:
    """Return the re-test of ``first``: a new temperature for the same visitor and ticks."""
    return CheckInData(
        temperature_dc=temperature_dc,
        hand_sanitiser=first.hand_sanitiser,
        mask=first.mask,
        distancing=first.distancing,
        visitor_name=first.visitor_name,
        phone=first.phone,
        nik_last4=first.nik_last4,
        purpose=first.purpose,
        recheck_of=first.id,
        client_ref=client_ref,
        device_id=device_id,
    )


@dataclass(frozen=True)
class CheckInResult:
    """The stored visit, the day's quota right after it, and whether it was stored just now."""

    visit: Visit
    quota: Quota
    created: bool = True


def check_in(site: Site, recorder: User | None, data: CheckInData, now: datetime) -> CheckInResult:
    """Screen a visitor, claim a slot atomically if they pass, and store the visit.

    A check whose ``client_ref`` is stored already is returned as it was, and nothing new is
    stored: the unique key finds it, so the first post of a check costs no extra look-up.
    A re-test is looked up first: its first reading, re-tested already, would refuse it.
    """
    stored = stored_check(site, data.client_ref) if data.is_recheck else None
    if stored is not None:
        return CheckInResult(stored, day_counter.quota_today(site, now), created=False)
    try:
        result = record(site, recorder, data, now)
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        stored = stored_check(site, data.client_ref)
        if stored is not None:
            return CheckInResult(stored, day_counter.quota_today(site, now), created=False)
        if data.is_recheck:
            # Another tablet stored the second reading between our check and our insert.
            raise AlreadyRetested() from exc
        raise
    return result


def record(site: Site, recorder: User | None, data: CheckInData, now: datetime) -> CheckInResult:
    """Add a check to the caller's transaction, as :func:`check_in` does, without committing."""
    day = site.local_day(now)
    screening = screen(site, data, now)
    # Everything is decided before the first write: on SQLite that write takes the lock all
    # tablets queue on, so the lock is held from the counter update to the commit only.
    counted = slot = device_id = None
    if screening.passed and data.device_id is not None:
        leased = leases.use_next(site, data.device_id, day, now)
        if leased is not None:
            slot, device_id = leased.slot, leased.device_id
            counted = day_counter.count_check(site, day, admission.ADMITTED, ())
    if screening.passed and counted is None:
        counted = day_counter.claim_slot(site, day)
        if counted is None:
            closed = day_counter.is_closed(site, day)
            screening = admission.closed_refusal() if closed else admission.quota_refusal()
        else:
            slot = counted.issued
    if counted is None:
        counted = day_counter.count_check(site, day, screening.status, screening.reasons)
    device_id = device_id if device_id is not None else data.tablet_id
    visit = store(site, recorder, data, screening, now, slot, device_id)
    return CheckInResult(visit, Quota(day, counted.quota_limit, counted.used))


def screen(site: Site, data: CheckInData, checked_at: datetime) -> admission.Screening:
    """Screen a check by the site's rules; a re-test first has to be allowed at ``checked_at``."""
    if data.is_recheck:
        refusal = _retest_refusal(first_reading(site, data), site, checked_at)
        if refusal is not None:
            raise refusal
    return admission.screen(
        admission.Reading(
            temperature_dc=data.temperature_dc,
            hand_sanitiser=data.hand_sanitiser,
            mask=data.mask,
            distancing=data.distancing,
            is_recheck=data.is_recheck,
        ),
        site.policy,
    )


def first_reading(site: Site, data: CheckInData) -> Visit | None:
    """Return the site's visit a re-test names, by id or by its client reference."""
    if data.recheck_of is not None:
        return site_visit(site, data.recheck_of)
    return stored_check(site, data.recheck_of_ref)


def store(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    screening: admission.Screening,
    checked_at: datetime,
    slot: int | None,
    device_id: int | None,
) -> Visit:
    """Insert the visit a check decided, in the caller's transaction."""
    first = first_reading(site, data) if data.recheck_of_ref is not None else None
    visit = Visit(
        site_id=site.id,
        day=site.local_day(checked_at),
        local_hour=checked_at.astimezone(site.zone).hour,
        checked_at=checked_at,
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
        slot=slot if screening.passed else None,
        recheck_of_id=first.id if first is not None else data.recheck_of,
        client_ref=data.client_ref,
        device_id=device_id,
        # Every admitted visitor waits for a call to a booth; the others never enter the floor.
        floor_state=WAITING if screening.status == admission.ADMITTED else None,
        # Set, not left to defaults: the visit attached after the INSERT need not reload.
        voided_at=None,
        voided_by_id=None,
        void_reason=None,
        anonymised_at=None,
        left_at=None,
        booth_id=None,
        called_by_id=None,
        called_at=None,
        calls=0,
        serving_at=None,
        finished_at=None,
    )
    _insert(visit)
    return visit


def stored_check(site: Site, client_ref: str | None) -> Visit | None:
    """Return the site's check stored under ``client_ref``, if any."""
    if client_ref is None:
        return None
    return db.session.scalar(
        sa.select(Visit).where(Visit.site_id == site.id, Visit.client_ref == client_ref)
    )


def retest_ready_at(visit: Visit, site: Site) -> datetime:
    """Return when a visitor asked to rest may be measured again, on the next whole minute."""
    # Staff see the time as HH:MM: a re-test at the minute shown must never be "too early".
    rested = visit.checked_at + timedelta(minutes=site.recheck_minutes)
    whole_minute = rested.replace(second=0, microsecond=0)
    return whole_minute if whole_minute == rested else whole_minute + timedelta(minutes=1)


def retest_of(visit: Visit) -> Visit | None:
    """Return the second reading taken for ``visit``, if it was re-tested."""
    return db.session.scalar(sa.select(Visit).where(Visit.recheck_of_id == visit.id))


def retest_open(visit: Visit, now: datetime) -> bool:
    """Tell whether ``visit`` still waits for its second reading today, ready yet or not."""
    refusal = _retest_refusal(visit, visit.site, now)
    return refusal is None or isinstance(refusal, RetestTooEarly)


def _retest_refusal(first: Visit | None, site: Site, now: datetime) -> ServiceError | None:
    """Return why ``first`` cannot have its second reading taken at ``now``; None if it can."""
    if first is None or first.status != admission.RECHECK:
        return RetestNotWaiting()
    if first.voided or first.left_at is not None or first.day != site.local_day(now):
        return RetestClosed()
    if retest_of(first) is not None:
        return AlreadyRetested()
    ready_at = retest_ready_at(first, site)
    if now < ready_at:
        return RetestTooEarly(ready_at.astimezone(site.zone))
    return None


def gone_at(visit: Visit) -> datetime:
    """Return from when a visitor still waiting for a re-test may be recorded as gone."""
    return visit.checked_at + timedelta(minutes=admission.LEFT_AFTER_MINUTES)


def record_left_without_retest(visit: Visit, now: datetime) -> None:
    """Record that a visitor asked to rest went away: the door stops waiting for them.

    Only once they have been gone a while (``gone_at``), so that a visitor resting on a bench
    outside is not closed by mistake.
    """
    refusal = _retest_refusal(visit, visit.site, now)
    if refusal is not None and not isinstance(refusal, RetestTooEarly):
        raise refusal
    may_leave_at = gone_at(visit)
    if now < may_leave_at:
        raise TooSoonToCallGone(may_leave_at.astimezone(visit.site.zone))
    closed = db.session.execute(
        sa.update(Visit).where(Visit.id == visit.id, Visit.left_at.is_(None)).values(left_at=now),
        execution_options={"synchronize_session": False},
    )
    if closed.rowcount != 1:
        db.session.rollback()
        raise RetestClosed()
    db.session.commit()


def void_visit(visit: Visit, by: User, reason: str, now: datetime) -> None:
    """Mark a mistaken check as void, uncount it, and free its slot in the same atomic way."""
    reason = reason.strip()
    if not reason:
        raise VoidReasonMissing()
    voided = db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.voided_at.is_(None))
        .values(
            voided_at=now,
            voided_by_id=by.id,
            void_reason=reason[: rules.MAX_VOID_REASON],
            floor_state=floor.STATE_AFTER_VOID,
        ),
        execution_options={"synchronize_session": False},
    )
    if voided.rowcount != 1:
        db.session.rollback()
        raise AlreadyVoided()
    moves = day_counter.steps(visit.status, visit.reasons, -1)
    if visit.status == admission.ADMITTED:
        # The slot is free again; ``issued`` stays, so its number is never handed out twice.
        moves["used"] = -1
    day_counter.add_to_day(visit.site_id, visit.day, moves)
    audit.record(visit.site, by, now, "void", {"status": visit.status, "slot": visit.slot}, visit)
    db.session.commit()
    db.session.refresh(visit)


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


def waiting_for_retest(site: Site, now: datetime) -> list[Visit]:
    """Return today's visitors asked to rest with no second reading yet, longest waiting first."""
    second = sa.orm.aliased(Visit)
    return list(
        db.session.scalars(
            sa.select(Visit)
            .outerjoin(second, second.recheck_of_id == Visit.id)
            .where(
                Visit.site_id == site.id,
                Visit.day == site.local_day(now),
                Visit.status == admission.RECHECK,
                Visit.voided_at.is_(None),
                Visit.left_at.is_(None),
                second.id.is_(None),
            )
            .order_by(Visit.checked_at, Visit.id)
        )
    )


def site_visit(site: Site, visit_id: int) -> Visit | None:
    """Return the visit ``visit_id`` only if it belongs to ``site``; other sites' stay hidden."""
    return db.session.scalar(sa.select(Visit).where(Visit.id == visit_id, Visit.site_id == site.id))


_INSERT_VISIT = sa.insert(Visit.__table__)
# Core speaks column names, the model attribute names (``reason_codes`` is stored as ``reasons``).
_COLUMN_OF = {prop.key: prop.columns[0].name for prop in Visit.__mapper__.column_attrs}


def _insert(visit: Visit) -> None:
    """Store a new visit with one INSERT, without a flush, and attach it to the session."""
    # Only the attributes set, so that the table's defaults fill the others; a column set to
    # None is left to the table too (NULL), which saves binding a dozen empty columns a check.
    row = {
        _COLUMN_OF[name]: value
        for name, value in vars(visit).items()
        if name in _COLUMN_OF and value is not None
    }
    inserted = db.session.execute(_INSERT_VISIT, row)
    visit.id = inserted.inserted_primary_key[0]
    make_transient_to_detached(visit)
    db.session.add(visit)
