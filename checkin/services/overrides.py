"""Admitting a visitor past a full walk-in quota: a manager turns today's check refused for the
quota alone into an admission, with a reason from a fixed list.

It is counted apart on the day row (``overrides``), so the quota's counts stay exact: no slot is
used and ``admitted`` does not move. The visitor draws the day's next queue number, as a booked
visitor does, and waits in the floor's one queue. The override is audited and marked on the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from checkin.domain import admission, override_rules
from checkin.domain.calling import WAITING
from checkin.domain.errors import NotOverridable, OverrideNoteMissing, OverrideReasonUnknown
from checkin.extensions import db
from checkin.models import DayQuota, Device, User, Visit
from checkin.services import audit

ADMITTED_PAST_QUOTA = "admitted_past_quota"
_NO_SYNC = {"synchronize_session": False}


def overridable(visit: Visit, now: datetime) -> bool:
    """Tell whether the check may be admitted past the quota now: today's, not voided, refused
    for the quota alone, not admitted past it yet."""
    return (
        visit.day == visit.site.local_day(now)
        and not visit.voided
        and override_rules.overridable(visit.status, visit.reasons)
    )


@dataclass(frozen=True)
class OnTablet:
    """Where a supervisor's PIN admitted a visitor: the paired tablet, and the door staff
    logged in on it, who typed the request (named in the audit, should a PIN leak)."""

    tablet: Device
    staff: User


def admit_past_quota(
    visit: Visit,
    by: User | None,
    reason: str,
    note: str | None,
    now: datetime,
    on_tablet: OnTablet | None = None,
) -> None:
    """Admit the visitor of a check refused for the quota alone today; ``on_tablet`` says
    where a supervisor's PIN admitted it, for the audit.

    The check is claimed first with one conditional UPDATE (refused for the quota, not voided,
    no override yet), so two managers pressing at once admit the visitor once; then the day row
    gives the next number and counts the override in one statement. On a refusal nothing is
    stored.
    """
    if reason not in override_rules.REASONS:
        raise OverrideReasonUnknown()
    if override_rules.note_missing(reason, note):
        raise OverrideNoteMissing()
    if not overridable(visit, now):
        raise NotOverridable()
    words = (note or "").strip()[: override_rules.MAX_NOTE] or None
    claimed = db.session.execute(
        sa.update(Visit)
        .where(
            Visit.id == visit.id,
            Visit.status == admission.REFUSED,
            Visit.reason_codes == admission.QUOTA_FULL,
            Visit.voided_at.is_(None),
            Visit.override_reason.is_(None),
        )
        .values(override_reason=reason, override_note=words),
        execution_options=_NO_SYNC,
    )
    if claimed.rowcount != 1:
        raise NotOverridable()
    number = db.session.execute(
        sa.update(DayQuota)
        .where(DayQuota.site_id == visit.site_id, DayQuota.day == visit.day)
        .values(
            issued=DayQuota.issued + 1,
            overrides=DayQuota.overrides + 1,
            refused=DayQuota.refused - 1,
            refused_quota_full=DayQuota.refused_quota_full - 1,
        )
        .returning(DayQuota.issued),
        execution_options=_NO_SYNC,
    ).scalar_one()
    db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id)
        .values(status=admission.ADMITTED, reason_codes="", slot=number, floor_state=WAITING),
        execution_options=_NO_SYNC,
    )
    detail = {"reason": reason, "slot": number}
    if on_tablet is not None:
        detail |= {"device": on_tablet.tablet.label, "staff": on_tablet.staff.username}
    audit.record(visit.site, by, now, ADMITTED_PAST_QUOTA, detail, visit)
    db.session.refresh(visit)


def uncount(visit: Visit) -> None:
    """Take a voided override off its day row, in the caller's transaction; its number stays
    given, as every voided number does."""
    db.session.execute(
        sa.update(DayQuota)
        .where(DayQuota.site_id == visit.site_id, DayQuota.day == visit.day)
        .values(overrides=DayQuota.overrides - 1, checks=DayQuota.checks - 1),
        execution_options=_NO_SYNC,
    )
