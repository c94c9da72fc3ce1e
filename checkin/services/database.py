"""The database itself: create it private, bring it up to the newest schema, bound each wait."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import flask_migrate
import psycopg
import sqlalchemy as sa
from flask import Flask

from checkin.extensions import db, migrate

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Until migrations came in, init-db ran create_all, which made the first migration's schema.
SCHEMA_BEFORE_MIGRATIONS = "0001"
MIGRATION_TABLE = "alembic_version"


def upgrade() -> None:
    """Apply the migrations not applied yet; adopt a database that kept no migration record.

    Such a database was made by ``create_all``: by the first release's init-db, or by the
    current models (in development and tests), whose schema is the newest migration's.
    """
    inspector = sa.inspect(db.engine)
    if inspector.has_table("site") and not inspector.has_table(MIGRATION_TABLE):
        flask_migrate.stamp(
            revision="head" if _has_every_column(inspector) else SCHEMA_BEFORE_MIGRATIONS
        )
    flask_migrate.upgrade()


def upgrade_another(url: str) -> None:
    """Bring the database at ``url`` (a restored copy, before it goes live) to the newest schema.

    An app of its own that knows only the database: the running app's stays as it is.
    """
    scratch = Flask("checkin-upgrade")
    scratch.config["SQLALCHEMY_DATABASE_URI"] = url
    db.init_app(scratch)
    # Batch mode: SQLite alters a table by copying it, which Alembic does only when asked.
    migrate.init_app(scratch, db, directory=str(MIGRATIONS), render_as_batch=True)
    with scratch.app_context():
        upgrade()
        db.session.remove()
        db.engine.dispose()


def _has_every_column(inspector: sa.Inspector) -> bool:
    """Tell whether the database holds every table and column the models describe."""
    return all(
        inspector.has_table(table.name)
        and {column.name for column in table.columns}
        <= {column["name"] for column in inspector.get_columns(table.name)}
        for table in db.metadata.sorted_tables
    )


def session_name(pid: int | None = None) -> str:
    """Name this process's PostgreSQL sessions, so a restore can tell its own from a server's."""
    return f"checkin-{os.getpid() if pid is None else pid}"


def location() -> str:
    """Return where the database is, without its password."""
    return db.engine.url.render_as_string(hide_password=True)


def create_private(path: Path) -> None:
    """Create the empty file ``path``, readable and writable by its owner only, if it is missing.

    SQLite would create a database readable by every user (0644 under the usual umask 022), and
    gives its -wal, -shm and -journal files the database's permissions: a database file made
    here before SQLite opens it is private from the moment it exists, and so are they, with no
    chmod afterwards. An empty file is an empty SQLite database.
    """
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


class NoAnswer(psycopg.errors.ConnectionTimeout):
    """The server took a request and sent no answer in time; the connection is closed."""


class BoundedConnection(psycopg.Connection):
    """A psycopg connection that waits at most ``answer_within`` seconds for each answer.

    ``statement_timeout`` ends a statement the server runs too long, and TCP keepalives and
    ``tcp_user_timeout`` a connection to a machine that is gone; neither ends the wait for a
    server that took the request and never answers (hung, or behind a stalled proxy): its
    kernel acknowledges every packet. Without this a check-in waited for gunicorn to kill the
    worker (30 s). The connection is closed: the pool makes a new one for the next request.
    """

    answer_within: float | None = None

    def wait(self, gen: Any, *args: Any, **kwargs: Any) -> Any:
        """Consume a generator of the connection's protocol, giving up after ``answer_within``."""
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.answer_within
        try:
            return super().wait(gen, *args, **kwargs)
        # psycopg's own timeout of Connection.wait, which its docstring names.
        except psycopg.errors._WaitTimeout as error:
            self.close()
            raise NoAnswer(f"no answer from the server in {kwargs['timeout']:g} s") from error
