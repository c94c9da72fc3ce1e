"""Error answers: JSON with a fixed shape under /api, a friendly page everywhere else."""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError


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


def register(app: Flask) -> None:
    """Install the error handlers on ``app``."""
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_internal_error)
