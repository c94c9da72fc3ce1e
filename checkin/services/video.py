"""Video sessions on the service floor: bookings of kind "video", served where the visitor is.

A video session never passes the door. It joins the officers' one queue when its session
starts (:func:`due`): from then "call next" at an officer's free booth may give it to the
officer instead of the lowest waiting number (``calling.next_in_line`` says which), and while
called or served it takes one of the officer's places, as an open booth does. The officer
starts serving it (the booked visitor came: the booking is admitted, as at the door), marks it
not answered (the first time it waits again, the second it is closed) or done.

A call claims the session with one conditional UPDATE (still ``waiting``, and the officer's
booths and sessions in progress below the site's limit), so two officers calling at once never
get the same session; the CHECK constraint ``booking_floor_held`` is the backstop that a held
session names its officer. Every step is a conditional UPDATE on a session the officer holds.
"""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa

from checkin.domain import booking_rules, calling
from checkin.domain.calling import CALLED, WAITING, InLine
from checkin.domain.errors import UnknownVideoSession, WrongFloorState
from checkin.extensions import db
from checkin.models import Booking, BookingSession, Booth, Site, User, UTCDateTime
from checkin.services import bookings

_NOW = sa.bindparam("now", type_=UTCDateTime())
_RETURNED = {"synchronize_session": False, "populate_existing": True}


def _places_taken() -> sa.ColumnElement[int]:
    """Return how many of the officer's places (``acting_officer``) at the site are taken:
    their open booths and their video sessions called or being served."""
    held = sa.orm.aliased(Booth, name="held")
    serving = sa.orm.aliased(Booking, name="serving")
    booths = (
        sa.select(sa.func.count())
        .where(
            held.site_id == sa.bindparam("site"), held.officer_id == sa.bindparam("acting_officer")
        )
        .scalar_subquery()
    )
    sessions = (
        sa.select(sa.func.count())
        .where(
            serving.officer_id == sa.bindparam("acting_officer"),
            serving.site_id == sa.bindparam("site"),
            serving.floor_state.in_(calling.IN_PROGRESS),
        )
        .scalar_subquery()
    )
    return booths + sessions


PLACES_TAKEN = _places_taken()
# The claim: the session picked, taken only while it still waits and the officer has room.
_CLAIM = (
    sa.update(Booking)
    .where(
        Booking.id == sa.bindparam("booking"),
        Booking.floor_state == WAITING,
        Booking.status == booking_rules.BOOKED,
        sa.bindparam("limit") > PLACES_TAKEN,
    )
    .values(
        floor_state=CALLED,
        officer_id=sa.bindparam("acting_officer"),
        called_at=_NOW,
        calls=Booking.calls + 1,
    )
    .returning(Booking)
)


# The start of a booking's session, looked up by its key for each booking of the day.
_SESSION_START = (
    sa.select(BookingSession.starts)
    .where(BookingSession.id == Booking.session_id)
    .scalar_subquery()
)


def _due(site: Site, now: datetime) -> tuple[sa.ColumnElement[bool], ...]:
    """Return the conditions of the site's video sessions of today waiting and due at ``now``:
    ``calling.due_at`` as SQL, from the session's start in the site's zone or, put back after
    a call not answered, from that moment (always past)."""
    local = now.astimezone(site.zone)
    return (
        Booking.site_id == site.id,
        Booking.day == local.date(),
        Booking.floor_state == WAITING,
        Booking.status == booking_rules.BOOKED,
        sa.or_(Booking.missed_at.is_not(None), local.time() >= _SESSION_START),
    )


def due(site: Site, now: datetime) -> list[tuple[Booking, datetime]]:
    """Return the site's video sessions of today waiting for a call at ``now``, each with the
    moment it became due, in the queue's order (due first, then booked first).

    A session is due from its session's start, or, put back after a call not answered, from
    that moment (``calling.due_at``); one cancelled, or released with its session's places,
    has left the queue.
    """
    rows = db.session.execute(sa.select(Booking, _SESSION_START).where(*_due(site, now)))
    waiting = [
        (
            booking,
            calling.due_at(datetime.combine(booking.day, starts, site.zone), booking.missed_at),
        )
        for booking, starts in rows
    ]
    return sorted(waiting, key=lambda pair: (pair[1], pair[0].id))


def due_figures(site: Site, now: datetime) -> tuple[sa.ScalarSelect, ...]:
    """Return, as scalar subqueries for the queue's statement, how many video sessions are due
    at ``now``, the earliest session start of those never called, and the earliest moment one
    was put back (see :func:`waited_since`)."""
    due_now = sa.select().select_from(Booking).where(*_due(site, now))
    return (
        due_now.add_columns(sa.func.count()).scalar_subquery(),
        due_now.add_columns(sa.func.min(_SESSION_START))
        .where(Booking.missed_at.is_(None))
        .scalar_subquery(),
        due_now.add_columns(sa.func.min(Booking.missed_at)).scalar_subquery(),
    )


def waited_since(
    site: Site, now: datetime, first_start: time | None, first_missed: datetime | None
) -> datetime | None:
    """Return since when the video session due longest has waited, from :func:`due_figures`."""
    starts = (
        None
        if first_start is None
        else datetime.combine(site.local_day(now), first_start, site.zone)
    )
    return min(filter(None, (starts, first_missed)), default=None)


def first_due(site: Site, now: datetime) -> InLine | None:
    """Return the video session first in the queue at ``now``, if one is due."""
    waiting = due(site, now)
    if not waiting:
        return None
    booking, since = waiting[0]
    return InLine(calling.VIDEO, booking.id, since)


def has_room(site: Site, officer: User) -> bool:
    """Tell whether the officer may take one more video session at the site."""
    taken = db.session.scalar(
        sa.select(PLACES_TAKEN), {"site": site.id, "acting_officer": officer.id}
    )
    return taken < site.booths_per_officer


# The officer's account row, locked: their places are counted over many rows (booths and
# sessions), which a conditional UPDATE of one of them does not lock, so on PostgreSQL two
# claims of one officer at once (two tabs; a call beside an opening) would each count the
# other's place as free. SQLite lets one writer in at a time; FOR UPDATE is not written there.
_HOLD_OFFICER = sa.select(User.id).where(User.id == sa.bindparam("account")).with_for_update()


def hold_places_of(officer: User) -> None:
    """Make the officer's other claims wait for this transaction before they count places."""
    db.session.execute(_HOLD_OFFICER, {"account": officer.id})


def claim(site: Site, officer: User, booking_id: int, now: datetime) -> Booking | None:
    """Call the video session to the officer, if it still waits and the officer has room;
    None when another officer took it first (or the officer's last place meanwhile)."""
    hold_places_of(officer)
    return db.session.execute(
        _CLAIM,
        {
            "booking": booking_id,
            "site": site.id,
            "acting_officer": officer.id,
            "limit": site.booths_per_officer,
            "now": now,
        },
        execution_options=_RETURNED,
    ).scalar()


def put_back_called_by(officer: User) -> None:
    """Put the video sessions the officer called and has not started back in the queue, in
    their place: the account leaves the floor (deactivated, or given another role or site),
    and no one else may step on a session it holds."""
    db.session.execute(
        sa.update(Booking)
        .where(Booking.officer_id == officer.id, Booking.floor_state == CALLED)
        .values(floor_state=WAITING, officer_id=None),
        execution_options={"synchronize_session": False},
    )


def held_by(site: Site, officer: User) -> list[Booking]:
    """Return the video sessions the officer has called or is serving, first called first."""
    return list(
        db.session.scalars(
            sa.select(Booking)
            .where(
                Booking.site_id == site.id,
                Booking.officer_id == officer.id,
                Booking.floor_state.in_(calling.IN_PROGRESS),
            )
            .order_by(Booking.called_at, Booking.id)
        )
    )


# What a console's poll compares of each video session in progress, beside the booths
# (``floor.booths_seen``): no booth, its officer, id, state and calls.
SEEN = sa.select(
    sa.null().label("number"),
    sa.null().label("label"),
    Booking.officer_id.label("officer_id"),
    Booking.id.label("visit_id"),
    Booking.floor_state.label("state"),
    Booking.calls.label("calls"),
).where(Booking.site_id == sa.bindparam("site_id"), Booking.floor_state.in_(calling.IN_PROGRESS))


def start(site: Site, officer: User, booking_id: int, now: datetime) -> Booking:
    """Start serving the video session: the booked visitor came, and takes their place."""
    return _take_step(site, officer, booking_id, calling.START, now)


def no_answer(site: Site, officer: User, booking_id: int, now: datetime) -> Booking:
    """Record that the visitor did not answer the call: back to the queue after the first
    try, closed as not come after the second; either way the officer's place is free."""
    return _take_step(site, officer, booking_id, calling.NO_ANSWER, now)


def finish(site: Site, officer: User, booking_id: int, now: datetime) -> Booking:
    """End the video session being served: the officer's place is free."""
    return _take_step(site, officer, booking_id, calling.FINISH, now)


def _take_step(site: Site, officer: User, booking_id: int, step: str, now: datetime) -> Booking:
    """Move a video session the officer holds by ``step``, if its state allows it."""
    booking = db.session.scalar(
        sa.select(Booking).where(
            Booking.id == booking_id,
            Booking.site_id == site.id,
            Booking.officer_id == officer.id,
            Booking.floor_state.is_not(None),
        )
    )
    if booking is None:
        raise UnknownVideoSession()
    rule = calling.video_step(step, booking.calls)
    values = {"floor_state": rule.to_state, rule.stamp: _NOW}
    moved = db.session.execute(
        sa.update(Booking)
        .where(
            Booking.id == booking_id,
            Booking.officer_id == officer.id,
            Booking.floor_state.in_(rule.from_states),
            # The calls read decide the outcome: a recall meanwhile makes this one stale.
            Booking.calls == booking.calls,
        )
        .values(values)
        .returning(Booking),
        {"now": now},
        execution_options=_RETURNED,
    ).scalar()
    if moved is None:
        raise WrongFloorState()
    if step == calling.START:
        bookings.admit(site, moved, now)
    return moved
