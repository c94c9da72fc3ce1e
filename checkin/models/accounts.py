"""Staff accounts, API tokens and the login throttle's windows."""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from checkin.domain.roles import CAPABILITIES, Capability, Role
from checkin.extensions import db
from checkin.models.base import UTCDateTime, utcnow
from checkin.models.sites import Site

# The role values the accounts table accepts (domain/roles.py says what each may do).
ROLES = tuple(role.value for role in Role)
# What an API token may do: post checks and read the quota (door tablets, thermal scanners),
# read the log and reports (integrations), make, list and cancel bookings (a booking system),
# or show the waiting-room display (numbers and booths only). A token never opens a staff page.
TOKEN_SCOPES = ("checkin", "read", "bookings", "display")


class User(UserMixin, db.Model):
    """A staff account: door staff, a manager or an administrator."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(12))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's identity: raising it ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    # Door staff log in on a paired tablet with a 4-6 digit PIN, hashed like a password.
    pin_hash: Mapped[str | None] = mapped_column(sa.String(256))
    # What staff see, "Budi Santoso" rather than "satpam1"; accounts made before have none.
    display_name: Mapped[str | None] = mapped_column(sa.String(60))

    site: Mapped[Site | None] = relationship()

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="user_role_known"),)

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``, never the password itself."""
        self.password_hash = generate_password_hash(password)

    def set_pin(self, pin: str) -> None:
        """Store a salted hash of a door PIN, never the PIN itself."""
        self.pin_hash = generate_password_hash(pin)

    def check_pin(self, pin: str) -> bool:
        """Tell whether ``pin`` matches the stored hash; never for an account without a PIN."""
        return self.pin_hash is not None and check_password_hash(self.pin_hash, pin)

    def check_password(self, password: str) -> bool:
        """Tell whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def may(self, capability: Capability) -> bool:
        """Tell whether this account's role may do ``capability``."""
        # The stored string is the table's key: Role is a StrEnum, hashed as its value.
        return capability in CAPABILITIES[self.role]

    @property
    def shown_name(self) -> str:
        """Return the name staff see: the display name, or the username when it has none."""
        return self.display_name or self.username

    @property
    def is_active(self) -> bool:
        """Let Flask-Login refuse disabled accounts."""
        return self.active

    def get_id(self) -> str:
        """Return what a session stores: the account and its session version."""
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


def hash_token(secret: str) -> str:
    """Return the SHA-256 digest under which an API token is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiToken(db.Model):
    """A bearer token that acts as one user; only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"))
    label: Mapped[str] = mapped_column(sa.String(80), default="")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Space-separated TOKEN_SCOPES. Tokens made before scopes existed keep what they could do.
    scopes: Mapped[str] = mapped_column(sa.String(40), server_default="checkin read")

    user: Mapped[User] = relationship()


class LoginWindow(db.Model):
    """Login attempts taken from one key in its current window (see ``checkin.domain.throttle``).

    A key is an account name as typed from a client address, or an address alone (empty
    ``username_digest``); both are stored as keyed digests, never as typed.
    """

    __tablename__ = "login_window"

    username_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    address_digest: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    full_windows: Mapped[int] = mapped_column(default=0)
    # Raised by every change, so that a change made on a stale read is refused.
    version: Mapped[int] = mapped_column(default=0)
