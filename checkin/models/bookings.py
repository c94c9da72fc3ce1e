"""Booked visits: a site's booking settings and sessions, each session's places per day, and
the bookings themselves."""

from __future__ import annotations

from datetime import date, datetime, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from checkin.domain import booking_rules, calling, limits
from checkin.extensions import db
from checkin.models.base import UTCDateTime

_HOLDING = sa.text(f"status IN {booking_rules.HOLDING!r}")
# The floor states of a video session that an officer took: who took it stays on it.
_HELD = (*calling.AT_BOOTH, calling.DONE)


class SiteBooking(db.Model):
    """A site's booked channel: its places a day, beside the walk-in quota, the time from
    which places not claimed go to walk-ins, and whether visitors may book on the office's own
    public page. A site without a row has the defaults (the page off)."""

    __tablename__ = "site_booking"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    capacity: Mapped[int] = mapped_column(default=limits.DEFAULT_BOOKED_CAPACITY)
    release_at: Mapped[time] = mapped_column(default=limits.DEFAULT_RELEASE_TIME)
    public_page: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    __table_args__ = (sa.CheckConstraint("capacity >= 0", name="site_booking_capacity"),)


class BookingSession(db.Model):
    """A session of the site's day that visitors book into, with its places."""

    __tablename__ = "booking_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    starts: Mapped[time]
    ends: Mapped[time]
    capacity: Mapped[int]

    __table_args__ = (
        sa.UniqueConstraint("site_id", "starts", name="booking_session_start"),
        sa.CheckConstraint("starts < ends", name="booking_session_in_order"),
        sa.CheckConstraint("capacity >= 0", name="booking_session_capacity"),
    )

    @property
    def times(self) -> booking_rules.Session:
        """Return the session's times, as the pure rules take them."""
        return booking_rules.Session(self.starts, self.ends)


class SessionDay(db.Model):
    """A session's places on one day: the booking channel's counter row.

    A booking claims a place with one conditional UPDATE (``booked < capacity``), so the
    capacity holds across processes and servers; the CHECK constraints are the backstop. The
    capacity is the session's when the row is made. The release lowers it to the places still
    claimed and counts the rest in ``released``, once (``released_at``); of a session whose
    check-in window had closed, the bookings nobody came for leave ``booked`` for ``no_shows``.
    """

    __tablename__ = "session_day"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_session.id"), primary_key=True)
    capacity: Mapped[int]
    booked: Mapped[int] = mapped_column(default=0)
    admitted: Mapped[int] = mapped_column(default=0)
    released: Mapped[int] = mapped_column(default=0)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    no_shows: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        sa.CheckConstraint("booked >= 0 AND booked <= capacity", name="session_day_within"),
        sa.CheckConstraint("admitted >= 0 AND admitted <= booked", name="session_day_admitted"),
        sa.CheckConstraint("released >= 0", name="session_day_released"),
        sa.CheckConstraint("no_shows >= 0", name="session_day_no_shows"),
    )


class Booking(db.Model):
    """A booked visit (the visitor comes to the door) or video session (served where they are).

    ``phone`` is kept as bookings compare it (``booking_rules.phone_key``) and ``name_key`` as
    searches do; of a NIK only the last 4 digits are kept, as for visits.
    """

    __tablename__ = "booking"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    day: Mapped[date]
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("booking_session.id"))
    kind: Mapped[str] = mapped_column(sa.String(5))
    name: Mapped[str] = mapped_column(sa.String(limits.MAX_NAME))
    name_key: Mapped[str] = mapped_column(sa.String(2 * limits.MAX_NAME))
    phone: Mapped[str] = mapped_column(sa.String(limits.MAX_PHONE))
    nik_last4: Mapped[str] = mapped_column(sa.String(4))
    purpose: Mapped[str | None] = mapped_column(sa.String(20))
    contact: Mapped[str | None] = mapped_column(sa.String(limits.MAX_BOOKING_CONTACT))
    # The reference of the system it came from (the national queue's number): one per site.
    external_ref: Mapped[str | None] = mapped_column(sa.String(limits.MAX_EXTERNAL_REF))
    code: Mapped[str] = mapped_column(sa.String(limits.BOOKING_CODE_LENGTH), unique=True)
    status: Mapped[str] = mapped_column(sa.String(10), default=booking_rules.BOOKED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    admitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), unique=True)
    # A video session on the service floor (``checkin.services.video``): waiting from its
    # session's start, called by an officer, served, then done or not answered (no_show).
    floor_state: Mapped[str | None] = mapped_column(sa.String(10))
    officer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    calls: Mapped[int] = mapped_column(default=0, server_default="0")
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The first call not answered: the session waits again from then.
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    serving_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    session: Mapped[BookingSession] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("site_id", "external_ref", name="booking_external_ref"),
        sa.CheckConstraint(f"status IN {booking_rules.STATUSES!r}", name="booking_status_known"),
        sa.CheckConstraint(f"kind IN {limits.BOOKING_KINDS!r}", name="booking_kind_known"),
        # One booking per NIK-last-4 and phone a day: a broker (calo) cannot hoard places.
        sa.Index(
            "booking_one_per_person",
            "site_id",
            "day",
            "nik_last4",
            "phone",
            unique=True,
            sqlite_where=_HOLDING,
            postgresql_where=_HOLDING,
        ),
        sa.Index("booking_site_day", "site_id", "day", "session_id"),
        sa.CheckConstraint(
            f"floor_state IN {calling.FLOOR_STATES!r}", name="booking_floor_state_known"
        ),
        sa.CheckConstraint(
            "floor_state IS NULL OR kind = 'video'", name="booking_floor_video_only"
        ),
        # Two officers never hold one session: the one who called it is on it (the claim's
        # conditional UPDATE decides who).
        sa.CheckConstraint(
            f"floor_state NOT IN {_HELD!r} OR officer_id IS NOT NULL", name="booking_floor_held"
        ),
        sa.CheckConstraint("calls >= 0", name="booking_calls"),
        sa.Index("booking_floor", "site_id", "floor_state", "officer_id"),
    )
