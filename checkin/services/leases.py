"""Slot leases: each door tablet holds a few of today's slots, so it can admit visitors offline.

A lease is taken from the day counter by the same conditional UPDATE that admits a visitor, so
``used`` counts leased slots and the quota holds whatever the tablets do offline. A slot is
leased once, used once and never reissued: a lease ends with its day, and a revoked lease's
unused slots stay held (the lost tablet may still be admitting with them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from checkin.extensions import db
from checkin.models import Device, LeasedSlot, Site, User
from checkin.services import audit, day_counter
from checkin.services.day_counter import Quota
from checkin.services.errors import DeviceOfAnotherSite, UnknownDevice

LEASE_SIZE = 5


@dataclass(frozen=True)
class Policy:
    """What a tablet needs to decide offline as the server would."""

    fever_cutoff_dc: int
    recheck_minutes: int
    timezone: str


@dataclass(frozen=True)
class Lease:
    """The slots of a day a tablet may still give out, the day's quota and the site's policy."""

    device: Device
    day: date
    slots: list[int]
    quota: Quota
    policy: Policy


def take(site: Site, public_id: str, now: datetime, name: str = "") -> Lease:
    """Top the tablet's lease of today up to LEASE_SIZE slots, within a fair share of those left.

    The share is what is left divided by twice the tablets holding slots today (rounded up),
    so that one tablet cannot take every slot while others are offline.
    """
    device = register(site, public_id, now, name)
    day = site.local_day(now)
    wanted = LEASE_SIZE - len(_unused(device, day))
    if wanted > 0 and not _revoked_on(device, day):
        left = day_counter.quota_today(site, now).left
        share = math.ceil(left / (2 * _tablets_holding(site, day, device)))
        count = min(wanted, share)
        counted = day_counter.claim_slots(site, day, count) if count else None
        if counted is not None:
            first = counted.issued - count + 1
            db.session.add_all(
                LeasedSlot(site_id=site.id, day=day, slot=slot, device_id=device.id, leased_at=now)
                for slot in range(first, counted.issued + 1)
            )
    db.session.commit()
    return lease_of(device, now)


def lease_of(device: Device, now: datetime) -> Lease:
    """Return the tablet's unused slots of today and what it needs to decide offline."""
    site = device.site
    return Lease(
        device,
        site.local_day(now),
        _unused(device, site.local_day(now)),
        day_counter.quota_today(site, now),
        Policy(site.fever_cutoff_dc, site.recheck_minutes, site.timezone),
    )


def register(site: Site, public_id: str, now: datetime, name: str = "") -> Device:
    """Return the tablet with this id, made known to the site the first time it is used."""
    db.session.execute(
        _NEW_DEVICE[db.session.get_bind().dialect.name].values(
            site_id=site.id, public_id=public_id, name=name, created_at=now, last_seen_at=now
        )
    )
    device = db.session.scalar(sa.select(Device).where(Device.public_id == public_id))
    if device.site_id != site.id:
        db.session.rollback()
        raise DeviceOfAnotherSite()
    device.last_seen_at = now
    if name:
        device.name = name
    return device


def device_of(site: Site, public_id: str) -> Device:
    """Return a tablet the site knows."""
    device = db.session.scalar(
        sa.select(Device).where(Device.public_id == public_id, Device.site_id == site.id)
    )
    if device is None:
        raise UnknownDevice()
    return device


def revoke(device: Device, by: User | None, now: datetime) -> int:
    """End a lost tablet's lease of today: its unused slots stay held and are never reissued."""
    day = device.site.local_day(now)
    revoked = _revoke_unused(now, LeasedSlot.device_id == device.id, LeasedSlot.day == day)
    detail = {"device": device.label, "slots": revoked}
    audit.record(device.site, by, now, "lease_revoked", detail)
    db.session.commit()
    return revoked


def revoke_day(site: Site, day: date, now: datetime) -> int:
    """End every tablet's lease of ``day``, in the caller's transaction (the office closed)."""
    return _revoke_unused(now, LeasedSlot.site_id == site.id, LeasedSlot.day == day)


def _revoke_unused(now: datetime, *which: sa.ColumnElement[bool]) -> int:
    """Mark the leased slots ``which`` that are neither used nor revoked revoked; count them."""
    return db.session.execute(
        sa.update(LeasedSlot)
        .where(*which, LeasedSlot.used_at.is_(None), LeasedSlot.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount


def use_next(site: Site, public_id: str, day: date, now: datetime) -> sa.Row | None:
    """Mark the tablet's lowest unused slot of ``day`` used; its slot and device, or None.

    One statement on the check-in path: the tablet is found by its id inside the UPDATE. None
    also when two checks of one tablet race for the same slot (a tablet sends one at a time):
    the loser takes a slot from the counter instead.
    """
    return db.session.execute(
        _USE_NEXT, {"of_site": site.id, "on_day": day, "tablet": public_id, "at": now}
    ).first()


def use(device: Device, day: date, slot: int, now: datetime) -> bool:
    """Mark a slot the tablet gave out offline used; False unless it leased it and it is free.

    A revoked slot is accepted: the tablet may have given it out before it heard.
    """
    return (
        db.session.execute(
            sa.update(_SLOTS)
            .where(
                _SLOTS.c.site_id == device.site_id,
                _SLOTS.c.day == day,
                _SLOTS.c.slot == slot,
                _SLOTS.c.device_id == device.id,
                _SLOTS.c.used_at.is_(None),
            )
            .values(used_at=now)
            .returning(_SLOTS.c.slot)
        ).first()
        is not None
    )


def leased_at(device: Device, day: date, slot: int) -> datetime | None:
    """Return when the tablet was given a slot, or None if it never was."""
    return db.session.scalar(
        sa.select(LeasedSlot.leased_at).where(
            LeasedSlot.site_id == device.site_id,
            LeasedSlot.day == day,
            LeasedSlot.slot == slot,
            LeasedSlot.device_id == device.id,
        )
    )


def tablets(site: Site, now: datetime) -> list[TabletDay]:
    """Return every tablet of the site with its slots of today: held, used and revoked."""
    day = site.local_day(now)
    counts = {
        row.device_id: row
        for row in db.session.execute(
            sa.select(
                LeasedSlot.device_id,
                sa.func.count().label("leased"),
                sa.func.count(LeasedSlot.used_at).label("used"),
                sa.func.count(LeasedSlot.revoked_at)
                .filter(LeasedSlot.used_at.is_(None))
                .label("revoked"),
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
            getattr(counts.get(device.id), "leased", 0),
            getattr(counts.get(device.id), "used", 0),
            getattr(counts.get(device.id), "revoked", 0),
        )
        for device in devices
    ]


@dataclass(frozen=True)
class TabletDay:
    """One tablet's slots of a day."""

    device: Device
    leased: int
    used: int
    revoked: int

    @property
    def held(self) -> int:
        """Return the slots it leased and has not used."""
        return self.leased - self.used


def _unused(device: Device, day: date) -> list[int]:
    """Return the tablet's slots of ``day`` that are neither used nor revoked, lowest first."""
    return list(
        db.session.scalars(
            sa.select(LeasedSlot.slot)
            .where(
                LeasedSlot.device_id == device.id,
                LeasedSlot.day == day,
                LeasedSlot.used_at.is_(None),
                LeasedSlot.revoked_at.is_(None),
            )
            .order_by(LeasedSlot.slot)
        )
    )


def _revoked_on(device: Device, day: date) -> bool:
    """Tell whether a manager revoked the tablet's slots of ``day``: it gets no more that day."""
    return (
        db.session.scalar(
            sa.select(LeasedSlot.slot)
            .where(
                LeasedSlot.device_id == device.id,
                LeasedSlot.day == day,
                LeasedSlot.revoked_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def _tablets_holding(site: Site, day: date, device: Device) -> int:
    """Count the tablets holding slots of ``day``, this one included."""
    others = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(LeasedSlot.device_id))).where(
            LeasedSlot.site_id == site.id,
            LeasedSlot.day == day,
            LeasedSlot.device_id != device.id,
            LeasedSlot.used_at.is_(None),
            LeasedSlot.revoked_at.is_(None),
        )
    )
    return others + 1


_SLOTS = LeasedSlot.__table__
_NEW_DEVICE = {
    dialect.dialect.name: dialect.insert(Device.__table__).on_conflict_do_nothing()
    for dialect in (postgresql, sqlite)
}
_LOWEST_UNUSED = (
    sa.select(sa.func.min(_SLOTS.c.slot))
    .join(Device.__table__, Device.__table__.c.id == _SLOTS.c.device_id)
    .where(
        Device.__table__.c.public_id == sa.bindparam("tablet"),
        _SLOTS.c.site_id == sa.bindparam("of_site"),
        _SLOTS.c.day == sa.bindparam("on_day"),
        _SLOTS.c.used_at.is_(None),
        _SLOTS.c.revoked_at.is_(None),
    )
    .scalar_subquery()
)
_USE_NEXT = (
    sa.update(_SLOTS)
    .where(
        _SLOTS.c.site_id == sa.bindparam("of_site"),
        _SLOTS.c.day == sa.bindparam("on_day"),
        _SLOTS.c.slot == _LOWEST_UNUSED,
        _SLOTS.c.used_at.is_(None),
        _SLOTS.c.revoked_at.is_(None),
    )
    .values(used_at=sa.bindparam("at"))
    .returning(_SLOTS.c.slot, _SLOTS.c.device_id)
)
