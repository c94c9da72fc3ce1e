"""The migrations build the schema the models describe, and init-db brings any database there."""

from __future__ import annotations

import shutil
from datetime import datetime
from typing import Any

import alembic.command
import flask_migrate
import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import orm
from werkzeug.security import generate_password_hash

from checkin.extensions import db, migrate
from checkin.models import AuditEntry, DayQuota, Device, Site, User, hash_token
from checkin.services import accounts, checkins, day_counter, floor, leases, tracing, transaction
from checkin.services.checkins import CheckInData
from checkin.services.database import MIGRATIONS
from tests.conftest import PASSING, PASSWORD, create_tables

MIGRATION_TABLE = "alembic_version"
OLD_DETAIL = "daily_quota: 60 -> 50"
# A migration that changes a column, copies a table, makes one and then fails.
FAILING_MIGRATION = """
import sqlalchemy as sa
from alembic import op

revision = "fails"
down_revision = "{head}"


def upgrade():
    op.add_column("site", sa.Column("region", sa.String(40)))
    with op.batch_alter_table("visit") as batch:  # SQLite copies the table to change a type
        batch.alter_column("purpose", existing_type=sa.String(20), type_=sa.String(40))
    op.create_table("leftover", sa.Column("id", sa.Integer(), primary_key=True))
    raise RuntimeError("the migration fails half-way")
"""


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


def site_as_migrated() -> Site:
    """Return the one site, reading only the columns the applied revision gave it: the model
    has the columns of every revision, which a database of an earlier one does not."""
    there = {column["name"] for column in sa.inspect(db.engine).get_columns("site")}
    # By attribute: an attribute may map a column named otherwise (retest_minutes).
    columns = [
        getattr(Site, attribute.key)
        for attribute in sa.inspect(Site).column_attrs
        if attribute.columns[0].name in there
    ]
    return db.session.scalar(sa.select(Site).options(orm.load_only(*columns)))


def drop_everything() -> None:
    """Drop the app's tables and Alembic's record of the migrations applied."""
    db.session.remove()  # a test's open read would keep PostgreSQL's DROP waiting for ever
    if db.engine.dialect.name == "postgresql":
        # Table by table, whatever the revision: drop_all would drop the key between visit and
        # booking by its name first, which a database of a revision before 0013 does not have.
        with db.engine.begin() as connection:
            for name in [MIGRATION_TABLE, *db.metadata.tables]:
                connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
        return
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
    create_tables()


def test_the_migrations_build_what_the_models_describe_and_undo_it(empty_database):
    flask_migrate.upgrade()
    migrated = schema(db.engine)
    assert applied_revision() == head_revision()
    flask_migrate.downgrade(revision="base")
    assert schema(db.engine) == {}
    create_tables()
    assert migrated == schema(db.engine)


def test_tables_made_for_postgresql_first_leave_the_sqlite_tables_whole(tmp_path):
    # As in a worker whose first test ran on PostgreSQL: create_all made visit's key to booking
    # there by ALTER TABLE.
    db.metadata.create_all(
        sa.create_mock_engine("postgresql+psycopg://", lambda *_sql, **_params: None),
        checkfirst=False,
    )
    sqlite = sa.create_engine(f"sqlite:///{tmp_path / 'after.db'}")
    create_tables(sqlite)
    keys = sa.inspect(sqlite).get_foreign_keys("visit")
    sqlite.dispose()
    assert ("booking_id", "booking") in {
        (*key["constrained_columns"], key["referred_table"]) for key in keys
    }


def test_init_db_creates_an_empty_database_at_the_newest_migration(empty_database, runner):
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert applied_revision() == head_revision()
    assert set(schema(db.engine)) == set(db.metadata.tables)


def insert_text_audit_entry(at: datetime) -> None:
    """Add an audit entry as releases before migration 0002 wrote them: an English sentence."""
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO audit_entry (at, action, detail) VALUES (:at, 'settings', :text)"),
            {"at": at, "text": OLD_DETAIL},
        )


def stored_detail() -> Any:
    """Return the one audit entry's detail as the app reads it."""
    detail = db.session.scalar(sa.select(AuditEntry.detail))
    db.session.rollback()
    return detail


def test_init_db_adopts_a_database_made_before_migrations(empty_database, runner, clock):
    flask_migrate.upgrade(revision="0001")
    with db.engine.begin() as connection:  # releases before migrations kept no record
        connection.execute(sa.text(f"DROP TABLE {MIGRATION_TABLE}"))
    insert_text_audit_entry(clock.now)
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert applied_revision() == head_revision()
    assert stored_detail() == {"text": OLD_DETAIL}


def test_init_db_leaves_the_facts_of_a_database_made_by_create_all(empty_database, runner, clock):
    create_tables()
    facts = {"account": "door", "change": "password_reset"}
    db.session.add(AuditEntry(at=clock.now, action="account", detail=facts))
    db.session.commit()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert applied_revision() == head_revision()
    assert stored_detail() == facts


def test_audit_entries_written_as_text_keep_it_down_and_up(empty_database, clock):
    flask_migrate.upgrade(revision="0001")
    insert_text_audit_entry(clock.now)
    flask_migrate.upgrade()
    assert stored_detail() == {"text": OLD_DETAIL}
    flask_migrate.downgrade(revision="0001")
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT detail FROM audit_entry")) == OLD_DETAIL


def test_a_migration_failing_half_way_leaves_the_database_as_it_was(empty_database, tmp_path):
    flask_migrate.upgrade()
    before = schema(db.engine)
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, directory)
    failing = FAILING_MIGRATION.format(head=head_revision())
    (directory / "versions" / "fails.py").write_text(failing)
    with pytest.raises(RuntimeError, match="half-way"):
        # Alembic's own command: Flask-Migrate's would turn the error into an exit.
        alembic.command.upgrade(migrate.get_config(str(directory)), "head")
    assert schema(db.engine) == before
    assert applied_revision() == head_revision()
    if db.engine.dialect.name == "sqlite":
        with db.engine.connect() as connection:  # the pooled connection the migration used
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def insert_old_site(connection: sa.Connection, at: datetime) -> None:
    """Add the site Kediri as releases 0002 to 0005 stored it, with its columns of then."""
    connection.execute(
        sa.text(
            "INSERT INTO site (code, name, timezone, daily_quota, fever_cutoff_dc,"
            " recheck_minutes, online_service_url, created_at)"
            " VALUES ('KDR', 'Kediri', 'Asia/Jakarta', 60, 373, 5, '', :at)"
        ),
        {"at": at},
    )


def test_upgrading_from_0002_keeps_accounts_and_their_tokens_working(empty_database, client, clock):
    flask_migrate.upgrade(revision="0002")
    with db.engine.begin() as connection:  # as the release before 0003 stored them
        insert_old_site(connection, clock.now)
        connection.execute(
            sa.text(
                "INSERT INTO user_account (username, password_hash, role, site_id, active,"
                " failed_logins, locked_until, created_at)"
                " VALUES ('manager', :hash, 'manager', 1, :yes, 3, :at, :at)"
            ),
            {"hash": generate_password_hash(PASSWORD), "yes": True, "at": clock.now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO api_token (user_id, label, token_hash, created_at)"
                " VALUES (1, 'old', :hash, :at)"
            ),
            {"hash": hash_token("an-old-secret"), "at": clock.now},
        )
    flask_migrate.upgrade()
    headers = {"Authorization": "Bearer an-old-secret"}
    assert client.get("/api/v1/quota/today", headers=headers).status_code == 200
    assert client.get("/api/v1/checkins", headers=headers).status_code == 200
    response = client.post("/login", data={"username": "manager", "password": PASSWORD})
    assert response.status_code == 302


def test_upgrading_from_0003_counts_the_day_s_admissions_and_goes_on_from_its_slots(
    empty_database, clock
):
    flask_migrate.upgrade(revision="0003")
    day = clock.now.date()
    with db.engine.begin() as connection:  # two admitted and one refused, before leases
        insert_old_site(connection, clock.now)
        connection.execute(
            sa.text(
                "INSERT INTO day_quota (site_id, day, quota_limit, used, issued, checks, refused,"
                " rechecks, refused_fever, refused_no_hand_sanitiser, refused_no_mask,"
                " refused_no_distancing, refused_quota_full)"
                " VALUES (1, :day, 60, 2, 2, 3, 1, 0, 0, 0, 1, 0, 0)"
            ),
            {"day": day},
        )
    flask_migrate.upgrade()
    site = db.session.scalar(sa.select(Site))
    row = db.session.get(DayQuota, (site.id, day))
    assert (row.used, row.admitted, row.refused_no_offline_slot, row.held) == (2, 2, 0, 0)
    with transaction.owned():
        result = checkins.check_in(site, None, CheckInData(**PASSING, client_ref=None), clock.now)
    assert (result.visit.slot, result.quota.used) == (3, 3)
    db.session.refresh(row)
    assert row.admitted == 3


def test_upgrading_from_0005_keeps_tablets_unpaired_and_password_login_working(
    empty_database, client, clock
):
    flask_migrate.upgrade(revision="0005")
    with db.engine.begin() as connection:  # a tablet that leased slots before pairing existed
        insert_old_site(connection, clock.now)
        connection.execute(
            sa.text(
                "INSERT INTO user_account (username, password_hash, role, site_id, active,"
                " created_at) VALUES ('door', :hash, 'door', 1, :yes, :at)"
            ),
            {"hash": generate_password_hash(PASSWORD), "yes": True, "at": clock.now},
        )
        connection.execute(
            sa.text(
                "INSERT INTO device (site_id, public_id, name, created_at, last_seen_at)"
                " VALUES (1, :id, 'Front door', :at, :at)"
            ),
            {"id": "0b8e9f0e-5d1c-4a63-9d57-1a2b3c4d5e6f", "at": clock.now},
        )
    flask_migrate.upgrade()
    device = db.session.scalar(sa.select(Device))
    user = db.session.scalar(sa.select(User))
    assert (device.paired, device.label, user.pin_hash) == (False, "Front door", None)
    db.session.rollback()
    response = client.post("/login", data={"username": "door", "password": PASSWORD})
    assert response.status_code == 302
    assert client.post("/logout").location == "/login"


def insert_old_admitted_visit(connection: sa.Connection, at: datetime, name: str) -> None:
    """Add one admitted check of Kediri with slot 1, and its day row, as 0005-0009 stored them."""
    connection.execute(
        sa.text(
            "INSERT INTO day_quota (site_id, day, quota_limit, used, issued, checks, refused,"
            " rechecks, refused_fever, refused_no_hand_sanitiser, refused_no_mask,"
            " refused_no_distancing, refused_quota_full, admitted, refused_no_offline_slot,"
            " refused_closed, closed)"
            " VALUES (1, :day, 60, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, :no)"
        ),
        {"day": at.date(), "no": False},
    )
    connection.execute(
        sa.text(
            "INSERT INTO visit (site_id, day, local_hour, checked_at, visitor_name,"
            " temperature_dc, hand_sanitiser, mask, distancing, status, reasons, slot,"
            " floor_state, calls)"
            " VALUES (1, :day, 10, :at, :name, 365, :yes, :yes, :yes, 'admitted', '', 1,"
            " 'waiting', 0)"
        ),
        {"day": at.date(), "at": at, "name": name, "yes": True},
    )


def insert_old_accounts(connection: sa.Connection, at: datetime, *roles: str) -> None:
    """Add an account of Kediri for each role, named after it, as 0005-0009 stored them."""
    for role in roles:
        connection.execute(
            sa.text(
                "INSERT INTO user_account (username, password_hash, role, site_id, active,"
                " created_at) VALUES (:role, :hash, :role, 1, :yes, :at)"
            ),
            {"role": role, "hash": generate_password_hash(PASSWORD), "yes": True, "at": at},
        )


def test_upgrading_from_0007_indexes_the_checks_for_contact_tracing(empty_database, clock):
    flask_migrate.upgrade(revision="0007")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_accounts(connection, clock.now, "manager")
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
    flask_migrate.upgrade()
    indexes = {index["name"] for index in sa.inspect(db.engine).get_indexes("visit")}
    assert "visit_site_people" in indexes
    site, manager = db.session.scalar(sa.select(Site)), db.session.scalar(sa.select(User))
    day = site.local_day(clock.now)
    found = tracing.search(site, tracing.SearchTerms(day, day, name="aminah"), manager, clock.now)
    assert [visit.visitor_name for visit in found.visits] == ["Siti Aminah"]
    db.session.rollback()
    flask_migrate.downgrade(revision="0005")
    assert "visit_site_people" not in {
        index["name"] for index in sa.inspect(db.engine).get_indexes("visit")
    }


def test_upgrading_from_0008_indexes_the_visitor_at_each_booth(empty_database, clock):
    flask_migrate.upgrade(revision="0008")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_accounts(connection, clock.now, "officer")
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
        connection.execute(
            sa.text("INSERT INTO booth (site_id, number, label, in_use) VALUES (1, 1, '', :yes)"),
            {"yes": True},
        )
    flask_migrate.upgrade()
    indexes = {index["name"] for index in sa.inspect(db.engine).get_indexes("visit")}
    assert "visit_booth_state" in indexes
    site, officer = db.session.scalar(sa.select(Site)), db.session.scalar(sa.select(User))
    with transaction.owned():
        floor.open_booth(site, officer, 1, clock.now)
        assert floor.call_next(site, officer, 1, clock.now).slot == 1
    assert [state.visit.slot for state in floor.booth_states(site) if state.visit] == [1]
    db.session.rollback()  # PostgreSQL's DROP INDEX waits for the read above to end
    flask_migrate.downgrade(revision="0008")
    assert "visit_booth_state" not in {
        index["name"] for index in sa.inspect(db.engine).get_indexes("visit")
    }


def test_upgrading_from_0009_keeps_held_slots_held_and_gives_back_what_comes_back(
    empty_database, clock
):
    flask_migrate.upgrade(revision="0009")
    with db.engine.begin() as connection:  # one admitted, and a browser holding slots 2-6
        insert_old_site(connection, clock.now)
        insert_old_admitted_visit(connection, clock.now, "Siti Aminah")
        connection.execute(
            sa.text(
                "INSERT INTO device (site_id, public_id, name, created_at, last_seen_at)"
                " VALUES (1, :id, 'Browser', :at, :at)"
            ),
            {"id": "0b8e9f0e-5d1c-4a63-9d57-1a2b3c4d5e6f", "at": clock.now},
        )
        for slot in range(2, 7):
            connection.execute(
                sa.text(
                    "INSERT INTO leased_slot (site_id, day, slot, device_id, leased_at)"
                    " VALUES (1, :day, :slot, 1, :at)"
                ),
                {"day": clock.now.date(), "slot": slot, "at": clock.now},
            )
        connection.execute(sa.text("UPDATE day_quota SET used = 6, issued = 6"))
    flask_migrate.upgrade()
    site, device = db.session.scalar(sa.select(Site)), db.session.scalar(sa.select(Device))
    assert (device.paired, day_counter.quota_today(site, clock.now).held) == (False, 5)
    with transaction.owned():
        assert leases.release(device, None, clock.now) == 5
        result = checkins.check_in(site, None, CheckInData(**PASSING), clock.now)
    assert (result.visit.slot, result.quota.used, result.quota.held) == (2, 2, 0)
    db.session.remove()
    flask_migrate.downgrade(revision="0009")
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM leased_slot")) == 0
        assert connection.scalar(sa.text("SELECT used FROM day_quota")) == 2


def test_upgrading_from_0010_gives_accounts_a_display_name_shown_as_the_username_until_set(
    empty_database, client, clock
):
    flask_migrate.upgrade(revision="0010")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
        insert_old_accounts(connection, clock.now, "door")
    flask_migrate.upgrade(revision="0011")
    assert applied_revision() == "0011"
    door = db.session.scalar(sa.select(User))
    assert (door.display_name, door.shown_name) == (None, "door")
    site = site_as_migrated()
    with transaction.owned():
        named = accounts.add_user(
            "satpam1", "door", PASSWORD, site, by=None, now=clock.now, display_name="Budi Santoso"
        )
    assert named.shown_name == "Budi Santoso"
    response = client.post("/login", data={"username": "door", "password": PASSWORD})
    assert response.status_code == 302
    client.post("/logout")
    db.session.remove()
    flask_migrate.downgrade(revision="0010")
    columns = {column["name"] for column in sa.inspect(db.engine).get_columns("user_account")}
    assert "display_name" not in columns
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM user_account")) == 2
