"""Fixtures: an app per database engine, a settable clock, clients and factories."""

from __future__ import annotations

import contextvars
import os
import re
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.security import generate_password_hash

from checkin import create_app
from checkin.domain import admission
from checkin.extensions import db
from checkin.models import (
    TOKEN_SCOPES,
    Booking,
    DayQuota,
    FreeSlot,
    LeasedSlot,
    Site,
    User,
    Visit,
)
from checkin.models import accounts as account_models
from checkin.services import accounts, checkins, database, pairing, sites, transaction
from checkin.services.checkins import CheckInData, CheckInResult
from checkin.services.pairing import Paired
from checkin.web.common import TABLET_COOKIE

POSTGRES_URL = os.environ.get("CHECKIN_TEST_POSTGRES_URL")
ENGINES = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]
PASSWORD = "correct horse battery"
# 10:00 in Kediri (WIB, UTC+7): office hours, well away from midnight.
DEFAULT_NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
# werkzeug's scrypt costs about 70 ms a password, to make guessing slow; most tests make an
# account and log in, so they store cheap hashes of the same kind (test_auth checks the real
# cost). Checking a hash reads its cost from the hash itself.
CHEAP_HASH = "scrypt:1024:8:1"


class Clock:
    """A clock tests can set and advance; the app reads it through config['CLOCK']."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class IsolatedClient(FlaskClient):
    """Serve each request in its own app context, as a server would, not in the test's.

    Otherwise the request shares the test's ``g`` (Flask-Login caches the user there) and its
    database session, and tests would pass that fail in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = contextvars.Context().run(super().open, *args, **kwargs)
        # End the test's own transaction and forget loaded rows, so it sees what the request
        # committed.
        db.session.rollback()
        db.session.expire_all()
        return response


# Between tests, in one round trip: DELETE of a test's few rows takes a millisecond where
# TRUNCATE, which makes new files for every table, took 80; ids start at 1 again.
EMPTY_POSTGRES_TABLES = "; ".join(
    [f"DELETE FROM {table.name}" for table in reversed(db.metadata.sorted_tables)]
    + [
        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), 1, false)"
        for table in db.metadata.sorted_tables
        if "id" in table.c
    ]
)


def create_tables(engine: sa.Engine | None = None) -> None:
    """Make the models' tables in ``engine`` (the app's by default) from a copy of their metadata.

    On PostgreSQL, create_all adds the key between visit and booking, which name each other, by
    ALTER TABLE, and marks that constraint of the metadata as never written inside CREATE TABLE;
    a later create_all on SQLite, which cannot ALTER, would then make visit without it. Each copy
    is used once, so the models' own metadata stays as declared for every engine in the process.
    """
    tables = sa.MetaData()
    for table in db.metadata.sorted_tables:
        table.to_metadata(tables)
    tables.create_all(engine or db.engine)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """Hash the tests' passwords and PINs with a cheap scrypt (see CHEAP_HASH)."""
    with pytest.MonkeyPatch.context() as patch:
        cheap = partial(generate_password_hash, method=CHEAP_HASH)
        patch.setattr(account_models, "generate_password_hash", cheap)
        yield


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a private PostgreSQL database for this test run and drop it afterwards."""
    if not POSTGRES_URL:
        pytest.skip("CHECKIN_TEST_POSTGRES_URL is not set")
    name = f"checkin_test_{os.getpid()}"
    server = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.make_url(POSTGRES_URL).set(database=name)
    yield url.render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    server.dispose()


@pytest.fixture(scope="session")
def sqlite_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return the folder of this worker's SQLite test databases, one test at a time.

    One path for every test lets one app serve them all (shared_app); the folder is emptied
    before each test, so each starts without a database or any file a test left beside it.
    """
    return tmp_path_factory.mktemp("database")


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest) -> str:
    """Return the URL of an empty database of each engine under test."""
    if request.param == "sqlite":
        folder = request.getfixturevalue("sqlite_folder")
        shutil.rmtree(folder)
        folder.mkdir()
        return f"sqlite:///{folder / 'checkin.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="session")
def sqlite_schema(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Return the bytes of a SQLite database file holding the empty tables, made once a worker.

    Writing them into a test's file costs a millisecond where create_all took about 80.
    """
    path = tmp_path_factory.mktemp("schema") / "checkin.db"
    engine = sa.create_engine(f"sqlite:///{path}")
    create_tables(engine)
    # The last connection to close writes the WAL back into the file and removes it.
    engine.dispose()
    return path.read_bytes()


@pytest.fixture
def clock() -> Clock:
    """Return the app's clock, set to a weekday morning in Kediri."""
    return Clock(DEFAULT_NOW)


@pytest.fixture
def app_config(database_url: str, clock: Clock) -> dict[str, Any]:
    """Return the test configuration; tests may change it before asking for ``app``."""
    return {
        "TESTING": True,
        "SECRET_KEY": "test",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "CLOCK": clock,
    }


@pytest.fixture(scope="session")
def shared_apps() -> list[tuple[dict[str, Any], Flask, dict[str, Any], dict[str, Any]]]:
    """Return this worker's apps so far: what each was made from, the app, and its settings and
    attributes as made."""
    return []


def shared_app(config: dict[str, Any], made: list[tuple[dict, Flask, dict, dict]]) -> Flask:
    """Return the worker's app made from ``config``, making it on first use.

    Building an app costs about 100 ms (Werkzeug compiles every URL rule), so tests with the
    same settings and the same CHECKIN_* variables share one; the clock, read at each request,
    is the test's. Each test starts with the settings and attributes the app was made with
    (a test may point its static folder elsewhere).
    """
    made_from = {key: value for key, value in config.items() if key != "CLOCK"}
    made_from |= {key: value for key, value in os.environ.items() if key.startswith("CHECKIN_")}
    for earlier, app, settings, attributes in made:
        if earlier == made_from:
            app.config.clear()
            app.config.update(settings)
            vars(app).clear()
            vars(app).update(attributes)
            break
    else:
        app = create_app(config)
        app.test_client_class = IsolatedClient
        made.append((made_from, app, dict(app.config), dict(vars(app))))
    app.config["CLOCK"] = config["CLOCK"]
    return app


@pytest.fixture
def app(
    app_config: dict[str, Any], shared_apps: list, request: pytest.FixtureRequest
) -> Iterator[Flask]:
    """Return an app with fresh tables, inside an app context."""
    app = shared_app(app_config, shared_apps)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            path = Path(db.engine.url.database)
            database.create_private(path)
            path.write_bytes(request.getfixturevalue("sqlite_schema"))
        else:
            put_back_missing_tables()
        yield app
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.exec_driver_sql(EMPTY_POSTGRES_TABLES)
        db.engine.dispose()


def put_back_missing_tables() -> None:
    """Make the tables of the worker's PostgreSQL database that are missing: all of them for its
    first test, and any that a test dropped (the next test still starts with every table).

    One query, where create_all asks about each table in turn.
    """
    present = set(
        db.session.scalars(
            sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        )
    )
    db.session.rollback()
    if not present.issuperset(db.metadata.tables):
        create_tables()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Return a CLI runner of ``app``."""
    return app.test_cli_runner()


@pytest.fixture
def make_site(app: Flask) -> Callable[..., Site]:
    """Return a factory of sites; the first is Kediri (WIB) with the default rules."""
    counter = iter(range(1, 1000))

    def make(code: str | None = None, timezone: str = "Asia/Jakarta", **settings: Any) -> Site:
        number = next(counter)
        code = code or f"S{number}"
        with transaction.owned():
            return sites.add_site(code, f"Kantor Cabang {code}", timezone, **settings)

    return make


@pytest.fixture
def site(make_site: Callable[..., Site]) -> Site:
    """Return the default site of a test."""
    return make_site("KDR", online_service_url="https://example.org/online")


@pytest.fixture
def make_user(app: Flask, site: Site, clock: Clock) -> Callable[..., User]:
    """Return a factory of accounts (password ``PASSWORD``), on ``site`` unless told."""
    counter = iter(range(1, 1000))

    def make(role: str = "door", site_: Site | None = None, username: str | None = None) -> User:
        username = username or f"{role}{next(counter)}"
        with transaction.owned():
            return accounts.add_user(
                username, role, PASSWORD, site_ or site, by=None, now=clock.now
            )

    return make


@pytest.fixture
def door_user(make_user: Callable[..., User]) -> User:
    """Return a door account of the default site."""
    return make_user("door")


@pytest.fixture
def csrf_app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    """Turn CSRF protection on, as in production."""
    app_config["WTF_CSRF_ENABLED"] = True
    return app_config


@pytest.fixture
def manager_user(make_user: Callable[..., User]) -> User:
    """Return a manager account of the default site."""
    return make_user("manager")


@pytest.fixture
def auth_headers(app: Flask) -> Callable[[User], dict[str, str]]:
    """Return a function giving bearer-token headers that act as an account, with every scope."""

    def headers(user: User, scopes: tuple[str, ...] = TOKEN_SCOPES) -> dict[str, str]:
        with transaction.owned():
            secret = accounts.issue_token(user, "test", scopes)
        return {"Authorization": f"Bearer {secret}"}

    return headers


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], None]:
    """Return a function that logs ``client`` in as an account through the login form."""

    def log_in(user: User) -> None:
        response = client.post("/login", data={"username": user.username, "password": PASSWORD})
        assert response.status_code == 302, response.text

    return log_in


@pytest.fixture
def as_admin(login, make_user):
    """Log the test client in as an administrator of the default site."""
    admin = make_user("admin")
    login(admin)
    return admin


def csrf_token_in(html: str) -> str:
    """Return the CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


PASSING = {"temperature_dc": 365, "hand_sanitiser": True, "mask": True, "distancing": True}


@pytest.fixture
def make_visit(site: Site, door_user: User, clock: Clock) -> Callable[..., CheckInResult]:
    """Return a factory that checks a visitor in through the service (passing unless told), in
    a transaction of its own."""

    def make(
        site_: Site | None = None,
        now: datetime | None = None,
        recorder: User | None = None,
        **fields: Any,
    ) -> CheckInResult:
        data = CheckInData(**(PASSING | fields))
        where, who, when = site_ or site, recorder or door_user, now or clock.now
        # As the door's entry point does (``web.common.record_check``).
        return transaction.owned_after_race(
            lambda: checkins.check_in(where, who, data, when),
            lambda lost: checkins.after_lost_race(where, who, data, when, None, lost),
        )

    return make


@pytest.fixture
def pair_tablet(site: Site, manager_user: User, clock: Clock) -> Callable[..., Paired]:
    """Return a factory of door tablets paired by a manager (of ``site`` unless told)."""
    names = iter(range(1, 1000))

    def pair(site_: Site | None = None, name: str | None = None) -> Paired:
        with transaction.owned():
            code = pairing.new_code(site_ or site, manager_user, clock.now).code
            return pairing.pair(code, name or f"Pintu {next(names)}", "192.0.2.1", clock.now)

    return pair


def on_tablet(client: FlaskClient, paired: Paired) -> FlaskClient:
    """Make ``client`` the browser of a paired tablet: it carries the tablet's credential."""
    client.set_cookie(TABLET_COOKIE, paired.credential)
    return client


def counters_of_rows(site_id: int, day: date) -> dict[str, int]:
    """Return what a day row's counters must hold, counted from the visits and leased slots."""
    visits = list(
        db.session.scalars(sa.select(Visit).where(Visit.site_id == site_id, Visit.day == day))
    )
    leased = list(
        db.session.scalars(
            sa.select(LeasedSlot).where(LeasedSlot.site_id == site_id, LeasedSlot.day == day)
        )
    )
    free = db.session.scalars(
        sa.select(FreeSlot.slot).where(FreeSlot.site_id == site_id, FreeSlot.day == day)
    ).all()
    # A visitor admitted to their booked place draws a number and moves no walk-in counter;
    # one admitted past the quota stays counted as the check it was, apart from the quota.
    booked = set(
        db.session.scalars(
            sa.select(Booking.visit_id).where(
                Booking.site_id == site_id, Booking.day == day, Booking.visit_id.is_not(None)
            )
        )
    )
    valid = [visit for visit in visits if not visit.voided and visit.id not in booked]
    admitted = sum(visit.status == "admitted" and not visit.override_reason for visit in valid)
    held = [
        slot
        for slot in leased
        if slot.used_at is None and slot.returned_at is None and slot.released_at is None
    ]
    counted = {
        "used": admitted + len(held),
        "issued": max(
            (slot for slot in [*(v.slot or 0 for v in visits), *(s.slot for s in leased), *free]),
            default=0,
        ),
        "free": len(free),
        "admitted": admitted,
        "checks": len(valid),
        "refused": sum(visit.status == "refused" for visit in valid),
        "retests": sum(visit.status == "recheck" for visit in valid),
    }
    for reason in admission.REASONS:
        counted[f"refused_{reason}"] = sum(
            reason in visit.reasons for visit in valid if visit.status == "refused"
        )
    return counted


def counters_of(row: DayQuota) -> dict[str, int]:
    """Return the counters a day row holds."""
    return {name: getattr(row, name) for name in DayQuota.COUNTERS}


PRIVATE = 0o600


def mode_of(path: Path) -> int:
    """Return the permission bits of ``path``."""
    return path.stat().st_mode & 0o777


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """Run under the umask of a usual login shell (022), which lets every user read new files."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.fixture
def chmods(monkeypatch, usual_umask) -> list[tuple]:
    """Return the list of every chmod the code makes from now on.

    A file made readable, then made private, was open to others in between.
    """
    made: list[tuple] = []
    for name in ("chmod", "fchmod"):
        real = getattr(os, name)

        def record(*args: Any, real: Callable = real, **kwargs: Any) -> Any:
            made.append(args)
            return real(*args, **kwargs)

        monkeypatch.setattr(os, name, record)
    return made
