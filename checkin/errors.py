"""Error answers: JSON with a fixed shape under /api, a friendly page everywhere else."""

from __future__ import annotations

import traceback
from http import HTTPStatus

from flask import Flask, Response, current_app, jsonify, render_template, request
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from werkzeug.exceptions import HTTPException, InternalServerError

from checkin.extensions import db


def wants_json() -> bool:
    """Tell whether the request is for the JSON API."""
    return request.path.startswith("/api/")


def error_body(code: int, message: str, errors: dict | None = None) -> dict:
    """Return the documented JSON error document."""
    return {
        "code": code,
        "status": HTTPStatus(code).phrase,
        "message": message,
        "errors": errors or {},
    }


def json_error(code: int, message: str, errors: dict | None = None) -> Response:
    """Return a JSON error response with the documented shape."""
    response = jsonify(error_body(code, message, errors))
    response.status_code = code
    return response


def handle_http_error(error: HTTPException) -> Response | tuple[str, int]:
    """Render an HTTP error for the API or for a person."""
    code = error.code or 500
    if wants_json():
        response = json_error(code, error.description or "", getattr(error, "errors", None))
        if code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response
    return render_template("errors/error.html", error=error, code=code), code


def handle_internal_error(error: InternalServerError) -> Response | tuple[str, int]:
    """Hide the details of an unexpected failure; the traceback goes to the server log."""
    if wants_json():
        return json_error(500, "Something went wrong on the server; nothing was stored.")
    return render_template("errors/error.html", error=error, code=500), 500


def handle_database_error(error: SQLAlchemyError) -> Response | tuple[str, int]:
    """Log a database failure without its values, which hold names and phones, and answer 500.

    The default log line would print the statement's parameters and the driver's message,
    whose DETAIL can repeat the whole failing row.
    """
    db.session.rollback()
    driver_error = error.orig if isinstance(error, DBAPIError) else error
    current_app.logger.error(
        "Database error %s (SQLSTATE %s) on %s %s; values withheld. Traceback:\n%s",
        type(driver_error).__name__,
        getattr(driver_error, "sqlstate", None) or "-",
        request.method,
        request.path,
        "".join(traceback.format_tb(error.__traceback__)),
    )
    return handle_internal_error(InternalServerError(original_exception=error))


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(SQLAlchemyError, handle_database_error)
