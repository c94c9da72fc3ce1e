"""How a contact-tracing search or "same time" list is said in the audit log."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from checkin.models import AuditEntry, Site
from checkin.services.tracing import PERSONAL_TERMS

# words imports this module for its audit log: its names are read when a text is made.
from checkin.words import labels

# The terms of a contact-tracing search, as the audit log lists them.
SEARCH_TERMS = dict(
    zip(
        PERSONAL_TERMS,
        (_l("name %(value)s"), _l("phone %(value)s"), _l("NIK ending %(value)s")),
        strict=True,
    )
)


def tracing_text(entry: AuditEntry, site: Site) -> str:
    """Say what a contact-tracing search or "same time" list looked for and how much it found."""
    detail = entry.detail
    if entry.action == "traced":
        start, end = detail["start"], detail["end"]
        days = start if start == end else _("%(start)s to %(end)s", start=start, end=end)
        terms = [
            SEARCH_TERMS[key] % {"value": detail[key]} for key in SEARCH_TERMS if key in detail
        ]
        if detail.get("terms_removed"):
            terms.append(_("(search terms removed after the retention period)"))
        return ngettext(
            "%(days)s, %(terms)s: %(num)d check found",
            "%(days)s, %(terms)s: %(num)d checks found",
            detail["rows"],
            days=days,
            terms=", ".join(terms) or _("any visitor"),
        )
    listed = ngettext(
        "%(check)s, %(minutes)d minutes before and after: %(num)d visitor",
        "%(check)s, %(minutes)d minutes before and after: %(num)d visitors",
        detail["rows"],
        check=labels.check_of(entry.visit, site),
        minutes=detail["window"],
    )
    if "format" in detail:
        listed = f"{labels.EXPORT_FORMATS[detail['format']]}, {listed}"
    return listed
