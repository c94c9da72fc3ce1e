"""The migrations build the schema the models describe, and init-db brings any database there."""

from __future__ import annotations

import json
from typing import Any

import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from checkin.extensions import db, migrate
from checkin.models import AuditEntry

MIGRATION_TABLE = "alembic_version"


def schema(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    """Describe every table as the database reports it, in an order-free form."""
    inspector = sa.inspect(engine)
    return {
        table: {
            "columns": [
                (column["name"], str(column["type"]), column["nullable"])
                for column in inspector.get_columns(table)
            ],
            "primary key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign keys": sorted(
                (tuple(key["constrained_columns"]), key["referred_table"])
                for key in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (index["name"], tuple(index["column_names"]), index["unique"])
                for index in inspector.get_indexes(table)
            ),
            "unique": sorted(
                tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(
                (check["name"], check["sqltext"])
                for check in inspector.get_check_constraints(table)
            ),
        }
        for table in inspector.get_table_names()
        if table != MIGRATION_TABLE
    }


def head_revision() -> str:
    """Return the newest migration's revision."""
    return ScriptDirectory.from_config(migrate.get_config()).get_current_head()


def applied_revision() -> str | None:
    """Return the revision the database says it is at."""
    with db.engine.connect() as connection:
        return connection.scalar(sa.text(f"SELECT version_num FROM {MIGRATION_TABLE}"))


def drop_everything() -> None:
    """Drop the app's tables and Alembic's record of the migrations applied."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"DROP TABLE IF EXISTS {MIGRATION_TABLE}"))


@pytest.fixture
def empty_database(app):
    """Empty the database; put the tables back afterwards as the ``app`` fixture makes them."""
    # On PostgreSQL the database outlives each test, and init-db elsewhere leaves its record.
    drop_everything()
    yield
    drop_everything()
    db.create_all()


def test_the_migrations_build_what_the_models_describe_and_undo_it(empty_database):
    flask_migrate.upgrade()
    migrated = schema(db.engine)
    assert applied_revision() == head_revision()
    flask_migrate.downgrade(revision="base")
    assert schema(db.engine) == {}
    db.create_all()
    assert migrated == schema(db.engine)


def test_init_db_creates_an_empty_database_at_the_newest_migration(empty_database, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert applied_revision() == head_revision()
    assert set(schema(db.engine)) == set(db.metadata.tables)


def test_init_db_adopts_a_database_made_before_migrations(empty_database, runner, make_site):
    db.create_all()
    site = make_site()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert applied_revision() == head_revision()
    assert db.session.get(type(site), site.id).code == site.code


def test_audit_entries_written_as_text_keep_it_through_the_upgrade(empty_database, clock):
    flask_migrate.upgrade(revision="0001")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO audit_entry (at, action, detail) VALUES (:at, 'settings', :text)"),
            {"at": clock.now, "text": "daily_quota: 60 -> 50"},
        )
    flask_migrate.upgrade()
    assert db.session.scalar(sa.select(AuditEntry.detail)) == {"text": "daily_quota: 60 -> 50"}
    db.session.rollback()
    flask_migrate.downgrade(revision="0001")
    with db.engine.connect() as connection:
        text = connection.scalar(sa.text("SELECT detail FROM audit_entry"))
    assert json.loads(text) == {"text": "daily_quota: 60 -> 50"}
