"""Manager pages: entry logs, reports, exports and site settings."""

from __future__ import annotations

from flask import Blueprint, render_template

from checkin import services
from checkin.web import current_site, now, roles_required

bp = Blueprint("manage", __name__, url_prefix="/manage")


@bp.get("/log")
@roles_required("manager", "admin")
def log():
    """Show a day's entry log."""
    site = current_site()
    day = site.local_day(now())
    return render_template(
        "manage/log.html", site=site, day=day, page=services.entry_log(site, day)
    )
