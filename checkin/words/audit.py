"""How the app says what an audit entry records, in the reader's language."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from checkin.models import AuditEntry, Site
from checkin.words import booking_words, calendar, override_words, tracing
from checkin.words.labels import (
    EXPORT_FORMATS,
    ROLE_LABELS,
    STATUS_LABELS,
    check_of,
    format_temperature,
)

ACTION_LABELS = {
    "void": _l("Check voided"),
    "settings": _l("Settings changed"),
    "account": _l("Account changed"),
    "viewed": _l("Check viewed"),
    "exported": _l("Checks exported"),
    "lease_revoked": _l("Tablet stopped for today"),
    "lease_released": _l("Lost tablet's slots released"),
    "tablet_paired": _l("Tablet paired"),
    "tablet_unpaired": _l("Tablet unpaired"),
    "closed_days": _l("Closed days changed"),
    "traced": _l("Checks searched (contact tracing)"),
    "contacts": _l("Visitors at the same time listed"),
    "contacts_exported": _l("Visitors at the same time exported"),
    "display_token": _l("Display link changed"),
    **booking_words.AUDIT_LABELS,
    **override_words.AUDIT_LABELS,
}
DISPLAY_TOKEN_CHANGES = {
    "created": _l("%(label)s: display link made"),
    "revoked": _l("%(label)s: display switched off"),
}
SETTING_LABELS = {
    "name": _l("Name"),
    "timezone": _l("Time zone"),
    "daily_quota": _l("Walk-in quota per day"),
    "fever_cutoff_dc": _l("Fever cut-off"),
    "recheck_minutes": _l("Re-test wait (minutes)"),  # the key audit rows store (AUDIT_KEYS)
    "weekday_quotas": _l("Quota by weekday"),
    "online_service_url": _l("Online service address"),
    "booths": _l("Booths"),
    "labels": _l("Booth labels"),
    "booths_per_officer": _l("Booths per officer"),
    "wait_kpi_minutes": _l("Waiting time target (minutes)"),
    "public_page": _l("Public booking page"),
    "privacy_contact": _l("Contact for questions about personal data"),
}
SWITCHED = {True: _l("on"), False: _l("off")}
ACCOUNT_CHANGES = {
    "created": _l("%(account)s: created as %(role)s"),
    "deactivated": _l("%(account)s: deactivated"),
    "reactivated": _l("%(account)s: reactivated"),
    "password_reset": _l("%(account)s: password reset"),
    "pin_set": _l("%(account)s: door PIN set"),
    "supervisor_pin_set": _l("%(account)s: supervisor's PIN set"),
    "pin_dropped": _l("%(account)s: PIN taken away with the old role or site"),
    "renamed": _l("%(account)s: name staff see changed"),
}


def describe_audit(entry: AuditEntry, site: Site) -> str:
    """Say in the reader's language what an audit entry records."""
    detail = entry.detail
    if "text" in detail:  # written before details were kept as facts: English, as it was
        return detail["text"]
    if entry.action == "settings":
        return "; ".join(
            f"{SETTING_LABELS[name]}: {setting_text(name, before)} → {setting_text(name, after)}"
            for name, (before, after) in detail.items()
        )
    if entry.action == "account" and detail["change"] == "moved":
        return account_move_text(detail)
    if entry.action == "account":
        role = ROLE_LABELS[detail["role"]] if "role" in detail else ""
        return ACCOUNT_CHANGES[detail["change"]] % {"account": detail["account"], "role": role}
    if entry.action == "viewed":
        return check_of(entry.visit, site)
    if entry.action == "exported":
        return export_text(detail)
    if entry.action == "closed_days":
        return calendar.closed_days_text(detail)
    if entry.action in ("traced", "contacts", "contacts_exported"):
        return tracing.tracing_text(entry, site)
    if entry.action == "lease_revoked":
        return ngettext(
            "%(device)s: takes no more slots today; it held %(num)d unused",
            "%(device)s: takes no more slots today; it held %(num)d unused",
            detail["slots"],
            device=detail["device"],
        )
    if entry.action == "lease_released":
        return ngettext(
            "%(device)s: %(num)d slot given out again",
            "%(device)s: %(num)d slots given out again",
            detail["slots"],
            device=detail["device"],
        )
    if entry.action in ("tablet_paired", "tablet_unpaired"):
        return detail["device"]
    if entry.action == "display_token":
        return DISPLAY_TOKEN_CHANGES[detail["change"]] % {"label": detail["label"]}
    if entry.action in booking_words.AUDIT_LABELS:
        return booking_words.audit_text(entry.action, detail)
    if entry.action in override_words.AUDIT_LABELS:
        return override_words.audit_text(check_of(entry.visit, site), detail)
    if entry.action != "void":  # an action newer than this code: its facts as they are
        return json.dumps(detail, ensure_ascii=False)
    decision = str(STATUS_LABELS[detail["status"]])
    if detail["slot"] is not None:
        decision += ", " + _("No. %(slot)d", slot=detail["slot"])
    return f"{check_of(entry.visit, site)} ({decision})"


def export_text(detail: dict[str, Any]) -> str:
    """Say which days an export held, in which format, and how many checks."""
    start, end = detail["start"], detail["end"]
    days = start if start == end else _("%(start)s to %(end)s", start=start, end=end)
    return ngettext(
        "%(format)s, %(days)s: %(num)d row",
        "%(format)s, %(days)s: %(num)d rows",
        detail["rows"],
        format=EXPORT_FORMATS[detail["format"]],
        days=days,
    )


def setting_text(name: str, value: Any) -> str:
    """Show one site setting's value as the settings page does."""
    if name == "fever_cutoff_dc":
        return format_temperature(value)
    if name == "weekday_quotas":
        return calendar.weekday_quotas_text(value)
    if isinstance(value, bool):
        return str(SWITCHED[value])
    return "–" if value in ("", None) else str(value)


def account_move_text(detail: dict[str, Any]) -> str:
    """Say how an account's role or site changed, e.g. "door1: Door staff → Manager, KDR → MLG"."""
    (old_role, new_role), (old_site, new_site) = detail["roles"], detail["sites"]
    moves = []
    if old_role != new_role:
        moves.append(f"{ROLE_LABELS[old_role]} → {ROLE_LABELS[new_role]}")
    if old_site != new_site:
        moves.append(f"{old_site or '–'} → {new_site or '–'}")
    return _("%(account)s: %(moves)s", account=detail["account"], moves=", ".join(moves))
