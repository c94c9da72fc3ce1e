"""checkin: health-protocol check-in at the door with an atomic daily walk-in quota."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask, request, session
from flask_babel import get_locale
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from checkin.domain.roles import Capability
from checkin.extensions import babel, csrf, db, login_manager, migrate
from checkin.models import utcnow
from checkin.services import database
from checkin.web import common, errors
from checkin.words import labels, override_words

PACKAGE = Path(__file__).resolve().parent
# The connect argument that bounds the wait for each of PostgreSQL's answers (_connect).
ANSWER_WITHIN = "checkin_answer_within"
# The wheel carries templates/ and static/ inside the package (build_steps.py); a checkout, and
# an editable install of it, keeps them beside the package.
INSTALLED = (PACKAGE / "templates").is_dir()
ASSETS = PACKAGE if INSTALLED else PACKAGE.parent


class App(Flask):
    """Flask, logging an unexpected error without the values the request sent, with requests
    held to their size limits (``common.AppRequest``)."""

    request_class = common.AppRequest

    def log_exception(self, exc_info: Any) -> None:
        """Log the error's type, request and code lines; its message may repeat a name."""
        errors.log_failure(exc_info[1])

    def auto_find_instance_path(self) -> str:
        """Return instance/ beside the package in a checkout, else in the working folder.

        Flask keeps an installed package's instance folder inside the venv: a venv made anew for
        an upgrade would take the database with it, and the service's account cannot write in
        a venv that root owns. An installed app runs where its settings are (/srv/checkin).
        """
        if INSTALLED:
            return str(Path.cwd() / "instance")
        return super().auto_find_instance_path()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure an app: config, extensions, blueprints, error handlers, commands."""
    app = App(
        __name__,
        instance_relative_config=True,
        template_folder=str(ASSETS / "templates"),
        static_folder=str(ASSETS / "static"),
    )
    configure(app, test_config)
    trust_proxies(app)
    register_extensions(app)
    register_template_helpers(app)
    register_static_versions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_security_headers(app)
    register_commands(app)
    return app


def configure(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Load defaults, then instance/config.py, then CHECKIN_* variables, then the test config."""
    # Its files hold personal data and the secret key: the folder is its owner's only.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'checkin.db'}",
        MAX_CONTENT_LENGTH=64 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        BABEL_DEFAULT_LOCALE="id",
        BABEL_DEFAULT_TIMEZONE="Asia/Jakarta",
        BABEL_TRANSLATION_DIRECTORIES="translations",
        WTF_CSRF_TIME_LIMIT=None,
        CLOCK=utcnow,
        # How often the door page asks for the counter, so other tablets' admissions show up.
        QUOTA_POLL_SECONDS=5,
        # How many reverse proxies in front of the app set X-Forwarded-For and -Proto.
        PROXY_COUNT=0,
        # Seconds to wait for PostgreSQL (connecting, a statement, a lock) before answering 503.
        DATABASE_TIMEOUT=3,
        # Seconds a SQLite writer waits for another's commit before answering 503. Longer: SQLite's
        # busy handler is unfair, and under a full load an honest writer waits seconds (the kill -9
        # fault test got 503s at 3 s). Under gunicorn's 30 s, so no wait ends in a killed worker.
        SQLITE_BUSY_TIMEOUT=10,
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("CHECKIN")
    if test_config is not None:
        app.config.from_mapping(test_config)
    if not app.config.get("SECRET_KEY"):
        if not (app.debug or app.testing):
            raise RuntimeError(
                "SECRET_KEY is not set: put it in instance/config.py or CHECKIN_SECRET_KEY "
                "(`make run` writes one on first start)."
            )
        app.config["SECRET_KEY"] = "development only"
    app.config["SQLALCHEMY_DATABASE_URI"] = app.config["DATABASE_URL"]
    app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", engine_options(app.config))


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    """Return the engine options: no values in logs, and no endless wait on the database.

    A database that is down, hung or locked then gives a 503 in seconds, before gunicorn kills
    the worker (30 s) with a bare 500; PostgreSQL's answers even before the door tablet gives up
    (4 s) and decides offline.
    """
    url = config["DATABASE_URL"]
    sqlite = url.startswith("sqlite")
    name = "SQLITE_BUSY_TIMEOUT" if sqlite else "DATABASE_TIMEOUT"
    timeout = float(config[name])
    if timeout <= 0:
        raise RuntimeError(f"{name} must be a number of seconds above 0.")
    # Statement parameters hold names and phones: keep them out of tracebacks and logs.
    options: dict[str, Any] = {"hide_parameters": True}
    if sqlite:
        options["connect_args"] = {"timeout": timeout}
        return options
    # The server ends a statement (and so a wait for a lock) that runs longer; options already
    # in the URL are kept.
    server_options = sa.make_url(url).query.get("options") or ""
    options["connect_args"] = {
        # libpq counts whole seconds, and waits at least 2.
        "connect_timeout": max(2, math.ceil(timeout)),
        "options": f"{server_options} -c statement_timeout={round(timeout * 1000)}".strip(),
        "application_name": database.session_name(),
        # A server whose machine or network is gone: sent data unacknowledged for the timeout,
        # or an idle pooled connection unanswered by three probes a second apart, ends it.
        "tcp_user_timeout": round(timeout * 1000),
        "keepalives": 1,
        "keepalives_idle": 1,
        "keepalives_interval": 1,
        "keepalives_count": 3,
        # A server that takes a request and never answers (database.BoundedConnection): a second
        # more than the statement_timeout, so that the server's own error comes first.
        ANSWER_WITHIN: timeout + 1,
    }
    return options | {"pool_pre_ping": True, "pool_size": 5, "pool_timeout": timeout}


def trust_proxies(app: Flask) -> None:
    """Read the client's address from the proxies' headers, and only as many as configured.

    The login throttle counts attempts per client address: trusting a header nobody vouches
    for would let an attacker pick a fresh address for every guess.
    """
    count = int(app.config["PROXY_COUNT"])
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection: Any, connection_record: Any) -> None:
    """Turn on WAL, foreign keys, safe-enough syncing and zeroed deletes for SQLite connections."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Builds differ in the default; off, an anonymised name lingers in the page's free space.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


@event.listens_for(Engine, "do_connect")
def _connect(dialect: Any, connection_record: Any, cargs: list, cparams: dict) -> Any:
    """Connect to PostgreSQL with a bounded wait for each answer; create a SQLite database file
    private to its owner before SQLite opens, and so makes, it.

    A SQLite folder that is missing (an unmounted disk) is left for SQLite to report.
    """
    if ANSWER_WITHIN in cparams:
        answer_within = cparams.pop(ANSWER_WITHIN)
        connection = database.BoundedConnection.connect(*cargs, **cparams)
        connection.answer_within = answer_within
        return connection
    if dialect.name != "sqlite" or cparams.get("uri") or cargs[0] == ":memory:":
        return None
    path = Path(cargs[0])
    if path.parent.is_dir():
        database.create_private(path)
    return None


@event.listens_for(Engine, "handle_error")
def _answer_unavailable_at_once(context: Any) -> None:
    """Answer 503 when a pooled connection's server gives no answer to the check before use.

    The pool would take it for a dropped connection and connect again within the same request,
    waiting up to the connect timeout more for a server that is not answering.
    """
    if context.is_pre_ping and isinstance(context.original_exception, database.NoAnswer):
        context.is_disconnect = False


def select_locale() -> str:
    """Use the language the user picked, else Bahasa Indonesia."""
    chosen = session.get("lang") or request.args.get("lang")
    return chosen if chosen in labels.LANGUAGES else "id"


def register_extensions(app: Flask) -> None:
    """Bind the extension instances to this app."""
    db.init_app(app)
    # Batch mode: SQLite alters a table by copying it, which Alembic does only when asked.
    migrate.init_app(app, db, directory=str(database.MIGRATIONS), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)


def register_template_helpers(app: Flask) -> None:
    """Give templates the locale, the capabilities a page asks the account for, the words for
    status and reason codes, and formatters."""
    app.jinja_env.globals.update(
        Capability=Capability,
        get_locale=get_locale,
        requested_path=common.requested_path,
        decimal_mark=labels.decimal_mark,
        translated=labels.translated,
        LANGUAGES=labels.LANGUAGES,
        STATUS_LABELS=labels.STATUS_LABELS,
        REASON_LABELS=labels.REASON_LABELS,
        REASON_TEXT=labels.REASON_TEXT,
        REASON_ADVICE=labels.REASON_ADVICE,
        PURPOSE_LABELS=labels.PURPOSE_LABELS,
        PURPOSE_SHORT_LABELS=labels.PURPOSE_SHORT_LABELS,
        OVERRIDE_LABELS=override_words.REASON_LABELS,
    )
    app.jinja_env.filters.update(
        temperature=labels.format_temperature, hour_minute=labels.hour_minute
    )


def register_static_versions(app: Flask) -> None:
    """Fingerprint static URLs and let browsers keep a file for a year under its fingerprint;
    send its text compressed."""
    app.url_defaults(common.add_static_version)
    app.after_request(common.cache_fingerprinted_static)
    app.after_request(common.compress_static)


def register_blueprints(app: Flask) -> None:
    """Mount a blueprint for each audience, from the door to head office, and the API."""
    # Before any rule: a rule finds its parameters' converters as it is added.
    app.url_map.converters.update(common.URL_CONVERTERS)
    from checkin.web import (
        admin,
        api,
        auth,
        booking_page,
        display,
        door,
        floor,
        headoffice,
        health,
        tablet,
    )
    from checkin.web.manage import log, tracing

    app.register_blueprint(auth.bp)
    app.register_blueprint(tablet.bp)
    app.register_blueprint(door.bp)
    app.register_blueprint(floor.bp)
    app.register_blueprint(log.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(tracing.bp)
    app.register_blueprint(headoffice.bp)
    app.register_blueprint(display.bp)
    app.register_blueprint(booking_page.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(health.bp)


def register_error_handlers(app: Flask) -> None:
    """Answer errors as JSON under /api and as friendly pages elsewhere."""
    errors.register(app)


def register_security_headers(app: Flask) -> None:
    """Send a strict CSP and the usual hardening headers with every response."""
    from checkin.web import security

    app.after_request(security.add_headers)


def register_commands(app: Flask) -> None:
    """Add the checkin commands to the flask CLI."""
    from checkin.cli import bookings, commands

    commands.register(app)
    app.cli.add_command(bookings.bookings_cli)
