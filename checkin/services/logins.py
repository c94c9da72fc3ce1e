"""Logging in: passwords checked only within the throttle's windows, sessions that can be ended.

Each attempt first takes one from two windows, atomically, before any password is checked: the
account name as typed from this client address (``LOCKOUT_AFTER`` per window), and the address
across all accounts (``ADDRESS_LIMIT``). So an attacker's address cannot lock the owner out on
their own tablet, and 32 guesses in parallel still get at most ``LOCKOUT_AFTER`` passwords
checked. A known account and an unknown name go through the same steps and answer alike.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from werkzeug.security import generate_password_hash

from checkin.domain.throttle import WINDOW, Window
from checkin.extensions import db
from checkin.models import LoginWindow, User

LOCKOUT_AFTER = 5
LOCKOUT_MINUTES = int(WINDOW.total_seconds() // 60)
ADDRESS_LIMIT = 20
# A stale read loses to the request that changed the window first, which then reads again.
RACE_RETRIES = 20
EVERY_ACCOUNT = ""
# Each throttle key (a digest of what was typed or who tries, and of the client) and its limit.
Keys = dict[tuple[str, str], int]
_DUMMY_HASH = generate_password_hash("not a password")
# Whether a write landed is read from RETURNING: drivers report no row count for an INSERT.
_WINDOWS = LoginWindow.__table__
_NEW_WINDOW = {
    dialect.dialect.name: dialect.insert(_WINDOWS)
    .on_conflict_do_nothing()
    .returning(_WINDOWS.c.version)
    for dialect in (postgresql, sqlite)
}


@dataclass(frozen=True)
class LoginResult:
    """The account logged in, or None; and until when this device must wait, if it must."""

    user: User | None
    locked_until: datetime | None = None


def log_in(username: str, password: str, address: str, now: datetime) -> LoginResult:
    """Check a password if the windows allow it; count a failure, forgive a success."""
    keys = {
        (digest(username), digest(address)): LOCKOUT_AFTER,
        (EVERY_ACCOUNT, digest(address)): ADDRESS_LIMIT,
    }
    refused_until = take_attempt(keys, now)
    if refused_until is not None:
        return LoginResult(None, refused_until)
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active:
        # Hash anyway so the response time does not reveal which usernames exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
    elif user.check_password(password):
        give_back_attempt(keys, now)
        return LoginResult(user)
    return LoginResult(None, locked_until(keys, now))


def take_attempt(keys: Keys, now: datetime) -> datetime | None:
    """Take one attempt from each key's window (key -> its limit); None, or when refusals end.

    The PIN and pairing-code throttles use the same windows as passwords, with their own keys.
    """
    return _change_windows(keys, lambda window, limit: window.take(limit, now), now)


def give_back_attempt(keys: Keys, now: datetime) -> None:
    """Forgive a correct attempt: give it back to each key's window, the longer wait forgotten."""
    _change_windows(keys, lambda window, limit: window.give_back(), now)


def minutes_until(moment: datetime, now: datetime) -> int:
    """Return the whole minutes from ``now`` to ``moment``, rounded up: the wait a refusal says."""
    return math.ceil((moment - now).total_seconds() / 60)


def locked_until(keys: Keys, now: datetime) -> datetime | None:
    """Return until when a full window refuses attempts after a failure, or None."""
    windows = [(_read(key), limit) for key, limit in keys.items()]
    locks = [window.locked_until(limit, now) for (window, _version), limit in windows]
    return max((lock for lock in locks if lock is not None), default=None)


def pin_key(user_id: int) -> str:
    """Return the throttle's key for PIN guesses at an account (no username has a colon)."""
    return digest(f"pin:{user_id}")


def forget_pin_guesses(user_id: int) -> None:
    """Forget the wrong guesses at an account's PIN, with the PIN they were made against."""
    db.session.execute(
        sa.delete(LoginWindow).where(LoginWindow.username_digest == pin_key(user_id))
    )


def digest(text: str) -> str:
    """Return a keyed digest: typed names and client addresses are not kept as they are."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def forget_failures(user: User) -> None:
    """Clear the windows of ``user`` from every address (an admin gave it a new password)."""
    db.session.execute(
        sa.delete(LoginWindow).where(LoginWindow.username_digest == digest(user.username))
    )


def _read(key: tuple[str, str]) -> tuple[Window, int]:
    """Return a key's window and its version (a fresh window and -1 if it has no row)."""
    row = db.session.get(LoginWindow, key, populate_existing=True)
    if row is None:
        return Window(), -1
    return Window(row.started_at, row.attempts, row.full_windows), row.version


def _change_windows(
    keys: Keys,
    change: Callable[[Window, int], Window | None],
    now: datetime,
) -> datetime | None:
    """Apply ``change`` to every key's window in one transaction; None, or when a refusal ends.

    Each write is conditional on the version read, so of two requests that read the same
    window only the first one's write lands; the other reads again and decides again, its
    writes of the lost round undone to a savepoint, the caller's transaction kept.
    """
    for _attempt in range(RACE_RETRIES):
        read = {key: _read(key) for key in keys}
        changed = {key: change(window, keys[key]) for key, (window, _version) in read.items()}
        refusals = [read[key][0].ends_at for key, window in changed.items() if window is None]
        if refusals:
            return max(refusals)
        this_round = db.session.begin_nested()
        if all(_write(key, read[key][1], window) for key, window in changed.items()):
            this_round.commit()
            return None
        this_round.rollback()
    # Never seen: every retry lost a race. Refuse rather than check a password unthrottled.
    return now + WINDOW


def _write(key: tuple[str, str], version: int, window: Window) -> bool:
    """Store ``window`` for ``key`` if the row is still at ``version``; tell whether it was."""
    values = {
        "started_at": window.started_at,
        "attempts": window.attempts,
        "full_windows": window.full_windows,
        "version": version + 1,
    }
    username_digest, address_digest = key
    if version < 0:
        statement = _NEW_WINDOW[db.session.get_bind().dialect.name].values(
            username_digest=username_digest, address_digest=address_digest, **values
        )
    else:
        statement = (
            sa.update(_WINDOWS)
            .where(
                _WINDOWS.c.username_digest == username_digest,
                _WINDOWS.c.address_digest == address_digest,
                _WINDOWS.c.version == version,
            )
            .values(**values)
            .returning(_WINDOWS.c.version)
        )
    return db.session.execute(statement).first() is not None
