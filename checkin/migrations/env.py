"""Alembic's environment: migrate the database of the Flask app that runs the command."""

from __future__ import annotations

from alembic import context
from flask import current_app

from checkin.extensions import db


def run_migrations() -> None:
    """Run the pending migrations on the app's engine in one transaction."""
    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # A batch migration copies a table and drops the old one: with foreign keys on,
            # SQLite would refuse the drop or cascade it. The pragma only works outside a
            # transaction, and the pooled connection must get its checks back afterwards.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()  # end the transaction the pragma began, so Alembic runs its own
        try:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                **current_app.extensions["migrate"].configure_args,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run_migrations()
