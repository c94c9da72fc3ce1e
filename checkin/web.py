"""Helpers the blueprints share: the clock, the user's site, role guards."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import abort, current_app
from flask_login import current_user, login_required

from checkin.models import Site

LANGUAGES = ("id", "en")


def now() -> datetime:
    """Return the app's current instant; tests swap the clock through config."""
    return current_app.config["CLOCK"]()


def current_site() -> Site:
    """Return the site of the logged-in account, or answer 403 if it has none."""
    site = current_user.site
    if site is None:
        abort(403, description="This account belongs to no site.")
    return site


def roles_required(*roles: str) -> Callable:
    """Let a view run only for logged-in accounts with one of ``roles``; others get 403."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403, description="Your account may not open this page.")
            return view(*args, **kwargs)

        return guarded

    return decorate
