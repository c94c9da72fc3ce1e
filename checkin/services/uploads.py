"""Checks a tablet recorded offline, uploaded when its connection returned.

The tablet decided each one by the site's rules and gave a passing visitor a slot of its lease.
The server stores the check at the time it was recorded, as decided, if the same rules agree
and the slot is one the tablet leased for that day and has not used; anything else is kept as
an upload conflict for the manager, never dropped. Uploading the same check again stores
nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from checkin import admission
from checkin.extensions import db
from checkin.models import Device, Site, UploadConflict, User, Visit
from checkin.services import checkins, day_counter, leases
from checkin.services.checkins import CheckInData
from checkin.services.day_counter import Quota
from checkin.services.errors import ServiceError

# A tablet's clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)
SLOT_NOT_LEASED = "slot_not_leased"
SLOT_ALREADY_USED = "slot_already_used"
RECORDED_BEFORE_LEASE = "recorded_before_lease"
RECORDED_BEFORE_TABLET = "recorded_before_tablet"
RECORDED_IN_THE_FUTURE = "recorded_in_the_future"
DECISION_DIFFERS = "decision_differs"


@dataclass(frozen=True)
class OfflineDecision:
    """What the tablet showed the visitor, and when."""

    recorded_at: datetime
    status: str
    reasons: tuple[str, ...]
    slot: int | None


@dataclass(frozen=True)
class UploadResult:
    """The stored check, or the conflict kept instead; and whether it was stored just now."""

    visit: Visit | None
    conflict: UploadConflict | None
    quota: Quota
    created: bool = True


def upload(
    site: Site, recorder: User | None, data: CheckInData, decided: OfflineDecision, now: datetime
) -> UploadResult:
    """Store a check recorded offline as the tablet decided it, or keep it as a conflict."""
    device = leases.register(site, data.device_id, now)
    for _attempt in range(2):
        stored = _stored(site, data.client_ref, now)
        if stored is not None:
            return stored
        try:
            result = _record(site, recorder, data, decided, device, now)
            db.session.commit()
            return result
        except IntegrityError:
            # The same check stored meanwhile (found above on the second pass), or another
            # tablet's re-test of the same first reading: decided again, it is a conflict.
            db.session.rollback()
    raise RuntimeError("an upload lost the same race twice")


def expected(site: Site, data: CheckInData, decided: OfflineDecision) -> admission.Screening:
    """Return what the rules decide offline: a passing visitor without a slot is refused."""
    screening = checkins.screen(site, data, decided.recorded_at)
    if screening.passed and decided.slot is None:
        return admission.offline_refusal()
    return screening


def conflicts(site: Site, limit: int = 100) -> list[UploadConflict]:
    """Return the site's upload conflicts, newest first."""
    return list(
        db.session.scalars(
            sa.select(UploadConflict)
            .where(UploadConflict.site_id == site.id)
            .order_by(UploadConflict.uploaded_at.desc(), UploadConflict.id.desc())
            .limit(limit)
        )
    )


def _record(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    decided: OfflineDecision,
    device: Device,
    now: datetime,
) -> UploadResult:
    """Add the check (or its conflict) to the caller's transaction."""
    day = site.local_day(decided.recorded_at)
    # A tablet's time is its own: the server takes it only between the tablet's first contact
    # and now, so that no upload reaches into closed days.
    if decided.recorded_at > now + CLOCK_SKEW:
        return _conflict(site, data, decided, device, now, RECORDED_IN_THE_FUTURE)
    if decided.recorded_at < device.created_at - CLOCK_SKEW:
        return _conflict(site, data, decided, device, now, RECORDED_BEFORE_TABLET)
    try:
        screening = expected(site, data, decided)
    except ServiceError as refusal:
        return _conflict(site, data, decided, device, now, refusal.code)
    if (screening.status, screening.reasons) != (decided.status, decided.reasons):
        return _conflict(site, data, decided, device, now, DECISION_DIFFERS)
    if screening.passed:
        cause = _slot_problem(device, day, decided, now)
        if cause is not None:
            return _conflict(site, data, decided, device, now, cause)
    counted = day_counter.count_check(site, day, screening.status, screening.reasons)
    visit = checkins.store(
        site, recorder, data, screening, decided.recorded_at, decided.slot, device.id
    )
    return UploadResult(visit, None, Quota(day, counted.quota_limit, counted.used))


def _slot_problem(device: Device, day: date, decided: OfflineDecision, now: datetime) -> str | None:
    """Take the slot the tablet gave; the cause if it was not its to give, else None."""
    leased_at = leases.leased_at(device, day, decided.slot)
    if leased_at is None:
        return SLOT_NOT_LEASED
    if decided.recorded_at < leased_at:
        return RECORDED_BEFORE_LEASE
    if not leases.use(device, day, decided.slot, now):
        return SLOT_ALREADY_USED
    return None


def _conflict(
    site: Site,
    data: CheckInData,
    decided: OfflineDecision,
    device: Device,
    now: datetime,
    cause: str,
) -> UploadResult:
    """Keep a check that cannot be stored as decided, without the visitor's personal data."""
    conflict = UploadConflict(
        site_id=site.id,
        device_id=device.id,
        client_ref=data.client_ref,
        recorded_at=decided.recorded_at,
        uploaded_at=now,
        cause=cause,
        detail={
            "status": decided.status,
            "reasons": list(decided.reasons),
            "slot": decided.slot,
            "temperature_dc": data.temperature_dc,
            "hand_sanitiser": data.hand_sanitiser,
            "mask": data.mask,
            "distancing": data.distancing,
        },
    )
    db.session.add(conflict)
    db.session.flush()
    return UploadResult(None, conflict, day_counter.quota_today(site, now))


def _stored(site: Site, client_ref: str | None, now: datetime) -> UploadResult | None:
    """Return the check or the conflict stored for ``client_ref`` already, if any."""
    visit = checkins.stored_check(site, client_ref)
    conflict = None
    if visit is None:
        conflict = db.session.scalar(
            sa.select(UploadConflict).where(
                UploadConflict.site_id == site.id, UploadConflict.client_ref == client_ref
            )
        )
    if visit is None and conflict is None:
        return None
    return UploadResult(visit, conflict, day_counter.quota_today(site, now), created=False)
