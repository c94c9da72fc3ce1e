"""HTTP hardening headers sent with every response."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, make_response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


# Sent unless the view set its own (the chart SVGs send a stricter CSP).
HARDENING_HEADERS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    # The door reads a booked visitor's QR code with the tablet's camera: this site only.
    ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
    # No other site may open a window onto ours or read our answers as embedded resources.
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
# Served over HTTPS: make browsers refuse a downgraded plain-HTTP connection for a year.
HTTPS_ONLY = ("Strict-Transport-Security", "max-age=31536000")
# Pages and API answers carry personal data: no shared or back-button caches.
NO_STORE = ("Cache-Control", "no-store")
# A page with no personal data may stay in this browser (never a shared cache), asked for again
# before each use; unlike no-store, the back/forward cache then keeps it (README: "Caching").
REVALIDATE = "private, no-cache"


def add_headers(response: Response) -> Response:
    """Forbid inline script, framing, MIME sniffing, referrer leaks and HTTPS downgrades."""
    wanted = list(HARDENING_HEADERS)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        wanted.append(HTTPS_ONLY)
    if response.mimetype in ("text/html", "application/json"):
        wanted.append(NO_STORE)
    # One pass over the headers: setdefault per header would scan them every time.
    present = {name.lower() for name, _value in response.headers}
    response.headers.extend(
        [(name, value) for name, value in wanted if name.lower() not in present]
    )
    return response


def without_personal_data(view: Callable[..., Any]) -> Callable[..., Response]:
    """Mark a view whose page shows no visitor's data: cached by the browser, revalidated."""

    @wraps(view)
    def keepable(*args: Any, **kwargs: Any) -> Response:
        response = make_response(view(*args, **kwargs))
        response.headers["Cache-Control"] = REVALIDATE
        return response

    return keepable
