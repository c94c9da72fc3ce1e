"""Staff accounts and API tokens: create, log in, deactivate, reset, issue and revoke."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from werkzeug.security import generate_password_hash

from checkin import rules
from checkin.extensions import db
from checkin.models import ApiToken, Site, User, hash_token
from checkin.services import audit
from checkin.services.errors import (
    CannotDeactivateSelf,
    InvalidUsername,
    PasswordTooShort,
    SiteRequired,
    UnknownAccount,
    UnknownToken,
    UsernameTaken,
)

LOCKOUT_AFTER = 5
LOCKOUT_MINUTES = 15
_DUMMY_HASH = generate_password_hash("not a password")


def authenticate(username: str, password: str, now: datetime) -> User | None:
    """Return the account if the password matches; lock it for a while after repeated failures."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.active:
        # Hash anyway so the response time does not reveal which usernames exist.
        User(password_hash=_DUMMY_HASH).check_password(password)
        return None
    if user.locked_until is not None and user.locked_until > now:
        return None
    if user.check_password(password):
        user.failed_logins = 0
        user.locked_until = None
        db.session.commit()
        return user
    user.failed_logins += 1
    if user.failed_logins >= LOCKOUT_AFTER:
        user.failed_logins = 0
        user.locked_until = now + timedelta(minutes=LOCKOUT_MINUTES)
    db.session.commit()
    return None


def is_locked(username: str, now: datetime) -> bool:
    """Tell whether the account is locked after too many failed logins."""
    locked_until = db.session.scalar(sa.select(User.locked_until).where(User.username == username))
    return locked_until is not None and locked_until > now


def _check_password(password: str) -> None:
    """Raise unless the password is long enough."""
    if len(password) < rules.MIN_PASSWORD:
        raise PasswordTooShort(rules.MIN_PASSWORD)


def add_user(
    username: str,
    role: str,
    password: str,
    site: Site | None,
    *,
    by: User | None,
    now: datetime,
) -> User:
    """Create an account; audit it as done ``by`` (None: the command line)."""
    if not rules.valid_username(username):
        raise InvalidUsername(username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username)
    if role != "admin" and site is None:
        raise SiteRequired()
    _check_password(password)
    user = User(username=username, role=role, site=site)
    user.set_password(password)
    db.session.add(user)
    audit.record(site, by, now, "account", {"account": username, "change": "created", "role": role})
    db.session.commit()
    return user


def account_named(username: str) -> User:
    """Return the account called ``username``."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise UnknownAccount(username)
    return user


@dataclass(frozen=True)
class Directory:
    """Every site and every account, for the admin page."""

    sites: list[Site]
    accounts: list[User]


def directory() -> Directory:
    """Return all sites by code and all accounts by username."""
    return Directory(
        list(db.session.scalars(sa.select(Site).order_by(Site.code))),
        list(db.session.scalars(sa.select(User).order_by(User.username))),
    )


def set_account_active(user: User, active: bool, by: User, now: datetime) -> None:
    """Deactivate an account (it can no longer log in or use its tokens) or reactivate it."""
    if user.id == by.id and not active:
        raise CannotDeactivateSelf()
    user.active = active
    change = "reactivated" if active else "deactivated"
    audit.record(user.site, by, now, "account", {"account": user.username, "change": change})
    db.session.commit()


def reset_password(user: User, password: str, by: User, now: datetime) -> None:
    """Give an account a new password and lift any lockout."""
    _check_password(password)
    user.set_password(password)
    user.failed_logins = 0
    user.locked_until = None
    change = {"account": user.username, "change": "password_reset"}
    audit.record(user.site, by, now, "account", change)
    db.session.commit()


def issue_token(user: User, label: str = "") -> str:
    """Create an API token for ``user`` and return its secret, which is shown only once."""
    secret = secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, label=label, token_hash=hash_token(secret)))
    db.session.commit()
    return secret


def tokens_of(user: User) -> list[ApiToken]:
    """Return every API token of ``user``, revoked ones included, oldest first."""
    return list(
        db.session.scalars(
            sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
        )
    )


def revoke_token(token_id: int, now: datetime) -> None:
    """Revoke an active API token at once; the row is kept, marked revoked."""
    revoked = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    if revoked.rowcount != 1:
        db.session.rollback()
        raise UnknownToken(token_id)
    db.session.commit()


# Built once, as the check-in statements are: this runs on every API call.
_USER_FOR_TOKEN = (
    sa.select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .options(joinedload(User.site))
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


def user_for_token(secret: str) -> User | None:
    """Return the active user a bearer token acts as, or None for unknown or revoked tokens."""
    return db.session.scalar(_USER_FOR_TOKEN, {"token_hash": hash_token(secret)})
