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
    """A door tablet of a site, known by the id it made for itself; it may hold leased slots.

    A tablet paired by a manager also holds a long-lived credential (only its hash is kept):
    door staff then log in on it with their name and PIN. Unpairing clears the hash.
    """

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    credential_hash: Mapped[str | None] = mapped_column(sa.String(64))
    paired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unpaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    site: Mapped[Site] = relationship()

    @property
    def paired(self) -> bool:
        """Tell whether the tablet holds a credential that is still accepted."""
        return self.credential_hash is not None

    @property
    def label(self) -> str:
        """Return the tablet's name, or the start of its id when staff gave it none."""
        return self.name or self.public_id[:8]

    __table_args__ = (sa.UniqueConstraint("credential_hash", name="device_credential_once"),)


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


class PairingCode(db.Model):
    """A short code a manager shows for pairing one tablet: valid for minutes, used once.

    Only its hash is kept. ``device_id`` is the tablet it paired, once used.
    """

    __tablename__ = "pairing_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("device.id"))

    site: Mapped[Site] = relationship()

    __table_args__ = (sa.UniqueConstraint("code_hash", name="pairing_code_once"),)
