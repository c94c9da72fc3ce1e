"""Alembic's environment: migrate the database of the Flask app that runs the command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import sqlalchemy as sa
from alembic import context
from flask import current_app

from checkin.extensions import db


@contextmanager
def sqlite_transactional_ddl(connection: sa.Connection) -> Iterator[None]:
    """Let a failed migration on SQLite roll back its DDL too, and copy tables safely."""
    # Python's sqlite3 opens a transaction only before INSERT, UPDATE or DELETE, so a CREATE
    # or ALTER would be saved at once and a migration failing half-way would stay half-done.
    # In its autocommit mode the driver leaves transactions to us: run_migrations sends BEGIN.
    # A batch migration copies a table and drops the old one, which foreign keys would refuse
    # or cascade; the pragma only works outside a transaction.
    driver = connection.connection.driver_connection
    isolation_level = driver.isolation_level
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()
    driver.isolation_level = None
    try:
        yield
    finally:
        # The connection goes back to the pool: it must come out as every other one does.
        driver.isolation_level = isolation_level
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def run_migrations() -> None:
    """Run the pending migrations on the app's engine in one transaction."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        with sqlite_transactional_ddl(connection) if sqlite else nullcontext():
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                **current_app.extensions["migrate"].configure_args,
            )
            with context.begin_transaction():
                if sqlite:
                    connection.exec_driver_sql("BEGIN")
                context.run_migrations()


run_migrations()
