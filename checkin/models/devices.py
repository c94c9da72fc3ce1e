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
    door staff then log in on it with their name and PIN. Unpairing keeps the hash, which then
    opens nothing but the tablet giving back the slots it held.
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
    # The local day a manager stopped this tablet leasing (revoked or released its slots): it
    # gets no slot that day, whatever it holds. Another day, it leases again.
    leasing_stopped_on: Mapped[date | None]

    site: Mapped[Site] = relationship()

    @property
    def paired(self) -> bool:
        """Tell whether the tablet is paired: its credential opens the door for its staff.

        An unpaired tablet's credential is kept for one thing only: to give back the slots it
        still holds (``checkin.services.leases.give_back``), which only the tablet can know.
        """
        return self.credential_hash is not None and self.unpaired_at is None

    @property
    def label(self) -> str:
        """Return the tablet's name, or the start of its id when staff gave it none."""
        return self.name or self.public_id[:8]

    __table_args__ = (sa.UniqueConstraint("credential_hash", name="device_credential_once"),)


class LeasedSlot(db.Model):
    """A slot number of a day, taken from the counter for a tablet to give out offline.

    A slot is leased once (the primary key: a number given back is given out again only to a
    visitor admitted online, never to a lease), and ends used (``used_at``, by the visit that
    holds it), given back by the tablet unused (``returned_at``), released by a manager for a
    lost tablet (``released_at``), or held when its day ends (``kept_at``: held for a visitor
    whose check was kept as a conflict). A revoked slot (``revoked_at``)
    still counts as held: the tablet may have given it out offline before it heard; it is no
    longer offered online nor listed in the tablet's lease, and comes back when the tablet says
    it is unused or a manager releases it.
    """

    __tablename__ = "leased_slot"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("device.id"))
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The tablet gave the slot to a visitor whose check was kept as an upload conflict: held
    # and counted still (that visitor has the number), never offered or given back again.
    kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.Index("leased_slot_device_day", "device_id", "day"),
        # A slot ends one way: used, given back, or released.
        sa.CheckConstraint(
            "(used_at IS NULL OR (returned_at IS NULL AND released_at IS NULL))"
            " AND (returned_at IS NULL OR released_at IS NULL)",
            name="leased_slot_ends_once",
        ),
    )


class FreeSlot(db.Model):
    """A slot number of a day given back (by its tablet, or released by a manager), waiting
    to be given out again to a visitor admitted online, lowest first.

    The day row counts these rows in ``free``, so that a claim knows in its one UPDATE whether
    to take a new number or one of these.
    """

    __tablename__ = "free_slot"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    freed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class UploadConflict(db.Model):
    """A check recorded offline that could not be stored as the tablet decided it.

    Kept for the manager to see, never dropped; without the visitor's name, phone or NIK.
    """

    __tablename__ = "upload_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    # None: uploaded from a browser that is no paired tablet of the site.
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("device.id"))
    client_ref: Mapped[str] = mapped_column(sa.String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(sa.String(30))
    # What the tablet decided and measured: status, slot, temperature and the three ticks.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    device: Mapped[Device | None] = relationship()

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
