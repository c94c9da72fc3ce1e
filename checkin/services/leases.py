"""Slot leases: each paired door tablet holds a few of today's slots, to admit visitors offline.

Escrow (bounded counters): a lease is taken from the day counter by the same conditional UPDATE
that admits a visitor, so ``used`` counts held slots and the quota holds whatever the tablets do
offline. The server cannot know whether a tablet out of reach used its slots, so a held slot
comes back only when the tablet says it is unused (:func:`give_back`: when no slot is left
unheld, when it is unpaired, or when a manager stopped it), or when a manager releases a lost
tablet's slots knowingly (:func:`release`). Only a tablet a manager paired holds slots: a
browser, an account or a made-up id cannot take any.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from checkin.domain import admission, limits
from checkin.domain.errors import UnknownDevice
from checkin.extensions import db
from checkin.models import DayQuota, Device, LeasedSlot, Site, User
from checkin.services import audit, day_counter
from checkin.services.day_counter import Quota

LEASE_SIZE = 5
# A slot its tablet still holds unused: not used, given back, released, nor kept for a visitor
# whose check became an upload conflict. A revoked one is held still, but no longer offered.
_HELD = (
    LeasedSlot.used_at.is_(None),
    LeasedSlot.returned_at.is_(None),
    LeasedSlot.released_at.is_(None),
    LeasedSlot.kept_at.is_(None),
)
_OFFERED = (*_HELD, LeasedSlot.revoked_at.is_(None))
# A tablet's clock may run a little ahead of the server's, or behind.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class TabletRules:
    """What a tablet needs to decide offline as the server would: the admission rules in the
    order refusals list them, the plausible range, the re-test wait and the site's time zone."""

    checks: tuple[admission.Check, ...]
    retest_when_only: tuple[str, ...]
    plausible_min_dc: int
    plausible_max_dc: int
    retest_minutes: int
    timezone: str

    @classmethod
    def of(cls, site: Site) -> TabletRules:
        """Return the rules the site's tablets decide by."""
        return cls(
            admission.checks(site.policy),
            admission.RETEST_WHEN_ONLY,
            admission.PLAUSIBLE_MIN_DC,
            admission.PLAUSIBLE_MAX_DC,
            site.retest_minutes,
            site.timezone,
        )


@dataclass(frozen=True)
class Lease:
    """The slots of a day a tablet may give out, the day's quota and the rules to decide by.

    ``stopped``: a manager stopped the tablet for the day; it gives back what it still holds.
    """

    device: Device
    day: date
    slots: list[int]
    quota: Quota
    rules: TabletRules
    stopped: bool


def top_up(device: Device, now: datetime) -> Lease:
    """Top the tablet's lease of today up to LEASE_SIZE slots, within a fair share of those left.

    The share is what is left divided by twice the tablets holding slots today (rounded up),
    so that one tablet cannot take every slot while others are offline. A stopped tablet, a
    closed day, or a day where numbers given back wait to be given out again leases nothing.
    The tablet's row is written first, so that a manager stopping it and its own top-up take
    turns, in either order.
    """
    site = device.site
    day = site.local_day(now)
    stopped_on = db.session.execute(
        sa.update(Device)
        .where(Device.id == device.id)
        .values(last_seen_at=now)
        .returning(Device.leasing_stopped_on),
        execution_options={"synchronize_session": False},
    ).scalar_one()
    if stopped_on != day:
        wanted = LEASE_SIZE - len(_usable(device, day))
        left = day_counter.quota_today(site, now).left
        count = min(wanted, math.ceil(left / (2 * _tablets_holding(site, day, device))))
        taken = day_counter.claim_slots(site, day, count) if count > 0 else None
        if taken is not None:
            db.session.add_all(
                LeasedSlot(site_id=site.id, day=day, slot=slot, device_id=device.id, leased_at=now)
                for slot in taken
            )
    db.session.refresh(device)
    return lease_of(device, now)


def lease_of(device: Device, now: datetime) -> Lease:
    """Return the tablet's usable slots of today and what it needs to decide offline."""
    site = device.site
    day = site.local_day(now)
    return Lease(
        device,
        day,
        [] if device.leasing_stopped_on == day else _usable(device, day),
        day_counter.quota_today(site, now),
        TabletRules.of(site),
        device.leasing_stopped_on == day,
    )


def give_back(device: Device, day: date, slots: Collection[int], now: datetime) -> int:
    """Take back slots the tablet says it holds unused and will not give out; count them.

    The tablet drops them from its own lease before it says so, and repeats the message until
    it hears back: a slot already used, given back or released is left as it is, so a repeated
    message changes nothing. The numbers are given out again to visitors admitted online.
    """
    returned = _end_unused(device, day, slots, LeasedSlot.returned_at, now)
    day_counter.free_slots(device.site_id, day, returned, now)
    return len(returned)


def revoke(device: Device, by: User | None, now: datetime) -> int:
    """Stop a tablet leasing for the rest of its day; count the unused slots it holds.

    Those slots stay held (the tablet may have given them out offline before it heard) until
    the tablet gives them back or a manager releases them; they are no longer offered online.
    """
    day = device.site.local_day(now)
    _stop_leasing(device, day)
    revoked = db.session.execute(
        sa.update(LeasedSlot)
        .where(*_unused_of(device, day), LeasedSlot.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    audit.record(device.site, by, now, "lease_revoked", {"device": device.label, "slots": revoked})
    return revoked


def release(device: Device, by: User | None, now: datetime) -> int:
    """Give a lost tablet's unused slots of today back to the day, knowingly; count them.

    A visitor the tablet admitted offline with one of them would put the day over its limit:
    such a check, uploaded later, is kept for the manager as a conflict. Audited; the tablet
    leases nothing more today.
    """
    day = device.site.local_day(now)
    _stop_leasing(device, day)
    held = db.session.scalars(sa.select(LeasedSlot.slot).where(*_unused_of(device, day))).all()
    released = _end_unused(device, day, held, LeasedSlot.released_at, now)
    day_counter.free_slots(device.site_id, day, released, now)
    detail = {"device": device.label, "slots": len(released)}
    audit.record(device.site, by, now, "lease_released", detail)
    return len(released)


def _stop_leasing(device: Device, day: date) -> None:
    """Mark the tablet stopped for ``day``, writing its row first (see :func:`top_up`)."""
    db.session.execute(
        sa.update(Device).where(Device.id == device.id).values(leasing_stopped_on=day),
        execution_options={"synchronize_session": False},
    )
    device.leasing_stopped_on = day


def _unused_of(device: Device, day: date) -> tuple[sa.ColumnElement[bool], ...]:
    """Return the condition of the tablet's slots of ``day`` that are held and not used."""
    return (
        LeasedSlot.site_id == device.site_id,
        LeasedSlot.day == day,
        LeasedSlot.device_id == device.id,
        *_HELD,
    )


def _end_unused(
    device: Device,
    day: date,
    slots: Collection[int],
    ended: sa.orm.InstrumentedAttribute,
    now: datetime,
) -> list[int]:
    """Mark the tablet's unused ``slots`` of ``day`` ended (given back or released) at ``now``."""
    if not slots:
        return []
    return sorted(
        db.session.scalars(
            sa.update(LeasedSlot)
            .where(*_unused_of(device, day), LeasedSlot.slot.in_(sorted(slots)))
            .values({ended: now})
            .returning(LeasedSlot.slot),
            execution_options={"synchronize_session": False},
        )
    )


def new_device(site: Site, public_id: str, name: str, now: datetime) -> Device:
    """Add a door tablet to the caller's transaction (pairing makes it)."""
    device = Device(
        site_id=site.id, public_id=public_id, name=name, created_at=now, last_seen_at=now
    )
    db.session.add(device)
    db.session.flush()
    return device


def device_of(site: Site, public_id: str) -> Device:
    """Return a tablet the site knows by its id; any other id, however odd, is unknown."""
    if re.fullmatch(limits.UUID_PATTERN, public_id) is None:
        raise UnknownDevice()
    device = db.session.scalar(
        sa.select(Device).where(Device.public_id == public_id, Device.site_id == site.id)
    )
    if device is None:
        raise UnknownDevice()
    return device


def use_next(site: Site, tablet_id: int, day: date, now: datetime) -> int | None:
    """Mark the tablet's lowest usable slot of ``day`` used and return it, or None.

    One statement on the check-in path. None also when two checks of one tablet race for the
    same slot (a tablet sends one at a time): the loser takes a slot from the counter instead.
    """
    return db.session.execute(
        _USE_NEXT, {"of_site": site.id, "on_day": day, "tablet": tablet_id, "at": now}
    ).scalar()


# Why an offline admission cannot keep the slot the tablet gave it (see uploads.OfflineDecision).
SLOT_NOT_LEASED = "slot_not_leased"
SLOT_ALREADY_USED = "slot_already_used"
SLOT_RETURNED = "slot_returned"
SLOT_RELEASED = "slot_released"
RECORDED_BEFORE_LEASE = "recorded_before_lease"


def use(device: Device, day: date, slot: int, recorded_at: datetime, now: datetime) -> str | None:
    """Mark a slot the tablet gave out offline used; None, or why it was not its to give.

    A revoked slot is accepted: the tablet may have given it out before it heard.
    """
    leased = db.session.get(LeasedSlot, (device.site_id, day, slot))
    if leased is None or leased.device_id != device.id:
        return SLOT_NOT_LEASED
    if recorded_at < leased.leased_at - CLOCK_SKEW:
        return RECORDED_BEFORE_LEASE
    if leased.released_at is not None:
        return SLOT_RELEASED
    if leased.returned_at is not None:
        return SLOT_RETURNED
    taken = db.session.execute(
        sa.update(LeasedSlot)
        .where(*_unused_of(device, day), LeasedSlot.slot == slot)
        .values(used_at=now)
        .returning(LeasedSlot.slot),
        execution_options={"synchronize_session": False},
    ).first()
    return None if taken is not None else SLOT_ALREADY_USED


def keep_given(device: Device, day: date, slot: int, now: datetime) -> None:
    """Keep a slot the tablet gave to a visitor whose check was kept as a conflict: counted
    still (that visitor has the number), never offered online, given back or released."""
    db.session.execute(
        sa.update(LeasedSlot)
        .where(*_unused_of(device, day), LeasedSlot.slot == slot)
        .values(kept_at=now),
        execution_options={"synchronize_session": False},
    )


@dataclass(frozen=True)
class TabletDay:
    """One tablet's slots of a day: leased, used, given back, released, and held now."""

    device: Device
    leased: int
    used: int
    returned: int
    released: int
    kept: int
    revoked: int
    stopped: bool

    @property
    def held(self) -> int:
        """Return the slots it leased and has neither used, given back nor kept for a visitor
        whose check became a conflict (revoked included)."""
        return self.leased - self.used - self.returned - self.released - self.kept


def tablets(site: Site, now: datetime) -> list[TabletDay]:
    """Return every tablet of the site with its slots of today."""
    day = site.local_day(now)
    counts = {
        row.device_id: row
        for row in db.session.execute(
            sa.select(
                LeasedSlot.device_id,
                sa.func.count().label("leased"),
                sa.func.count(LeasedSlot.used_at).label("used"),
                sa.func.count(LeasedSlot.returned_at).label("returned"),
                sa.func.count(LeasedSlot.released_at).label("released"),
                sa.func.count(LeasedSlot.kept_at).label("kept"),
                sa.func.count(LeasedSlot.revoked_at).filter(*_HELD).label("revoked"),
            )
            .where(LeasedSlot.site_id == site.id, LeasedSlot.day == day)
            .group_by(LeasedSlot.device_id)
        )
    }
    devices = db.session.scalars(
        sa.select(Device).where(Device.site_id == site.id).order_by(Device.last_seen_at.desc())
    )
    return [
        TabletDay(
            device,
            *(
                getattr(counts.get(device.id), name, 0)
                for name in ("leased", "used", "returned", "released", "kept", "revoked")
            ),
            stopped=device.leasing_stopped_on == day,
        )
        for device in devices
    ]


def _usable(device: Device, day: date) -> list[int]:
    """Return the tablet's slots of ``day`` it may still give out, lowest first."""
    return list(
        db.session.scalars(
            sa.select(LeasedSlot.slot)
            .where(*_unused_of(device, day), LeasedSlot.revoked_at.is_(None))
            .order_by(LeasedSlot.slot)
        )
    )


def _tablets_holding(site: Site, day: date, device: Device) -> int:
    """Count the tablets holding usable slots of ``day``, this one included."""
    others = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(LeasedSlot.device_id))).where(
            LeasedSlot.site_id == site.id,
            LeasedSlot.day == day,
            LeasedSlot.device_id != device.id,
            *_OFFERED,
        )
    )
    return others + 1


_SLOTS = LeasedSlot.__table__
_USABLE = (
    _SLOTS.c.site_id == sa.bindparam("of_site"),
    _SLOTS.c.day == sa.bindparam("on_day"),
    *_OFFERED,
)
_DAYS = DayQuota.__table__
_USE_NEXT = (
    sa.update(_SLOTS)
    .where(
        *_USABLE,
        # A closed day admits nobody online, with a held slot or not.
        ~sa.exists().where(
            _DAYS.c.site_id == _SLOTS.c.site_id, _DAYS.c.day == _SLOTS.c.day, _DAYS.c.closed
        ),
        _SLOTS.c.slot
        == sa.select(sa.func.min(_SLOTS.c.slot))
        .where(*_USABLE, _SLOTS.c.device_id == sa.bindparam("tablet"))
        .scalar_subquery(),
    )
    .values(used_at=sa.bindparam("at"))
    .returning(_SLOTS.c.slot)
)
