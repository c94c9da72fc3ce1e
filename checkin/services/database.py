"""The database itself: create it, or bring it up to the newest schema."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import flask_migrate
import sqlalchemy as sa

from checkin.extensions import db

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
