"""The waiting-room display: its tokens, and the board of calls it shows (numbers and booths only).

A display token is an API token with the scope ``display`` only, made by a manager for their
site. It opens the display of that site and nothing else (see ``accounts.bearer``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from checkin.domain.calling import CALLED, DONE, NO_SHOW, SERVING, WAITING
from checkin.domain.errors import UnknownToken
from checkin.extensions import db
from checkin.models import ApiToken, Booth, Site, User, Visit, hash_token
from checkin.services import accounts, audit

DISPLAY_SCOPE = "display"
# The current call and the six before it.
BOARD_CALLS = 7
# Called visits stay on the board after they are served; a visit sent back to waiting leaves it.
_ON_BOARD = (CALLED, SERVING, DONE, NO_SHOW)


def issue_display_token(site: Site, label: str, by: User, now: datetime) -> str:
    """Make a display token for ``site`` and return its secret, which is shown only once."""
    secret = accounts.issue_token(by, label, (DISPLAY_SCOPE,))
    audit.record(site, by, now, "display_token", {"label": label, "change": "created"})
    return secret


def _site_display_tokens(site: Site) -> sa.Select:
    return (
        sa.select(ApiToken)
        .join(User, ApiToken.user_id == User.id)
        .where(User.site_id == site.id, ApiToken.scopes == DISPLAY_SCOPE)
    )


def display_tokens(site: Site) -> list[ApiToken]:
    """Return the site's active display tokens, oldest first."""
    query = _site_display_tokens(site).where(ApiToken.revoked_at.is_(None))
    return list(db.session.scalars(query.order_by(ApiToken.id)))


def revoke_display_token(site: Site, token_id: int, by: User, now: datetime) -> None:
    """Revoke an active display token of ``site``: its display stops at its next poll."""
    token = db.session.scalar(
        _site_display_tokens(site).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    )
    if token is None:
        raise UnknownToken(token_id)
    token.revoked_at = now
    audit.record(site, by, now, "display_token", {"label": token.label, "change": "revoked"})


# Built once: every display asks these every second or two, and most answers are a 304 that
# needs nothing else. Sent on the session's connection, past the ORM: rows, not objects.
_SITE_FOR_DISPLAY = (
    sa.select(Site.id, Site.timezone)
    .join(User, User.site_id == Site.id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.scopes == DISPLAY_SCOPE,
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)
_TODAY = (
    Visit.site_id == sa.bindparam("site_id"),
    Visit.day == sa.bindparam("day"),
    Visit.voided_at.is_(None),
)
# One row over the day's visits: it changes whenever a call, a recall, a void or an admission
# changes what the board shows.
_VERSION = sa.select(
    sa.func.max(Visit.called_at),
    sa.func.coalesce(sa.func.sum(Visit.calls), 0),
    sa.func.count(Visit.id).filter(Visit.floor_state == WAITING),
).where(*_TODAY)


@dataclass(frozen=True)
class BoardState:
    """Which site's board a display shows, its day there, and a tag of the board's content."""

    site_id: int
    day: date
    version: str


def board_state(secret: str, now: datetime) -> BoardState | None:
    """Return the state of the board a display token shows; None for any other token.

    Equal versions mean equal boards, so the display's poll can answer 304 from this alone.
    """
    connection = db.session.connection()
    found = connection.execute(_SITE_FOR_DISPLAY, {"token_hash": hash_token(secret)}).first()
    if found is None:
        return None
    day = now.astimezone(ZoneInfo(found.timezone)).date()
    last_call, calls, waiting = connection.execute(
        _VERSION, {"site_id": found.id, "day": day}
    ).one()
    last = last_call.timestamp() if last_call else 0
    return BoardState(found.id, day, f"{day.isoformat()}.{last:.6f}.{calls}.{waiting}")


@dataclass(frozen=True)
class Call:
    """A call on the board: the queue number, the booth, and when."""

    number: int
    booth_number: int
    booth_label: str
    called_at: datetime


@dataclass(frozen=True)
class Board:
    """What the display shows: the latest calls, newest first, and how many still wait."""

    calls: list[Call]
    waiting: int


def board(state: BoardState) -> tuple[Site, Board]:
    """Return the site and board a display shows: nothing about a visitor but their number."""
    site = db.session.get_one(Site, state.site_id)
    params = {"site_id": site.id, "day": state.day}
    rows = db.session.execute(
        sa.select(Visit.slot, Booth.number, Booth.label, Visit.called_at)
        .join(Booth, Visit.booth_id == Booth.id)
        .where(*_TODAY, Visit.floor_state.in_(_ON_BOARD), Visit.called_at.is_not(None))
        .order_by(Visit.called_at.desc(), Visit.id.desc())
        .limit(BOARD_CALLS),
        params,
    )
    waiting = db.session.scalar(
        sa.select(sa.func.count(Visit.id)).where(*_TODAY, Visit.floor_state == WAITING), params
    )
    return site, Board([Call(*row) for row in rows], waiting or 0)
