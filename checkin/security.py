"""HTTP hardening headers sent with every response."""

from __future__ import annotations

from flask import Response, current_app

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


def add_headers(response: Response) -> Response:
    """Forbid inline script, framing, MIME sniffing, referrer leaks and HTTPS downgrades."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    # No other site may open a window onto ours or read our answers as embedded resources.
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        # Served over HTTPS: make browsers refuse a downgraded plain-HTTP connection for a year.
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if response.mimetype == "text/html" or response.mimetype == "application/json":
        # Pages and API answers carry personal data: no shared or back-button caches.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
