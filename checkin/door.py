"""Door tablet pages: the check-in screen staff use all day."""

from __future__ import annotations

from flask import Blueprint, render_template

from checkin import services
from checkin.web import current_site, now, roles_required

bp = Blueprint("door", __name__)


@bp.get("/")
@roles_required("door", "manager", "admin")
def index():
    """Show the check-in form, today's counter and the latest checks."""
    site = current_site()
    return render_template(
        "door/index.html",
        site=site,
        quota=services.quota_today(site, now()),
        recent=services.recent_checks(site, now()),
    )
