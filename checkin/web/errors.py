"""Error answers: JSON with a fixed shape under /api, a friendly page everywhere else.

Error pages never touch the database, which may be what failed. Error logs say what failed and
where, never the values sent: names, phones and void reasons stay out of them.
"""

from __future__ import annotations

import traceback
from http import HTTPStatus

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from checkin.extensions import db

# The database cannot answer now (down, hung past the timeout, locked, out of connections):
# a 503, for the client to try again, rather than a 500.
UNAVAILABLE = (OperationalError, PoolTimeoutError)
NOTHING_STORED = "Something went wrong on the server; nothing was stored."
DATABASE_UNAVAILABLE = (
    "The server cannot reach its database; nothing was stored. Try again shortly."
)


def wants_json() -> bool:
    """Tell whether the request is for the JSON API."""
    return request.path.startswith("/api/")


# The machine codes of HTTP errors a view or Werkzeug raises; one with an ``api_code`` of its
# own (a schema's refusal: "validation") says so itself.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "validation",
    429: "too_many_requests",
    500: "server_error",
    503: "unavailable",
}
# The code of the 409 that stored an offline check as a conflict for the manager, not as the
# tablet decided; any other error stored nothing.
KEPT = "kept_for_manager"


def http_code(status: int) -> str:
    """Return the machine code of an HTTP error without one of its own."""
    return HTTP_CODES.get(status) or HTTPStatus(status).name.lower()


def error_body(
    status: int,
    message: str,
    errors: dict | None = None,
    code: str | None = None,
    facts: dict | None = None,
) -> dict:
    """Return the documented JSON error document: ``code`` a string, ``status`` the HTTP one."""
    return {
        "code": code or http_code(status),
        "status": status,
        "message": message,
        "errors": errors or {},
        "facts": facts or {},
    }


def json_error(
    status: int,
    message: str,
    errors: dict | None = None,
    code: str | None = None,
    facts: dict | None = None,
) -> Response:
    """Return a JSON error response with the documented shape."""
    response = jsonify(error_body(status, message, errors, code, facts))
    response.status_code = status
    return response


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    """Render an HTTP error for the API or for a person."""
    code = error.code or 500
    if wants_json():
        response = json_error(
            code,
            error.description or "",
            getattr(error, "errors", None),
            getattr(error, "api_code", None),
        )
        if code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response
    return error_page("errors/error.html", error=error, code=code), code


def handle_internal_error(error: InternalServerError) -> Response | tuple[str, int]:
    """Hide the details of an unexpected failure; the traceback goes to the server log."""
    if wants_json():
        return json_error(500, NOTHING_STORED)
    return error_page("errors/error.html", error=error, code=500), 500


def handle_database_error(error: SQLAlchemyError) -> Response | tuple[str, int]:
    """Log a database failure without its values and answer 503 if the database cannot answer.

    Anything else the database refused is a 500: the request itself went wrong.
    """
    db.session.rollback()
    log_failure(error)
    if not isinstance(error, UNAVAILABLE):
        return handle_internal_error(InternalServerError(original_exception=error))
    if wants_json():
        return json_error(503, DATABASE_UNAVAILABLE)
    return error_page("errors/unavailable.html"), 503


def error_page(template: str, **context: object) -> str:
    """Render an error page without the context processors, and so without the database.

    Flask-Login's processor puts ``current_user`` in every page by loading the account from
    the database: when that is what failed, the error page would fail too (a bare 500).
    The error templates use only the environment's globals (request, session, url_for, _).
    """
    return current_app.jinja_env.get_template(template).render(context)


def log_failure(error: BaseException) -> None:
    """Log what failed, on which request and through which code, but not the error's message.

    Messages repeat values: a driver's DETAIL the failing row, openpyxl the text it could not
    write, SQLAlchemy the statement. Types, SQLSTATE and the code's lines are enough to find the
    cause; the default log line would print them all.
    """
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    if isinstance(error, SQLAlchemyError):
        what = "Database error {} (SQLSTATE {})".format(
            type(driver_error).__name__, getattr(driver_error, "sqlstate", None) or "-"
        )
    else:
        what = f"Unexpected {type(error).__name__}"
    current_app.logger.error(
        "%s on %s %s; values withheld. Traceback:\n%s",
        what,
        request.method,
        request.path,
        traceback_without_values(error),
    )


def traceback_without_values(error: BaseException) -> str:
    """Return the frames of ``error`` and of the errors that led to it, without any message."""
    parts = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{kind.__module__}.{kind.__qualname__}\n{frames}")
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    return "which came from\n".join(parts)


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(SQLAlchemyError, handle_database_error)
