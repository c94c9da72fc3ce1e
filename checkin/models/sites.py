"""Sites and their per-day counter."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from checkin.domain import admission, limits
from checkin.extensions import db
from checkin.models.base import UTCDateTime, plausible, utcnow
from checkin.models.floor import DEFAULT_BOOTHS_PER_OFFICER, DEFAULT_WAIT_KPI_MINUTES


class Site(db.Model):
    """One office with its own door, quota and admission settings."""

    __tablename__ = "site"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    timezone: Mapped[str] = mapped_column(sa.String(40), default="Asia/Jakarta")
    daily_quota: Mapped[int] = mapped_column(default=admission.DEFAULT_DAILY_QUOTA)
    fever_cutoff_dc: Mapped[int] = mapped_column(default=admission.DEFAULT_FEVER_CUTOFF_DC)
    # The column and its check keep the word "recheck" they were made with; the code says re-test.
    retest_minutes: Mapped[int] = mapped_column(
        "recheck_minutes", default=admission.DEFAULT_RETEST_MINUTES
    )
    online_service_url: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    booths_per_officer: Mapped[int] = mapped_column(
        default=DEFAULT_BOOTHS_PER_OFFICER, server_default=str(DEFAULT_BOOTHS_PER_OFFICER)
    )
    wait_kpi_minutes: Mapped[int] = mapped_column(
        default=DEFAULT_WAIT_KPI_MINUTES, server_default=str(DEFAULT_WAIT_KPI_MINUTES)
    )
    # Whom the public booking page's notice names for questions about personal data; None:
    # the notice tells visitors to ask the office's staff.
    privacy_contact: Mapped[str | None] = mapped_column(sa.String(limits.MAX_PRIVACY_CONTACT))

    __table_args__ = (
        sa.CheckConstraint("daily_quota >= 0", name="site_quota_non_negative"),
        sa.CheckConstraint(plausible("fever_cutoff_dc"), name="site_cutoff_plausible"),
        sa.CheckConstraint(
            f"recheck_minutes BETWEEN {admission.MIN_RETEST_MINUTES}"
            f" AND {admission.MAX_RETEST_MINUTES}",
            name="site_recheck_minutes_range",
        ),
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


class DayQuota(db.Model):
    """Per site and local day: the walk-in limit, slots used, and counts of every decision.

    The limit is the office calendar's quota of the day when the row is made; on a closed day
    it is the slots taken before the day closed (none, unless a manager closed it that day).

    ``used`` is claimed with one conditional UPDATE, so the limit holds across processes and
    servers; ``issued`` is the highest queue number given and never goes back, so a voided slot
    is not reissued. ``used`` counts the admitted visitors and the slots tablets hold for offline
    use, so ``used - admitted`` slots are held by tablets and not used (yet). ``free`` counts the
    numbers tablets gave back (``free_slot``), which the next visitors admitted online take
    before any new number, so that queue numbers stay 1..limit. The other counters are a rollup
    that reports read instead of scanning visits.

    A visitor admitted to a booked place draws the day's next number from ``issued`` too, and
    nothing else here moves: they wait in the same queue as walk-ins, in the order all came, and
    their session's day row (``SessionDay.admitted``) counts them. Walk-in numbers then run past
    the limit by the booked visitors admitted before them; the walk-in counters stay exact.
    """

    __tablename__ = "day_quota"

    site_id: Mapped[int] = mapped_column(sa.ForeignKey("site.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    limit: Mapped[int] = mapped_column("quota_limit")
    used: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    checks: Mapped[int] = mapped_column(default=0)
    refused: Mapped[int] = mapped_column(default=0)
    retests: Mapped[int] = mapped_column("rechecks", default=0)  # the column's name as made
    refused_fever: Mapped[int] = mapped_column(default=0)
    refused_no_hand_sanitiser: Mapped[int] = mapped_column(default=0)
    refused_no_mask: Mapped[int] = mapped_column(default=0)
    refused_no_distancing: Mapped[int] = mapped_column(default=0)
    refused_quota_full: Mapped[int] = mapped_column(default=0)
    admitted: Mapped[int] = mapped_column(default=0)
    refused_no_offline_slot: Mapped[int] = mapped_column(default=0)
    refused_closed: Mapped[int] = mapped_column(default=0)
    # The office calendar closed the day when the row was made, or a manager closed it later.
    closed: Mapped[bool] = mapped_column(default=False)
    free: Mapped[int] = mapped_column(default=0, server_default="0")
    # Visitors a manager admitted past the full quota: counted apart, the quota's counts exact.
    overrides: Mapped[int] = mapped_column(default=0, server_default="0")

    # By attribute: a counter's column may be named otherwise (``retests`` is ``rechecks``).
    COUNTERS = (
        "used",
        "issued",
        "free",
        "admitted",
        "checks",
        "refused",
        "retests",
        *(f"refused_{reason}" for reason in admission.REASONS),
    )

    __table_args__ = (
        sa.CheckConstraint("used <= quota_limit", name="day_quota_within_limit"),
        sa.CheckConstraint("used >= 0 AND used <= issued", name="day_quota_used_counted"),
        # Every number given is used, held, voided or free: free ones are neither of the others.
        sa.CheckConstraint("free >= 0 AND used + free <= issued", name="day_quota_free_counted"),
        sa.CheckConstraint("admitted >= 0 AND admitted <= used", name="day_quota_admitted_used"),
        sa.CheckConstraint("overrides >= 0", name="day_quota_overrides"),
    )

    @property
    def held(self) -> int:
        """Return the slots tablets hold and have not used (yet)."""
        return self.used - self.admitted

    def reason_counts(self) -> dict[str, int]:
        """Return refusals counted by reason code."""
        return {reason: getattr(self, f"refused_{reason}") for reason in admission.REASONS}
