"""Door tablets, the slots they lease and the uploads that could not be stored as decided."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkin.extensions import db
from checkin.models.base import UTCDateTime, utcnow
from checkin.models.sites import Site


class Device(db.Model):
    """A door tablet of a site, known by the id it made for itself; it may hold leased slots."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()

    @property
    def label(self) -> str:
        """Return the tablet's name, or the start of its id when staff gave it none."""
        return self.name or self.public_id[:8]


class LeasedSlot(db.Model):
    """A slot number of a day, taken from the counter for a tablet to give out offline.

    A slot is leased once (the primary key), used once (``used_at``, by the visit that holds
    it), and never reissued: not when revoked, not when the day ends unused.
    """

    __tablename__ = "leased_slot"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("device.id"))
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("leased_slot_device_day", "device_id", "day"),)


class UploadConflict(db.Model):
    """A check recorded offline that could not be stored as the tablet decided it.

    Kept for the manager to see, never dropped; without the visitor's name, phone or NIK.
    """

    __tablename__ = "upload_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("device.id"))
    client_ref: Mapped[str] = mapped_column(sa.String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(sa.String(30))
    # What the tablet decided and measured: status, slot, temperature and the three ticks.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    device: Mapped[Device] = relationship()

    __table_args__ = (sa.UniqueConstraint("site_id", "client_ref", name="upload_conflict_once"),)
