"""The database itself: create it, or bring it up to the newest schema."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.extensions import db

# Until migrations came in, init-db ran create_all, which made the first migration's schema.
SCHEMA_BEFORE_MIGRATIONS = "0001"


def upgrade() -> None:
    """Apply the migrations not applied yet; adopt a database made before migrations existed."""
    tables = sa.inspect(db.engine).get_table_names()
    if "site" in tables and "alembic_version" not in tables:
        flask_migrate.stamp(revision=SCHEMA_BEFORE_MIGRATIONS)
    flask_migrate.upgrade()


def location() -> str:
    """Return where the database is, without its password."""
    return db.engine.url.render_as_string(hide_password=True)
