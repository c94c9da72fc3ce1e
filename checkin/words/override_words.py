"""What an admission past the full quota says in the reader's language: its reasons, its
errors and its audit entry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from checkin.domain import override_rules

REASON_LABELS = {
    override_rules.URGENT_CLAIM: _l("Urgent claim"),
    override_rules.DISABILITY: _l("Disability"),
    override_rules.ELDERLY: _l("Elderly"),
    override_rules.PREGNANT: _l("Pregnant"),
    override_rules.RETURN_VISIT: _l("Return visit"),
    override_rules.OTHER: _l("Other (say why)"),
}

ERROR_TEXT: dict[str, Callable[[Any], str]] = {
    "override_reason_unknown": lambda error: _("Choose a reason from the list."),
    "override_note_missing": lambda error: _("Say why the visitor comes in past the quota."),
    "not_overridable": lambda error: _(
        "Only today's check refused because the quota was used up, not voided, can be admitted"
        " past the quota, once."
    ),
    "unknown_supervisor": lambda error: _(
        "Choose your name from the list of supervisors with a PIN."
    ),
    "not_supervisor": lambda error: _(
        "Only an account that may admit visitors past the quota has a supervisor's PIN."
    ),
}

AUDIT_LABELS = {"admitted_past_quota": _l("Admitted past the quota")}


def audit_text(check: str, detail: dict[str, Any]) -> str:
    """Say what an override's audit entry records: the check, its number and reason, and the
    tablet a supervisor's PIN admitted it on, with the door staff logged in there."""
    said = {"check": check, "slot": detail["slot"], "reason": REASON_LABELS[detail["reason"]]}
    if "device" in detail:
        return _(
            "%(check)s (No. %(slot)d, %(reason)s), with a supervisor's PIN on %(device)s,"
            " where %(staff)s was logged in",
            device=detail["device"],
            staff=detail["staff"],
            **said,
        )
    return _("%(check)s (No. %(slot)d, %(reason)s)", **said)
