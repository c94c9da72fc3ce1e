"""Staff accounts and API tokens: create, log in, deactivate, reset, issue and revoke."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from checkin.domain import limits
from checkin.domain.errors import (
    CannotDeactivateSelf,
    CannotLeaveAdmin,
    InvalidDisplayName,
    InvalidUsername,
    PasswordTooShort,
    SiteRequired,
    UnknownAccount,
    UnknownRole,
    UnknownScope,
    UnknownToken,
    UsernameTaken,
)
from checkin.domain.roles import Capability, Role
from checkin.extensions import db
from checkin.models import ROLES, TOKEN_SCOPES, ApiToken, Site, User, hash_token
from checkin.services import audit, logins, video

# An administrator may belong to no site; head office never does.
ROLES_WITHOUT_SITE = (Role.ADMIN, Role.HEAD_OFFICE)


def _check_password(password: str) -> None:
    """Raise unless the password is long enough."""
    if len(password) < limits.MIN_PASSWORD:
        raise PasswordTooShort(limits.MIN_PASSWORD)


def add_user(
    username: str,
    role: str,
    password: str,
    site: Site | None,
    *,
    by: User | None,
    now: datetime,
    display_name: str | None = None,
) -> User:
    """Create an account; audit it as done ``by`` (None: the command line).

    ``display_name`` is what staff see of it; blank or None, they see the username.
    """
    if not limits.valid_username(username):
        raise InvalidUsername(username)
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise UsernameTaken(username)
    site = site_of_role(role, site)
    _check_password(password)
    user = User(username=username, role=role, site=site, display_name=_shown_name(display_name))
    user.set_password(password)
    db.session.add(user)
    db.session.flush()  # its id, for the caller that acts on it before committing
    audit.record(site, by, now, "account", {"account": username, "change": "created", "role": role})
    return user


def site_of_role(role: str, site: Site | None) -> Site | None:
    """Return the site an account of ``role`` belongs to: door, officer and manager need one."""
    if role == Role.HEAD_OFFICE:
        return None  # head office reads every site and belongs to none
    if role not in ROLES_WITHOUT_SITE and site is None:
        raise SiteRequired()
    return site


def rename(user: User, display_name: str | None, by: User, now: datetime) -> None:
    """Give an account the name staff see (blank: its username); its sessions go on."""
    user.display_name = _shown_name(display_name)
    detail = {"account": user.username, "change": "renamed"}
    audit.record(user.site, by, now, "account", detail)


def _shown_name(display_name: str | None) -> str | None:
    """Return a display name as stored, None for a blank one; refuse what would not show."""
    display_name = (display_name or "").strip() or None
    if display_name is not None and (
        len(display_name) > limits.MAX_DISPLAY_NAME or not limits.shown_as_typed(display_name)
    ):
        raise InvalidDisplayName(limits.MAX_DISPLAY_NAME)
    return display_name


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
    """Deactivate an account (its sessions end, it can no longer log in or use its tokens)."""
    if user.id == by.id and not active:
        raise CannotDeactivateSelf()
    user.active = active
    if not active:
        end_sessions(user)
        video.put_back_called_by(user)
    change = "reactivated" if active else "deactivated"
    audit.record(user.site, by, now, "account", {"account": user.username, "change": change})


def change_account(user: User, role: str, site: Site | None, by: User, now: datetime) -> bool:
    """Give an account another role or site; its sessions end and its tokens are revoked.

    Audited at the sites it leaves and joins. False when nothing changed.
    """
    if role not in ROLES:
        raise UnknownRole(role)
    site = site_of_role(role, site)
    if user.id == by.id and not Role(role).may(Capability.ADMINISTER):
        raise CannotLeaveAdmin()
    before = user.site
    if (user.role, before) == (role, site):
        return False
    detail = {
        "account": user.username,
        "change": "moved",
        "roles": [user.role, role],
        "sites": [before.code if before else None, site.code if site else None],
    }
    user.role, user.site = role, site
    end_sessions(user)
    video.put_back_called_by(user)
    # A token acts at its account's site, and a display shows it: none may follow the account
    # to another site or role (a TV would show the new site's calls, a tablet record there).
    _revoke_tokens(user, now)
    changes = [detail]
    if user.pin_hash is not None:
        # A PIN was given for one role at one site: a door PIN a manager set must not become
        # the supervisor's own PIN of a promoted account, nor a supervisor's a door log-in.
        _drop_pin(user)
        changes.append({"account": user.username, "change": "pin_dropped"})
    for where in [place for place in dict.fromkeys([before, site]) if place] or [None]:
        for change in changes:
            audit.record(where, by, now, "account", change)
    return True


def _drop_pin(user: User) -> None:
    """Take away the account's PIN and the count of its wrong guesses."""
    user.pin_hash = None
    logins.forget_pin_guesses(user.id)


def reset_password(user: User, password: str, by: User, now: datetime) -> None:
    """Give an account a new password; its sessions end, its tokens stop, its failures go."""
    _check_password(password)
    user.set_password(password)
    end_sessions(user)
    _revoke_tokens(user, now)
    logins.forget_failures(user)
    change = {"account": user.username, "change": "password_reset"}
    audit.record(user.site, by, now, "account", change)


def _revoke_tokens(user: User, now: datetime) -> None:
    """Revoke every token of ``user`` still in use."""
    db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def log_out(user: User) -> None:
    """End every session of ``user``, on this device and any other."""
    end_sessions(user)


def end_sessions(user: User) -> None:
    """Raise the account's session version: every session made before stops loading it."""
    db.session.execute(
        sa.update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )


def user_for_session(session_id: str) -> User | None:
    """Return the active account a session was made for, unless its sessions have ended since."""
    user_id, _colon, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()) or int(user_id) > limits.MAX_ID:
        return None
    return db.session.scalar(
        sa.select(User)
        .options(joinedload(User.site))  # every page asks for it: one statement, not two
        .where(User.id == int(user_id), User.session_version == int(version))
    )


def issue_token(user: User, label: str = "", scopes: tuple[str, ...] = ("checkin",)) -> str:
    """Create an API token for ``user`` and return its secret, which is shown only once."""
    unknown = sorted(set(scopes) - set(TOKEN_SCOPES))
    if unknown or not scopes:
        raise UnknownScope(" ".join(unknown))
    secret = secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            user_id=user.id,
            label=label,
            scopes=" ".join(sorted(set(scopes))),
            token_hash=hash_token(secret),
        )
    )
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
        raise UnknownToken(token_id)


# Built once, as the check-in statements are: this runs on every API call.
_USER_FOR_TOKEN = (
    sa.select(User, ApiToken.scopes)
    .join(ApiToken, ApiToken.user_id == User.id)
    .options(joinedload(User.site))
    .where(
        ApiToken.token_hash == sa.bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.active.is_(True),
    )
)


@dataclass(frozen=True)
class Bearer:
    """The active account a bearer token acts as, and what the token may do."""

    user: User
    scopes: frozenset[str]


# A display token shows the waiting-room board and nothing else: it never acts as its maker.
NOT_API_SCOPES = frozenset({"display"})


def bearer(secret: str) -> Bearer | None:
    """Return who a bearer token acts as and what it may do in the API.

    None for unknown or revoked tokens, and for tokens with no API scope (display tokens).
    """
    found = db.session.execute(_USER_FOR_TOKEN, {"token_hash": hash_token(secret)}).first()
    if found is None:
        return None
    scopes = frozenset(found.scopes.split()) - NOT_API_SCOPES
    return Bearer(found.User, scopes) if scopes else None
