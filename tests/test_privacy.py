"""Privacy: the NIK is never stored whole, old personal data is anonymised, logs hold none."""

from __future__ import annotations

import http.cookiejar
import json
import logging
import re
import sqlite3
import time
import urllib.parse
import urllib.request
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import AuditEntry, Booking, DayQuota, SessionDay, Visit, utcnow
from checkin.services import accounts, bookings, checkins, display, privacy, transaction
from checkin.services.bookings import BookingData
from tests.conftest import PASSWORD, csrf_token_in
from tests.serving import PROJECT_ROOT, gunicorn

PERSONAL = {
    "visitor_name": "Siti Rahasia",
    "phone": "081299887766",
    "id_number": "3506123456789012",
}
BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
SECRETS = (PERSONAL["visitor_name"], PERSONAL["phone"], PERSONAL["id_number"])


def database_text() -> str:
    """Return every row of every table as one string."""
    return repr([db.session.execute(sa.select(table)).all() for table in db.metadata.sorted_tables])


def test_nik_is_stored_only_as_its_last_four_digits(client, auth_headers, door_user):
    response = client.post(
        "/api/v1/checkins", json=BODY | PERSONAL, headers=auth_headers(door_user)
    )
    assert response.status_code == 201
    assert response.json["id_number"] == "************9012"
    assert "3506123456789012" not in database_text() + response.text
    assert db.session.scalar(sa.select(Visit.nik_last4)) == "9012"


def visit_with_personal_data(make_visit, now):
    """Check in a visitor with name, phone and NIK at ``now``; return the visit's id."""
    return make_visit(
        now=now, visitor_name="Budi", phone="08123456789", nik_last4="4321", purpose="enquiry"
    ).visit.id


@pytest.mark.parametrize(
    ("age", "anonymised"),
    [
        (timedelta(days=31), True),
        (timedelta(days=30, seconds=1), True),
        (timedelta(days=30), False),
        (timedelta(days=29, hours=23), False),
        (timedelta(0), False),
    ],
)
def test_purge_anonymises_only_checks_older_than_the_retention(
    runner, make_visit, clock, age, anonymised
):
    visit_id = visit_with_personal_data(make_visit, clock.now - age)
    result = runner.invoke(args=["purge-personal", "--older-than", "30"])
    assert result.exit_code == 0, result.output
    assert f"Anonymised {int(anonymised)} checks" in result.output
    visit = db.session.get(Visit, visit_id)
    personal = (visit.visitor_name, visit.phone, visit.nik_last4)
    assert personal == ((None, None, None) if anonymised else ("Budi", "08123456789", "4321"))
    assert (visit.anonymised_at is not None) == anonymised


def decisions() -> list[tuple]:
    """Return what statistics need from every check and every day row."""
    visits = db.session.execute(
        sa.select(
            Visit.id,
            Visit.day,
            Visit.local_hour,
            Visit.status,
            Visit.reason_codes,
            Visit.slot,
            Visit.temperature_dc,
            Visit.purpose,
            Visit.recorded_by_id,
        ).order_by(Visit.id)
    ).all()
    days = db.session.execute(sa.select(DayQuota.__table__).order_by(DayQuota.day)).all()
    return visits + days


def test_purge_keeps_counts_and_decisions_and_is_safe_to_rerun(runner, make_visit, clock, app):
    for days_ago in (90, 45, 31, 10, 0):
        now = clock.now - timedelta(days=days_ago)
        visit_with_personal_data(make_visit, now)
        make_visit(now=now, mask=False, visitor_name="Ani")
    before = decisions()
    first = runner.invoke(args=["purge-personal"])
    assert "Anonymised 6 checks and deleted 0 bookings older than 30 days" in first.output
    assert decisions() == before
    anonymised_at = db.session.scalars(sa.select(Visit.anonymised_at).order_by(Visit.id)).all()
    clock.now += timedelta(hours=1)
    second = runner.invoke(args=["purge-personal"])
    assert (second.exit_code, "Anonymised 0 checks" in second.output) == (0, True)
    assert db.session.scalars(sa.select(Visit.anonymised_at).order_by(Visit.id)).all() == (
        anonymised_at
    )
    assert decisions() == before
    names = db.session.scalars(sa.select(Visit.visitor_name).order_by(Visit.id)).all()
    assert names == [None] * 6 + ["Budi", "Ani"] * 2


@pytest.mark.parametrize("value", ["0", "-5", "abc", "1.5", ""])
def test_purge_refuses_a_bad_retention(runner, make_visit, clock, value):
    visit_id = visit_with_personal_data(make_visit, clock.now - timedelta(days=400))
    result = runner.invoke(args=["purge-personal", "--older-than", value])
    assert result.exit_code == 2
    assert "--older-than" in result.output
    assert db.session.get(Visit, visit_id).visitor_name == "Budi"


def post_personal_data(post) -> None:
    """Post a good and a refused check-in with personal data, and a bad one."""
    post(BODY | PERSONAL)
    post(BODY | PERSONAL | {"mask": False})
    post(BODY | PERSONAL | {"temperature_c": 50.0})


def test_app_log_holds_no_personal_data(client, auth_headers, door_user, caplog):
    headers = auth_headers(door_user)
    with caplog.at_level(logging.DEBUG):
        post_personal_data(lambda body: client.post("/api/v1/checkins", json=body, headers=headers))
    assert not any(secret in caplog.text for secret in SECRETS)


def test_server_logs_hold_no_personal_data(database_url, door_user, auth_headers):
    headers = auth_headers(door_user)
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "logs"}
    options = ["--access-logfile", "-", "--log-level", "debug"]
    with gunicorn("checkin:create_app()", env, workers=1, options=options) as server:
        post_personal_data(lambda body: server.request("POST", "/api/v1/checkins", body, headers))
        server.request("GET", "/api/v1/checkins?status=refused", headers=headers)
        log = server.log()
    assert log.count('"POST /api/v1/checkins HTTP/1.1" 201') == 2, log
    assert not any(secret in log for secret in SECRETS)


def submit(opener: urllib.request.OpenerDirector, address: str, page: str, fields: dict) -> str:
    """Fill in the form of ``page`` that has ``fields`` and send it as the page says, as a
    browser would."""
    forms = re.findall(r'<form method="(\w+)" action="([^"]*)"[^>]*>(.*?)</form>', page, re.S)
    (method, action), *_ = [
        (method, action)
        for method, action, inputs in forms
        if all(f'name="{name}"' in inputs for name in fields)
    ]
    fields = fields | {"csrf_token": csrf_token_in(page)}
    if method == "get":
        url = f"{address}{action}?{urllib.parse.urlencode(fields)}"
        return opener.open(url, timeout=30).read().decode()
    data = urllib.parse.urlencode(fields).encode()
    return opener.open(f"{address}{action}", data=data, timeout=30).read().decode()


def test_the_production_access_log_holds_no_search_terms_nor_display_token(
    database_url, make_visit, site
):
    make_visit(visitor_name=PERSONAL["visitor_name"], phone=PERSONAL["phone"], nik_last4="7351")
    # Made now, as the server's clock reads: a session older than its account would end.
    with transaction.owned():
        manager = accounts.add_user("manajer", "manager", PASSWORD, site, by=None, now=utcnow())
        secret = display.issue_display_token(site, "TV lobby", manager, utcnow())
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "logs"}
    # The settings deploy/checkin.service starts gunicorn with: the access log goes to the journal.
    options = ["--config", str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py")]
    with gunicorn("checkin:create_app()", env, workers=2, options=options) as server:
        address = f"http://127.0.0.1:{server.port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        login = opener.open(f"{address}/login", timeout=30).read().decode()
        account = {"username": manager.username, "password": PASSWORD}
        form = urllib.parse.urlencode(account | {"csrf_token": csrf_token_in(login)}).encode()
        opener.open(f"{address}/login", data=form, timeout=30)
        page = opener.open(f"{address}/manage/tracing", timeout=30).read().decode()
        terms = {"name": "Rahasia", "phone": PERSONAL["phone"][:8], "nik_last4": "7351"}
        found = submit(opener, address, page, terms | {"from": "2026-11-25", "to": "2026-11-25"})
        assert f"<td>{PERSONAL['visitor_name']}</td>" in found
        board = opener.open(f"{address}/display?token={secret}", timeout=30)
        assert board.url == f"{address}/display"
        # A worker logs a request after answering it.
        deadline = time.monotonic() + 10
        while '"GET /display HTTP/1.1" 200' not in server.log() and time.monotonic() < deadline:
            time.sleep(0.1)
        log = server.log()
    # The NIK's four digits are looked for in the request lines only: a response's size or a
    # port number elsewhere in the log may hold them by chance.
    requests = re.findall(r'"([A-Z]+ [^"]*)"', log)
    assert [word for word in (terms["name"], terms["phone"], secret) if word in log] == []
    assert [line for line in requests if terms["nik_last4"] in line] == []
    assert {"POST /manage/tracing HTTP/1.1", "GET /display HTTP/1.1"} <= set(requests), log


FAILING_TRIGGER = {
    "sqlite": [
        "CREATE TRIGGER refuse_visits BEFORE INSERT ON visit "
        "BEGIN SELECT RAISE(ABORT, 'disk is full'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse_visit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION "
        "'disk is full' USING DETAIL = 'failing row: ' || NEW.visitor_name || NEW.phone; "
        "END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_visits BEFORE INSERT ON visit "
        "FOR EACH ROW EXECUTE FUNCTION refuse_visit()",
    ],
}
DROP_TRIGGER = {
    "sqlite": ["DROP TRIGGER refuse_visits"],
    "postgresql": ["DROP TRIGGER refuse_visits ON visit", "DROP FUNCTION refuse_visit()"],
}


@pytest.fixture
def failing_visit_inserts(app):
    """Make the database refuse every new visit, as a full disk would, until the test ends."""
    dialect = db.engine.dialect.name
    for statement in FAILING_TRIGGER[dialect]:
        db.session.execute(sa.text(statement))
    db.session.commit()
    yield
    for statement in DROP_TRIGGER[dialect]:
        db.session.execute(sa.text(statement))
    db.session.commit()


def test_database_failure_is_logged_without_personal_data(
    client, auth_headers, door_user, failing_visit_inserts, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = client.post(
            "/api/v1/checkins", json=BODY | PERSONAL, headers=auth_headers(door_user)
        )
    assert response.status_code == 500
    assert response.json["code"] == "server_error"
    assert "Database error" in caplog.text and "/api/v1/checkins" in caplog.text
    assert not any(secret in caplog.text for secret in SECRETS)
    assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0


def test_purge_removes_void_reasons_and_the_audit_log_never_copies_them(
    client, login, manager_user, make_visit, clock
):
    visit = make_visit(visitor_name="Siti Aminah").visit
    with transaction.owned():
        checkins.void_visit(visit, manager_user, "Siti Aminah typed twice", clock.now)
    login(manager_user)
    assert "Siti Aminah typed twice" in client.get("/manage/audit?lang=en").text
    assert "Siti" not in json.dumps(db.session.scalar(sa.select(AuditEntry.detail)))
    clock.now += timedelta(days=31)
    with transaction.owned():
        privacy.purge_personal(30, clock.now)
    page = client.get("/manage/audit?lang=en").text
    assert "Siti" not in page and "data-removed" in page
    assert db.session.get(Visit, visit.id).void_reason is None


PURGED = {"visitor_name": "Siti Zulaikha Purgetest", "phone": "081277665544"}
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def sqlite_files_bytes() -> bytes:
    """Return the raw bytes of the SQLite database file and of its write-ahead log, if any."""
    database = Path(db.engine.url.database)
    wal = database.with_name(database.name + "-wal")
    return b"".join(path.read_bytes() for path in (database, wal) if path.exists())


# PostgreSQL keeps dead tuples until VACUUM (FULL), which the command leaves to the operator:
# README, "Personal data".
@sqlite_only
def test_purged_values_leave_the_sqlite_files(runner, make_visit, manager_user, clock):
    old = make_visit(now=clock.now - timedelta(days=40), **PURGED).visit
    # A long reason shrinks the row most, leaving the most of the old row behind unless zeroed.
    reason = "Siti Zulaikha Purgetest came twice, " + "the first check was typed wrong " * 4
    with transaction.owned():
        checkins.void_visit(old, manager_user, reason, clock.now)
    make_visit(visitor_name="Ani Tetap", phone="081200001111")
    secrets = [value.encode() for value in PURGED.values()] + [b"came twice"]
    assert all(secret in sqlite_files_bytes() for secret in secrets)  # the control
    result = runner.invoke(args=["purge-personal", "--older-than", "30"])
    assert "Anonymised 1 checks" in result.output
    stored = sqlite_files_bytes()
    assert [secret for secret in secrets if secret in stored] == []
    assert b"Ani Tetap" in stored


@pytest.fixture
def short_busy_timeout(app_config):
    """Let SQLite connections wait a fifth of a second for a lock instead of 30 seconds."""
    app_config["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 0.2}}


@sqlite_only
def test_a_purge_that_a_reader_keeps_from_the_wal_says_so_and_the_next_one_finishes(
    short_busy_timeout, runner, make_visit, clock, caplog
):
    make_visit(now=clock.now - timedelta(days=40), **PURGED)
    reader = sqlite3.connect(db.engine.url.database)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM visit").fetchone()  # holds a snapshot from before
    with caplog.at_level(logging.WARNING):
        assert "Anonymised 1 checks" in runner.invoke(args=["purge-personal"]).output
    assert "write-ahead log is in use" in caplog.text
    assert PURGED["visitor_name"].encode() in sqlite_files_bytes()
    reader.close()
    caplog.clear()
    assert "Anonymised 0 checks" in runner.invoke(args=["purge-personal"]).output
    assert "write-ahead log" not in caplog.text
    assert PURGED["visitor_name"].encode() not in sqlite_files_bytes()


def test_bookings_past_the_retention_are_deleted_and_their_days_counts_stay(
    site, clock, make_visit
):
    old_day = clock.now.date() - timedelta(days=40)
    soon = clock.now.date() + timedelta(days=1)
    made_at = clock.now - timedelta(days=45)
    for number, day in enumerate((old_day, old_day, soon)):
        booked = BookingData(
            day=day,
            starts=clock_time(8),
            name=PERSONAL["visitor_name"],
            phone=f"0812998877{number:02d}",
            nik_last4=f"{number:04d}",
        )
        bookings.book(site, booked, made_at if day == old_day else clock.now)
    came = make_visit(now=made_at + timedelta(days=5)).visit
    came.booking_id = db.session.scalar(sa.select(Booking.id).where(Booking.day == old_day))
    db.session.commit()

    assert privacy.purge_personal(30, clock.now).bookings == 2
    db.session.expire_all()
    assert db.session.get(Visit, came.id).booking_id is None
    assert db.session.scalars(sa.select(Booking.day)).all() == [soon]
    counted = db.session.execute(sa.select(SessionDay.day, SessionDay.booked)).all()
    assert sorted(counted) == [(old_day, 2), (soon, 1)]
    assert privacy.purge_personal(30, clock.now).bookings == 0
