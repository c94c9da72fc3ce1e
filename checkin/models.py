"""Database models: sites, accounts, API tokens, visits and the per-site day counter."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from checkin import admission
from checkin.extensions import db

ROLES = ("door", "manager", "admin")
# What an API token may do: post checks and read the quota (door tablets, thermal scanners),
# or read the log and reports (integrations). A token never opens a page.
TOKEN_SCOPES = ("checkin", "read")


class UTCDateTime(sa.TypeDecorator):
    """Store aware UTC datetimes; SQLite hands back naive values, which are UTC by construction."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Refuse naive datetimes and convert aware ones to UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return the stored instant as an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Return the current instant as an aware UTC datetime."""
    return datetime.now(UTC)


def _plausible(column: str) -> str:
    """Return the SQL condition that a deci-Celsius column holds a plausible temperature."""
    return f"{column} BETWEEN {admission.PLAUSIBLE_MIN_DC} AND {admission.PLAUSIBLE_MAX_DC}"


class Site(db.Model):
    """One office with its own door, quota and admission settings."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Jakarta")
    daily_quota: Mapped[int] = mapped_column(default=admission.DEFAULT_DAILY_QUOTA)
    fever_cutoff_dc: Mapped[int] = mapped_column(default=admission.DEFAULT_FEVER_CUTOFF_DC)
    recheck_minutes: Mapped[int] = mapped_column(default=admission.DEFAULT_RECHECK_MINUTES)
    online_service_url: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("daily_quota >= 0", name="site_quota_non_negative"),
        sa.CheckConstraint(_plausible("fever_cutoff_dc"), name="site_cutoff_plausible"),
    )

    @property
    def zone(self) -> ZoneInfo:
        """Return the site's time zone."""
        return ZoneInfo(self.timezone)

    @property
    def policy(self) -> admission.Policy:
        """Return the admission policy configured for this site."""
        return admission.Policy(fever_cutoff_dc=self.fever_cutoff_dc)

    def local_day(self, now: datetime) -> date:
        """Return the site's calendar day at the instant ``now``."""
        return now.astimezone(self.zone).date()

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class User(UserMixin, db.Model):
    """A staff account: door staff, a manager or an administrator."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[str] = mapped_column(sa.String(10))
    site_id: Mapped[int | None] = mapped_column(sa.ForeignKey("site.id"))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's identity: raising it ends every session of the account at once.
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")

    site: Mapped[Site | None] = relationship()

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="user_role_known"),)

    def set_password(self, password: str) -> None:
        """Store a salted hash of ``password``, never the password itself."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Tell whether ``password`` matches the stored hash."""
        return check_password_hash(self.password_hash, password)

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
    """Login attempts taken from one key in its current window (see ``checkin.throttle``).

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


class DayQuota(db.Model):
    """Per site and local day: the walk-in limit, slots used, and counts of every decision.

    ``used`` is claimed with one conditional UPDATE, so the limit holds across processes and
    servers; ``issued`` numbers queue slots and never goes back, so a voided slot is not reissued.
    ``used`` counts the admitted visitors and the slots tablets hold for offline use, so
    ``used - admitted`` slots are held by tablets and not used (yet). The other counters are a
    rollup that reports read instead of scanning visits.
    """

    __tablename__ = "day_quota"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    limit: Mapped[int] = mapped_column("quota_limit")
    used: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    checks: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    rechecks: Mapped[int] = mapped_column(default=0)
    refused_fever: Mapped[int] = mapped_column(default=0)
    refused_no_hand_sanitiser: Mapped[int] = mapped_column(default=0)
    refused_no_mask: Mapped[int] = mapped_column(default=0)
    refused_no_distancing: Mapped[int] = mapped_column(default=0)
    refused_quota_full: Mapped[int] = mapped_column(default=0)
    admitted: Mapped[int] = mapped_column(default=0)
    refused_no_offline_slot: Mapped[int] = mapped_column(default=0)

    COUNTERS = (
        "used",
        "issued",
        "admitted",
        "checks",
        "refused",
        "rechecks",
        *(f"refused_{reason}" for reason in admission.REASONS),
    )

    __table_args__ = (
        sa.CheckConstraint("used <= quota_limit", name="day_quota_within_limit"),
        sa.CheckConstraint("used >= 0 AND used <= issued", name="day_quota_used_counted"),
        sa.CheckConstraint("admitted >= 0 AND admitted <= used", name="day_quota_admitted_used"),
    )

    @property
    def held(self) -> int:
        """Return the slots tablets hold and have not used (yet)."""
        return self.used - self.admitted

    def reason_counts(self) -> dict[str, int]:
        """Return refusals counted by reason code."""
        return {reason: getattr(self, f"refused_{reason}") for reason in admission.REASONS}


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
    recheck_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), unique=True)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    void_reason: Mapped[str | None] = mapped_column(sa.String(200))
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The id the form or tablet made for this check: the same check sent twice is stored once.
    client_ref: Mapped[str | None] = mapped_column(sa.String(36))
    device_id: Mapped[int | None] = mapped_column(sa.ForeignKey("device.id"))

    site: Mapped[Site] = relationship()
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])
    voided_by: Mapped[User | None] = relationship(foreign_keys=[voided_by_id])
    recheck_of: Mapped[Visit | None] = relationship(remote_side=[id])

    __table_args__ = (
        sa.UniqueConstraint("site_id", "day", "slot", name="visit_slot_once"),
        sa.UniqueConstraint("site_id", "client_ref", name="visit_client_ref_once"),
        sa.Index("visit_site_day_time", "site_id", "day", "checked_at"),
        sa.CheckConstraint(f"status IN {admission.STATUSES!r}", name="visit_status_known"),
        sa.CheckConstraint(
            "(status = 'admitted') = (slot IS NOT NULL)", name="visit_slot_iff_admitted"
        ),
        sa.CheckConstraint(_plausible("temperature_dc"), name="visit_temperature_plausible"),
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


class Device(db.Model):
    """A door tablet of a site, known by the id it made for itself; it may hold leased slots."""

    __tablename__ = "device"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    public_id: Mapped[str] = mapped_column(sa.String(36), unique=True)
    name: Mapped[str] = mapped_column(sa.String(80), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    site: Mapped[Site] = relationship()

    @property
    def label(self) -> str:
        """Return the tablet's name, or the start of its id when staff gave it none."""
        return self.name or self.public_id[:8]


class LeasedSlot(db.Model):
    """A slot number of a day, taken from the counter for a tablet to give out offline.

    A slot is leased once (the primary key), used once (``used_at``, by the visit that holds
    it), and never reissued: not when revoked, not when the day ends unused.
    """

    __tablename__ = "leased_slot"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    slot: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("device.id"))
    leased_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("leased_slot_device_day", "device_id", "day"),)


class UploadConflict(db.Model):
    """A check recorded offline that could not be stored as the tablet decided it.

    Kept for the manager to see, never dropped; without the visitor's name, phone or NIK.
    """

    __tablename__ = "upload_conflict"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"))
    device_id: Mapped[int] = mapped_column(sa.ForeignKey("device.id"))
    client_ref: Mapped[str] = mapped_column(sa.String(36))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cause: Mapped[str] = mapped_column(sa.String(30))
    # What the tablet decided and measured: status, slot, temperature and the three ticks.
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    device: Mapped[Device] = relationship()

    __table_args__ = (sa.UniqueConstraint("site_id", "client_ref", name="upload_conflict_once"),)


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
