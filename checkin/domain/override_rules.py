"""Admitting a visitor past a full walk-in quota (an override), the pure rules: the reasons a
manager may give, and which check an override may turn into an admission.

An override is counted apart from the quota: the quota's counts stay exact, and the override is
never silent (audited, and marked on the day's log).
"""

from __future__ import annotations

from checkin.domain import admission, limits

URGENT_CLAIM = "urgent_claim"
DISABILITY = "disability"
ELDERLY = "elderly"
PREGNANT = "pregnant"
RETURN_VISIT = "return_visit"
OTHER = "other"
REASONS = (URGENT_CLAIM, DISABILITY, ELDERLY, PREGNANT, RETURN_VISIT, OTHER)
# The reasons that say enough by themselves; "other" needs words.
NOTE_NEEDED = (OTHER,)
MAX_NOTE = limits.MAX_VOID_REASON


def note_missing(reason: str, note: str | None) -> bool:
    """Tell whether the reason needs words that were not given."""
    return reason in NOTE_NEEDED and not (note or "").strip()


def overridable(status: str, reasons: list[str]) -> bool:
    """Tell whether a check may be admitted past the quota: refused for the quota alone.

    A visitor refused for the health protocol stays refused whatever the quota.
    """
    return status == admission.REFUSED and reasons == [admission.QUOTA_FULL]
