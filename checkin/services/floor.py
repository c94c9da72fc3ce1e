"""The service floor: officers open booths and call the visitors admitted at the door to them,
lowest queue number of the day first, one visitor per booth at a time. Video sessions share the
queue (``checkin.services.video``): "call next" gives the one waiting longer.

A call claims its visitor with one conditional UPDATE (``floor_state = 'waiting'``), so two
officers pressing "call next" at once never get the same visitor, across worker processes and
servers. Every step on a called visitor is a conditional UPDATE of the visit too, taken only on
a booth the officer holds, which the step locks first: two presses on one booth queue there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from checkin.domain import calling
from checkin.domain.calling import CALLED, WAITING
from checkin.domain.errors import (
    BoothBusy,
    BoothLimitReached,
    BoothNotYours,
    BoothTaken,
    NobodyWaiting,
    NoRoomForVideo,
    RecallFirst,
    ServiceError,
    UnknownBooth,
    WrongFloorState,
)
from checkin.extensions import db
from checkin.models import Booking, Booth, Site, User, UTCDateTime, Visit
from checkin.services import video

# Statements built once: the console's buttons are pressed all day. The UPDATEs return the
# changed row as the model, so that no SELECT follows them.
_WAITING = sa.orm.aliased(Visit, name="waiting")
_NOW = sa.bindparam("now", type_=UTCDateTime())
_NO_SYNC = {"synchronize_session": False}
# The visitor a booth holds (called or being served), joined to the booth: made once, as an
# alias built per call costs a poll more than its query.
_AT_BOOTH = sa.orm.aliased(Visit, name="at_booth")
_AT_BOOTH_ON = sa.and_(_AT_BOOTH.booth_id == Booth.id, _AT_BOOTH.floor_state.in_(calling.AT_BOOTH))
_RETURNED = _NO_SYNC | {"populate_existing": True}

_IN_LINE = (
    sa.select(_WAITING.id, _WAITING.checked_at)
    .where(
        _WAITING.site_id == sa.bindparam("site"),
        _WAITING.day == sa.bindparam("on_day"),
        _WAITING.floor_state == WAITING,
        _WAITING.voided_at.is_(None),
    )
    .order_by(_WAITING.slot)
    .limit(1)
)
_FIRST_WAITING = _IN_LINE.with_only_columns(_WAITING.id).scalar_subquery()
# The claim: the lowest waiting number, taken only while it is still waiting.
_CALL_NEXT = (
    sa.update(Visit)
    .where(Visit.id == _FIRST_WAITING, Visit.floor_state == WAITING)
    .values(
        floor_state=CALLED,
        booth_id=sa.bindparam("booth"),
        called_by_id=sa.bindparam("acting_officer"),
        called_at=_NOW,
        calls=Visit.calls + 1,
    )
    .returning(Visit)
)
# What each step writes on the visit, as the floor's rules say: its state, the time it
# records, and one more call for a recall. The booth stays on it, for the record of who served
# whom.
_STEPS = {
    name: sa.update(Visit)
    .where(
        Visit.id == sa.bindparam("visit"),
        Visit.booth_id == sa.bindparam("booth"),
        Visit.floor_state.in_(step.from_states),
        Visit.calls >= step.min_calls,
    )
    .values(
        {"floor_state": step.to_state, step.stamp: _NOW}
        | ({"calls": Visit.calls + 1} if step.calls_again else {})
    )
    .returning(Visit)
    for name, step in calling.STEPS.items()
}
# Holding a booth is checked by writing to its row (without changing it): the lock makes a
# second press on the same booth wait for the first to commit, and then see what it did.
_HOLD = (
    sa.update(Booth)
    .where(
        Booth.site_id == sa.bindparam("site"),
        Booth.number == sa.bindparam("booth_number"),
        Booth.officer_id == sa.bindparam("acting_officer"),
    )
    .values(opened_at=Booth.opened_at)
    .returning(Booth.id)
)
_OPEN = (
    sa.update(Booth)
    .where(
        Booth.site_id == sa.bindparam("site"),
        Booth.number == sa.bindparam("booth_number"),
        Booth.in_use.is_(True),
        Booth.officer_id.is_(None),
        # Video sessions in progress take the officer's places as booths do.
        sa.bindparam("limit") > video.PLACES_TAKEN,
    )
    .values(officer_id=sa.bindparam("acting_officer"), opened_at=_NOW)
    .returning(Booth)
)
_CLOSE = (
    sa.update(Booth)
    .where(Booth.id == sa.bindparam("booth"))
    .values(officer_id=None, opened_at=None)
)

# A void takes the visitor off the floor unless their time there has ended: they are never
# called again, and the booth that called them is free.
STATE_AFTER_VOID = sa.case(
    (Visit.floor_state.in_((WAITING, *calling.AT_BOOTH)), sa.null()), else_=Visit.floor_state
)


@dataclass(frozen=True)
class Queue:
    """The visitors admitted today and not called yet: how many, and the longest wait so far."""

    waiting: int
    longest_wait_minutes: int | None


@dataclass(frozen=True)
class BoothState:
    """A booth as the console shows it: who holds it and the visitor at it, if any."""

    booth: Booth
    officer: User | None
    visit: Visit | None


def open_booth(site: Site, officer: User, number: int, now: datetime) -> Booth:
    """Let ``officer`` hold a free booth of their site, up to the site's booths per officer.

    Opening a booth the officer holds already changes nothing (a second tap, another tab).
    """
    video.hold_places_of(officer)
    opened = db.session.execute(
        _OPEN,
        {
            "site": site.id,
            "booth_number": number,
            "acting_officer": officer.id,
            "limit": site.booths_per_officer,
            "now": now,
        },
        execution_options=_RETURNED,
    ).scalar()
    if opened is None:
        booth = _booth(site, number)
        refusal = _not_opened(booth, officer, site.booths_per_officer, number)
        if refusal is not None:
            raise refusal
        return booth
    return opened


def close_booth(site: Site, officer: User, number: int, now: datetime) -> None:
    """Let ``officer`` give up a booth they hold; refused while a visitor is at it."""
    booth_id = _hold(site, officer, number)
    _refuse_if_busy(booth_id, number)
    db.session.execute(_CLOSE, {"booth": booth_id}, execution_options=_NO_SYNC)


def call_next(site: Site, officer: User, number: int, now: datetime) -> Visit | Booking:
    """Call, to a free booth of the officer, the lowest waiting queue number of the site's day
    at ``now``, or the video session due first if it has waited longer and the officer has a
    place for it (``calling.next_in_line``); the booth stays free for a video session."""
    booth_id = _hold(site, officer, number)
    _refuse_if_busy(booth_id, number)
    params = {
        "site": site.id,
        "on_day": site.local_day(now),
        "booth": booth_id,
        "acting_officer": officer.id,
        "now": now,
    }
    while True:
        first_video = video.first_due(site, now)
        if first_video is not None:
            first = db.session.execute(_IN_LINE, params).first()
            visit = None if first is None else calling.InLine(calling.VISIT, *first)
            chosen = calling.next_in_line(visit, first_video, video.has_room(site, officer))
            if chosen is None:
                raise NoRoomForVideo(site.booths_per_officer)
            if chosen is first_video:
                called = video.claim(site, officer, first_video.id, now)
                if called is not None:
                    return called
                continue  # another officer took it (or this one's last place): look again
        called = db.session.execute(_CALL_NEXT, params, execution_options=_RETURNED).scalar()
        if called is not None:
            return called
        # On PostgreSQL another officer's call may have claimed the visitor we picked and
        # committed while we waited for its row: the condition then updates nothing, and the
        # next attempt, a new statement, sees that claim. Each lost race is a visitor called.
        if queue(site, now).waiting == 0:
            raise NobodyWaiting()


def recall(site: Site, officer: User, number: int, visit_id: int, now: datetime) -> Visit:
    """Call the visitor at the booth again, with the same number; the last call counts."""
    return _take_step(site, officer, number, visit_id, calling.RECALL, now)


def start(site: Site, officer: User, number: int, visit_id: int, now: datetime) -> Visit:
    """Start serving the visitor called to the booth."""
    return _take_step(site, officer, number, visit_id, calling.START, now)


def finish(site: Site, officer: User, number: int, visit_id: int, now: datetime) -> Visit:
    """End the service of the visitor at the booth: they leave the floor, the booth is free."""
    return _take_step(site, officer, number, visit_id, calling.FINISH, now)


def no_show(site: Site, officer: User, number: int, visit_id: int, now: datetime) -> Visit:
    """Mark the visitor called to the booth, and called again, as not come: the booth is free."""
    return _take_step(site, officer, number, visit_id, calling.NO_SHOW_STEP, now)


def queue(site: Site, now: datetime) -> Queue:
    """Return how many of the site's visitors and due video sessions wait for a call today,
    and the longest wait; in one statement, as every console's poll asks it."""
    waiting, first, videos, first_start, first_missed = db.session.execute(
        sa.select(
            sa.func.count(), sa.func.min(Visit.checked_at), *video.due_figures(site, now)
        ).where(
            Visit.site_id == site.id,
            Visit.day == site.local_day(now),
            Visit.floor_state == WAITING,
            Visit.voided_at.is_(None),
        )
    ).one()
    first = min(
        filter(None, (first, video.waited_since(site, now, first_start, first_missed))),
        default=None,
    )
    return Queue(
        waiting + videos, calling.waited_minutes(first, now) if first is not None else None
    )


def still_inside() -> sa.ColumnElement[bool]:
    """Return the condition of an admitted visit that has not left the floor: not done, not gone."""
    return sa.and_(Visit.floor_state.in_((WAITING, *calling.AT_BOOTH)), Visit.voided_at.is_(None))


def inside_now(site: Site, now: datetime) -> int:
    """Return the visitors admitted today who have not left the floor."""
    return db.session.scalar(_INSIDE_NOW, {"site_id": site.id, "day": site.local_day(now)})


# Built once: every door tablet's poll asks it.
_INSIDE_NOW = sa.select(sa.func.count()).where(
    Visit.site_id == sa.bindparam("site_id"), Visit.day == sa.bindparam("day"), still_inside()
)


def booth_states(site: Site) -> list[BoothState]:
    """Return the site's booths in use by number, with their officer and visitor at the booth."""
    rows = db.session.execute(
        sa.select(Booth, User, _AT_BOOTH)
        .outerjoin(User, User.id == Booth.officer_id)
        .outerjoin(_AT_BOOTH, _AT_BOOTH_ON)
        .where(Booth.site_id == site.id, Booth.in_use.is_(True))
        .order_by(Booth.number)
    )
    return [BoothState(booth, officer, visit) for booth, officer, visit in rows]


def booths_seen(site: Site) -> list[sa.Row]:
    """Return what a console's poll compares of each booth in use, by number: its label and
    officer, and the id, state and calls of the visitor at it (None when it has none); then of
    each video session in progress, with no booth number or label.

    The columns alone, not the rows as objects, in a statement built once: the poll asks this
    every few seconds from every console.
    """
    return list(db.session.execute(_BOOTHS_SEEN, {"site_id": site.id}))


_BOOTHS_SEEN = sa.union_all(
    sa.select(
        Booth.number.label("number"),
        Booth.label.label("label"),
        Booth.officer_id.label("officer_id"),
        _AT_BOOTH.id.label("visit_id"),
        _AT_BOOTH.floor_state.label("state"),
        _AT_BOOTH.calls.label("calls"),
    )
    .outerjoin(_AT_BOOTH, _AT_BOOTH_ON)
    .where(Booth.site_id == sa.bindparam("site_id"), Booth.in_use.is_(True)),
    video.SEEN,
).order_by(sa.literal_column("number"), sa.literal_column("visit_id"))


def _take_step(
    site: Site, officer: User, number: int, visit_id: int, step: str, now: datetime
) -> Visit:
    """Move the visitor at a booth the officer holds by ``step``, if their state allows it."""
    booth_id = _hold(site, officer, number)
    moved = db.session.execute(
        _STEPS[step],
        {"visit": visit_id, "booth": booth_id, "now": now},
        execution_options=_RETURNED,
    ).scalar()
    if moved is None:
        at_booth = db.session.execute(
            sa.select(Visit.floor_state, Visit.calls).where(
                Visit.id == visit_id, Visit.booth_id == booth_id
            )
        ).one_or_none()
        if at_booth is not None and calling.waits_for_a_recall(step, *at_booth):
            raise RecallFirst()
        raise WrongFloorState()
    return moved


def _hold(site: Site, officer: User, number: int) -> int:
    """Lock a booth the officer holds and return its id; refuse any other booth."""
    held = db.session.execute(
        _HOLD,
        {"site": site.id, "booth_number": number, "acting_officer": officer.id},
        execution_options=_NO_SYNC,
    ).first()
    if held is None:
        booth = _booth(site, number)
        refusal = UnknownBooth(number) if booth is None or not booth.in_use else None
        raise refusal or BoothNotYours(number)
    return held.id


def _not_opened(booth: Booth | None, officer: User, limit: int, number: int) -> ServiceError | None:
    """Return why a booth was not opened for ``officer``; None if they hold it already."""
    if booth is None or not booth.in_use:
        return UnknownBooth(number)
    if booth.officer_id == officer.id:
        return None
    if booth.officer_id is not None:
        return BoothTaken(number)
    return BoothLimitReached(limit)


def _refuse_if_busy(booth_id: int, number: int) -> None:
    """Refuse while a visitor is called to or served at the booth."""
    slot = db.session.scalar(
        sa.select(Visit.slot).where(
            Visit.booth_id == booth_id, Visit.floor_state.in_(calling.AT_BOOTH)
        )
    )
    if slot is not None:
        raise BoothBusy(number, slot)


def _booth(site: Site, number: int) -> Booth | None:
    """Return the site's booth with this number, in use or not."""
    return db.session.scalar(
        sa.select(Booth)
        .where(Booth.site_id == site.id, Booth.number == number)
        .execution_options(populate_existing=True)
    )
