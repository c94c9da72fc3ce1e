"""Checks at the door and the audit log of changes to them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkin.domain import admission
from checkin.domain.calling import FLOOR_STATES
from checkin.extensions import db
from checkin.models.accounts import User
from checkin.models.base import UTCDateTime, plausible
from checkin.models.bookings import Booking
from checkin.models.floor import Booth
from checkin.models.sites import Site


class Visit(db.Model):
    """One health-protocol check at the door, admitted or not; never deleted, only voided."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    day: Mapped[date]
    local_hour: Mapped[int] = mapped_column(sa.SmallInteger)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    visitor_name: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    nik_last4: Mapped[str | None] = mapped_column(sa.String(4))
    purpose: Mapped[str | None] = mapped_column(sa.String(20))
    temperature_dc: Mapped[int] = mapped_column(sa.SmallInteger)
    hand_sanitiser: Mapped[bool]
    mask: Mapped[bool]
    distancing: Mapped[bool]
    status: Mapped[str] = mapped_column(sa.String(10))
    reason_codes: Mapped[str] = mapped_column("reasons", sa.String(120), default="")
    slot: Mapped[int | None]
    # The column keeps the word "recheck" it was made with; the code says re-test.
    retest_of_id: Mapped[int | None] = mapped_column(
        "recheck_of_id", sa.ForeignKey("visit.id"), unique=True
    )
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(200))
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The id the form or tablet made for this check: the same check sent twice is stored once.
    client_ref: Mapped[str | None] = mapped_column(sa.String(36))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("device.id"))
    # A visitor resting for a re-test who went away: closed by door staff, no longer waited for.
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The service floor (admitted visits only): see ``checkin.models.floor``. ``calls`` counts
    # every call, recalls included; ``called_at`` is the last one, which waiting time counts to.
    floor_state: Mapped[str | None] = mapped_column(sa.String(10))
    booth_id: Mapped[int | None] = mapped_column(sa.ForeignKey("booth.id"))
    called_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    calls: Mapped[int] = mapped_column(default=0, server_default="0")
    serving_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The booking the visitor showed at the door, whichever rules admitted or refused them: it
    # took their booked place only if the booking names this visit back (``Booking.visit_id``).
    # Made after both tables, which name each other; a booking purged leaves the visit.
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey(
            "booking.id", use_alter=True, name="visit_booking_id_fkey", ondelete="SET NULL"
        )
    )
    # Admitted past a full walk-in quota by a manager (checkin.domain.override_rules): why,
    # and for "other" the manager's words, which may name the visitor (purged with the rest).
    override_reason: Mapped[str | None] = mapped_column(sa.String(20))
    override_note: Mapped[str | None] = mapped_column(sa.String(200))

    site: Mapped[Site] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    retest_of: Mapped[Visit | None] = relationship(remote_side=[id])
    booth: Mapped[Booth | None] = relationship()
    called_by: Mapped[User | None] = relationship(foreign_keys=[called_by_id])
    booking: Mapped[Booking | None] = relationship(foreign_keys=[booking_id])

    __table_args__ = (
        sa.UniqueConstraint("site_id", "day", "slot", name="visit_slot_once"),
        sa.UniqueConstraint("site_id", "client_ref", name="visit_client_ref_once"),
        sa.Index("visit_site_day_time", "site_id", "day", "checked_at"),
        sa.CheckConstraint(f"status IN {admission.STATUSES!r}", name="visit_status_known"),
        sa.CheckConstraint(
            "(status = 'admitted') = (slot IS NOT NULL)", name="visit_slot_iff_admitted"
        ),
        sa.CheckConstraint(plausible("temperature_dc"), name="visit_temperature_plausible"),
        sa.CheckConstraint(
            f"floor_state IS NULL OR floor_state IN {FLOOR_STATES!r}",
            name="visit_floor_state_known",
        ),
        sa.Index("visit_site_day_floor", "site_id", "day", "floor_state", "slot"),
        # The visitor at a booth, which every console poll and booth step looks up: without it
        # each one read every visit of every site and year (checkin.services.floor).
        sa.Index("visit_booth_state", "booth_id", "floor_state"),
        # Contact tracing reads a year of a site's checks by name, phone or NIK from the index
        # alone (checkin.services.tracing); purged values leave it with the row's.
        sa.Index(
            "visit_site_people",
            *("site_id", "day", "checked_at", "id", "visitor_name", "phone", "nik_last4"),
        ),
    )

    @property
    def reasons(self) -> list[str]:
        """Return the refusal or re-test reason codes in rule order."""
        return self.reason_codes.split(",") if self.reason_codes else []

    @property
    def temperature_c(self) -> float:
        """Return the reading in °C with one decimal."""
        return self.temperature_dc / 10

    @property
    def nik_masked(self) -> str | None:
        """Return the NIK as it may be shown: all but the last four digits hidden."""
        return f"************{self.nik_last4}" if self.nik_last4 else None

    @property
    def voided(self) -> bool:
        """Tell whether a manager voided this check as a mistake."""
        return self.voided_at is not None

    def __repr__(self) -> str:
        return f"<Visit {self.id} {self.day} {self.status} slot={self.slot}>"


class AuditEntry(db.Model):
    """A record of a change to stored decisions or settings: who, when, what and why."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Account changes of an admin, who belongs to no site, are audited without one.
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    action: Mapped[str] = mapped_column(sa.String(30))
    # Facts, not sentences, so that the log reads in the reader's language: the settings'
    # {name: [before, after]}, the account and what happened to it, a void's status and slot.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    # A void's reason is free text that may name the visitor: it stays on the visit, where
    # purge-personal clears it, and the audit entry points there instead of copying it.
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"))

    user: Mapped[User | None] = relationship()
    visit: Mapped[Visit | None] = relationship()

    __table_args__ = (sa.Index("audit_site_time", "site_id", "at"),)
