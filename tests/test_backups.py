"""Backups while the door is in use, restores that check what they put in place, service files."""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from checkin import create_app
from checkin.extensions import db
from checkin.models import DayQuota, Site, User, Visit
from checkin.services import backups
from tests.conftest import PRIVATE, counters_of, counters_of_rows, mode_of
from tests.serving import CLAIM_DELAY_VARIABLE, PROJECT_ROOT, TEST_NOW_HEADER, gunicorn
from tests.test_migrations import head_revision

sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
postgresql_only = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
PURGED = {"visitor_name": "Siti Zulaikha Purgetest", "phone": "081277665544"}
DEPLOY = PROJECT_ROOT / "deploy"


@pytest.fixture(autouse=True)
def no_migration_record_left(request):
    """Drop Alembic's record a restore leaves: on PostgreSQL the database outlives the test."""
    if "app" not in request.fixturenames:  # the tests of deploy/ need no database
        yield
        return
    request.getfixturevalue("app")  # set up first, so torn down after this
    yield
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def folder(tmp_path) -> Path:
    """Return an empty folder for backups, beside the test's database."""
    path = tmp_path / "backups"
    path.mkdir()
    return path


def live_checksum() -> str:
    """Return a checksum of the live SQLite database: its file and its write-ahead log."""
    database = Path(db.engine.url.database)
    digest = hashlib.sha256()
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def backup_names(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if backups.BACKUP_NAME.match(path.name))


def written_path(output: str) -> Path:
    """Return the file a backup command said it wrote."""
    match = re.search(r"Wrote (\S+) \(([\d,]+) bytes\)", output)
    assert match, output
    path = Path(match.group(1))
    assert path.stat().st_size == int(match.group(2).replace(",", ""))
    return path


def test_a_backup_is_a_whole_checked_copy_named_by_the_site_s_local_time(
    runner, make_visit, folder, database_url
):
    for _ in range(3):
        make_visit()
    result = runner.invoke(args=["backup", "--to", str(folder)])
    assert result.exit_code == 0, result.output
    path = written_path(result.output)
    # 03:00 UTC is 10:00 in Kediri (WIB).
    extension = "sqlite3" if database_url.startswith("sqlite") else "pgdump"
    assert path == folder / f"checkin-2026-11-25_100000.{extension}"
    assert path.stat().st_mode & 0o777 == 0o600  # it holds personal data
    assert os.listdir(folder) == [path.name]  # no temporary file left behind
    if extension == "sqlite3":
        with sqlite3.connect(path) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert copy.execute("SELECT count(*) FROM visit").fetchone() == (3,)
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    else:
        listing = subprocess.run(["pg_restore", "--list", path], capture_output=True, text=True)
        assert " TABLE DATA public visit " in listing.stdout


def test_keep_removes_the_oldest_backups_over_simulated_days(runner, clock, folder):
    other = folder / "notes.txt"
    other.write_text("not a backup")
    kept_each_day = []
    for _day in range(5):
        result = runner.invoke(args=["backup", "--to", str(folder), "--keep", "3"])
        assert result.exit_code == 0, result.output
        kept_each_day.append(backup_names(folder))
        clock.now += timedelta(days=1)
    assert [len(names) for names in kept_each_day] == [1, 2, 3, 3, 3]
    assert kept_each_day[-1] == [
        f"checkin-2026-11-{day}_100000.sqlite3" for day in (27, 28, 29)
    ] or kept_each_day[-1] == [f"checkin-2026-11-{day}_100000.pgdump" for day in (27, 28, 29)]
    assert "Removed" in result.output and "2026-11-26_100000" in result.output
    assert other.read_text() == "not a backup"


def test_two_backups_in_the_same_second_get_two_names_in_order(runner, folder):
    for _ in range(3):
        assert runner.invoke(args=["backup", "--to", str(folder), "--keep", "2"]).exit_code == 0
    names = backup_names(folder)
    assert [name.split(".")[0] for name in names] == [
        "checkin-2026-11-25_100000_02",
        "checkin-2026-11-25_100000_03",
    ]


@contextmanager
def without_write_permission() -> Path:
    """Yield a folder this process may not write in, even when it runs as root."""
    folder = Path(tempfile.mkdtemp(prefix="checkin-readonly-"))
    folder.chmod(0o555)
    as_root = os.geteuid() == 0
    if as_root:
        os.seteuid(65534)  # nobody: root writes anywhere
    try:
        yield folder
    finally:
        if as_root:
            os.seteuid(0)
        shutil.rmtree(folder)


@sqlite_only
def test_backup_to_a_missing_or_read_only_folder_says_so_and_changes_nothing(
    runner, make_visit, tmp_path
):
    make_visit()
    before = live_checksum()
    result = runner.invoke(args=["backup", "--to", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "missing does not exist" in result.output
    with without_write_permission() as folder:
        result = runner.invoke(args=["backup", "--to", str(folder)])
        assert os.listdir(folder) == []
    assert result.exit_code == 2
    assert "Cannot write a backup in" in result.output and "Permission denied" in result.output
    assert live_checksum() == before


@postgresql_only
def test_a_postgresql_backup_without_pg_dump_says_what_to_install(runner, folder, monkeypatch):
    monkeypatch.setenv("PATH", str(folder / "empty"))
    result = runner.invoke(args=["backup", "--to", str(folder)])
    assert result.exit_code == 1
    assert "pg_dump is not installed" in result.output
    assert "apt-get install postgresql-client" in result.output
    assert os.listdir(folder) == []


def make_backup(runner, folder: Path) -> Path:
    result = runner.invoke(args=["backup", "--to", str(folder)])
    assert result.exit_code == 0, result.output
    return written_path(result.output)


def count_of(model) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_restore_brings_the_backup_back_and_keeps_the_database_it_replaced(
    runner, make_visit, make_user, clock, folder, database_url
):
    make_visit()
    make_visit(mask=False)
    path = make_backup(runner, folder)
    clock.now += timedelta(days=1)
    make_visit()
    make_user("manager", username="later")
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    # The site, the door account of make_visit; two checks on one day.
    assert "1 sites, 1 accounts, 2 checks over 1 days" in result.output
    assert (count_of(Visit), count_of(User)) == (2, 1)
    kept = re.search(r"kept at (\S+)\.$", result.output.strip()).group(1)
    assert "replaced-2026-11-26_100000" in kept
    if database_url.startswith("sqlite"):
        with sqlite3.connect(kept) as replaced:
            assert replaced.execute("SELECT count(*) FROM visit").fetchone() == (3,)
    else:  # the kept dump restores the later state
        assert runner.invoke(args=["restore", kept]).exit_code == 0
        assert (count_of(Visit), count_of(User)) == (3, 2)


def database_at_revision(folder: Path, revision: str) -> Path:
    """Make a SQLite database of an older schema revision with one site, as an old backup."""
    path = folder / "old.sqlite3"
    old = create_app({"TESTING": True, "SECRET_KEY": "old", "DATABASE_URL": f"sqlite:///{path}"})
    with old.app_context():
        flask_migrate.upgrade(revision=revision)
        db.session.execute(
            sa.text(
                "INSERT INTO site (code, name, timezone, daily_quota, fever_cutoff_dc, "
                "recheck_minutes, online_service_url, created_at) "
                "VALUES ('OLD', 'Kantor Lama', 'Asia/Jakarta', 60, 373, 5, '', '2024-01-01')"
            )
        )
        db.session.commit()
        db.engine.dispose()
    return path


@sqlite_only
def test_restore_migrates_a_backup_of_an_older_revision(runner, tmp_path):
    path = database_at_revision(tmp_path, "0003")
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    assert "Migrated the backup from schema revision 0003" in result.output
    assert "1 sites, 0 accounts, 0 checks" in result.output
    db.session.rollback()
    assert db.session.scalar(sa.select(Site.code)) == "OLD"
    assert db.session.scalar(sa.text("SELECT version_num FROM alembic_version")) == head_revision()
    assert db.session.scalar(sa.text("SELECT count(*) FROM leased_slot")) == 0  # 0004's table


def truncated(path: Path) -> Path:
    damaged = path.with_name("truncated.sqlite3")
    damaged.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return damaged


def corrupted(path: Path) -> Path:
    """Overwrite the visit table's first page: readable, but not whole. Found by its number, as
    the middle of the file lands on another table's pages whenever the schema grows."""
    damaged = path.with_name("corrupted.sqlite3")
    with contextlib.closing(sqlite3.connect(path)) as backup:
        (page_size,) = backup.execute("PRAGMA page_size").fetchone()
        (root,) = backup.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'visit'"
        ).fetchone()
    data = bytearray(path.read_bytes())
    start = (root - 1) * page_size
    data[start : start + page_size] = b"\xff" * page_size
    damaged.write_bytes(bytes(data))
    return damaged


def not_a_database(path: Path) -> Path:
    other = path.with_name("notes.sqlite3")
    other.write_text("Daftar pengunjung, bukan basis data\n" * 100)
    return other


def of_a_newer_revision(path: Path) -> Path:
    newer = path.with_name("newer.sqlite3")
    shutil.copy(path, newer)
    with sqlite3.connect(newer) as connection:
        connection.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)")
        connection.execute("INSERT INTO alembic_version VALUES ('0099')")
    return newer


def of_another_program(path: Path) -> Path:
    other = path.with_name("other.sqlite3")
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE contacts (name TEXT)")
    return other


def of_postgresql(path: Path) -> Path:
    dump = path.with_name("checkin.pgdump")
    dump.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
    return dump


@sqlite_only
@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (truncated, "truncated.sqlite3 is damaged"),
        (corrupted, "corrupted.sqlite3 is damaged"),
        (not_a_database, "notes.sqlite3 is not a backup of checkin"),
        (of_a_newer_revision, "schema revision 0099, newer than this version of checkin knows"),
        (of_another_program, "other.sqlite3 is not a backup of checkin"),
        (of_postgresql, "is a PostgreSQL backup, but this instance uses SQLite"),
    ],
)
def test_restore_refuses_a_bad_file_with_a_clear_message_and_changes_nothing(
    runner, make_visit, folder, tmp_path, damage, message
):
    for _ in range(30):
        make_visit(visitor_name="Pengunjung dengan nama yang panjang sekali")
    bad = damage(make_backup(runner, folder))
    make_visit()  # the live database now differs from every backup
    before = live_checksum()
    result = runner.invoke(args=["restore", str(bad)])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert live_checksum() == before
    assert list(tmp_path.glob("*replaced*")) == []


def test_restore_is_refused_while_a_server_holds_the_database_unless_forced(
    runner, make_visit, door_user, auth_headers, clock, folder, database_url
):
    make_visit()
    headers = auth_headers(door_user) | {TEST_NOW_HEADER: clock.now.isoformat()}
    path = make_backup(runner, folder)
    make_visit()
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "restore"}
    with gunicorn("tests.serving:header_clock_app()", env, workers=2) as server:
        sqlite = database_url.startswith("sqlite")
        before = live_checksum() if sqlite else None
        result = runner.invoke(args=["restore", str(path)])
        assert result.exit_code == 1, result.output
        assert "The database is in use by other processes" in result.output
        assert "--force" in result.output
        if sqlite:
            assert live_checksum() == before
        assert count_of(Visit) == 2
        result = runner.invoke(args=["restore", str(path), "--force"])
        assert result.exit_code == 0, result.output
        assert count_of(Visit) == 1
        # The server goes on, on the restored database.
        status, quota = server.request("GET", "/api/v1/quota/today", headers=headers)
        assert (status, quota["used"]) == (200, 1)


@sqlite_only
def test_a_backup_after_purge_personal_holds_no_purged_value(runner, make_visit, clock, folder):
    make_visit(now=clock.now - timedelta(days=40), **PURGED)
    make_visit(visitor_name="Ani Tetap", phone="081200001111")
    secrets = [value.encode() for value in PURGED.values()]
    before = make_backup(runner, folder).read_bytes()
    assert all(secret in before for secret in secrets)  # the control
    assert "Anonymised 1 checks" in runner.invoke(args=["purge-personal"]).output
    clock.now += timedelta(seconds=1)
    after = make_backup(runner, folder).read_bytes()
    assert [secret for secret in secrets if secret in after] == []
    assert b"Ani Tetap" in after


def test_a_restore_keeps_the_replaced_database_private_from_the_start(
    runner, make_visit, clock, folder, database_url, chmods
):
    make_visit()
    path = make_backup(runner, folder)
    clock.now += timedelta(days=1)
    make_visit()
    result = runner.invoke(args=["restore", str(path)])
    assert result.exit_code == 0, result.output
    kept = Path(re.search(r"kept at (\S+)\.$", result.output.strip())[1])
    assert mode_of(kept) == PRIVATE
    if database_url.startswith("sqlite"):
        live = Path(db.engine.url.database)
        assert mode_of(live) == PRIVATE
    assert chmods == []


@sqlite_only
def test_a_restore_into_a_fresh_instance_makes_its_database_private(
    runner, make_visit, folder, tmp_path, clock, chmods
):
    make_visit()
    path = make_backup(runner, folder)
    fresh = tmp_path / "fresh" / "checkin.db"
    fresh.parent.mkdir()
    config = {"SECRET_KEY": "fresh", "DATABASE_URL": f"sqlite:///{fresh}", "CLOCK": clock}
    fresh_app = create_app(config)
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(args=["restore", str(path)])
        db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert mode_of(fresh) == PRIVATE
    assert chmods == []


def holding(paths: list[Path], values: list[bytes]) -> list[str]:
    """Return the names of the files that hold any of ``values``."""
    return [path.name for path in paths if any(value in path.read_bytes() for value in values)]


def test_a_replaced_database_goes_with_the_backups_as_old_as_it(
    runner, make_visit, clock, folder, database_url, tmp_path
):
    make_visit(now=clock.now - timedelta(days=40), **PURGED)
    first = make_backup(runner, folder)
    clock.now += timedelta(seconds=1)
    restored = runner.invoke(args=["restore", str(first)])
    kept = Path(re.search(r"kept at (\S+)\.$", restored.output.strip())[1])
    assert "Anonymised 1 checks" in runner.invoke(args=["purge-personal"]).output
    sqlite = database_url.startswith("sqlite")
    secrets = [value.encode() for value in PURGED.values()]
    if sqlite:  # the control: the replaced database holds what the purge removed
        assert holding([kept], secrets) == [kept.name]

    # With one backup newer than it, a backup of its time is still among the newest 2.
    clock.now += timedelta(seconds=1)
    result = runner.invoke(args=["backup", "--to", str(folder), "--keep", "2"])
    assert "Removed" not in result.output and kept.exists()
    # With two, it would have gone: so does the replaced database, with the first backup.
    clock.now += timedelta(seconds=1)
    result = runner.invoke(args=["backup", "--to", str(folder), "--keep", "2"])
    assert result.exit_code == 0, result.output
    removed = re.findall(r"Removed (\S+),", result.output)
    assert sorted(removed) == sorted([str(first), str(kept)])
    assert not kept.exists()
    if sqlite:
        files = [path for path in tmp_path.rglob("*") if path.is_file()]
        assert holding(files, secrets) == []


# Under load: gunicorn with 4 workers takes racing check-ins while backups are taken.
LOAD_POSTS = 300
LOAD_THREADS = 8
LOAD_QUOTA = 1000  # every passing visitor admitted: the restored count is what continues


def check_backup(path: Path, tmp_path: Path) -> int:
    """Assert a backup passes integrity_check, its counters equal its rows; count its checks."""
    with sqlite3.connect(path) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    opened = tmp_path / f"opened-{path.name}"
    shutil.copy(path, opened)  # opening through the app turns on WAL: leave the backup as it is
    config = {"TESTING": True, "SECRET_KEY": "check", "DATABASE_URL": f"sqlite:///{opened}"}
    with create_app(config).app_context():
        rows = db.session.scalars(sa.select(DayQuota)).all()
        for row in rows:
            assert counters_of(row) == counters_of_rows(row.site_id, row.day)
        slots = db.session.execute(
            sa.select(Visit.slot, sa.func.count())
            .where(Visit.slot.is_not(None))
            .group_by(Visit.slot)
        ).all()
        assert all(count == 1 for _slot, count in slots)
        checks = db.session.scalar(sa.select(sa.func.count(Visit.id)))
        db.engine.dispose()
    return checks


@pytest.mark.slow
@sqlite_only
def test_backups_under_load_are_consistent_and_a_restore_serves_on(
    runner, site, door_user, auth_headers, clock, folder, tmp_path, database_url
):
    site.daily_quota = LOAD_QUOTA
    db.session.commit()
    headers = auth_headers(door_user) | {TEST_NOW_HEADER: clock.now.isoformat()}
    bodies = [BODY | {"mask": index % 5 != 0} for index in range(LOAD_POSTS)]
    env = {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "load",
        CLAIM_DELAY_VARIABLE: "0.01",  # spreads the posts over seconds, so backups fall amid them
    }
    taken = []
    with (
        gunicorn("tests.serving:header_clock_app()", env) as server,
        ThreadPoolExecutor(LOAD_THREADS) as pool,
    ):
        answers = [
            pool.submit(server.request, "POST", "/api/v1/checkins", body, headers)
            for body in bodies
        ]
        for share in (1, 2, 3):
            deadline = time.monotonic() + 120
            while sum(answer.done() for answer in answers) < share * LOAD_POSTS // 4:
                assert time.monotonic() < deadline, "the server stopped answering"
                time.sleep(0.01)
            clock.now += timedelta(seconds=1)
            taken.append(make_backup(runner, folder))
        statuses = [answer.result()[0] for answer in answers]
    assert statuses == [201] * LOAD_POSTS
    checks = [check_backup(path, tmp_path) for path in taken]
    assert 0 < checks[0] < checks[1] < checks[2] < LOAD_POSTS, checks  # taken amid the load

    fresh = tmp_path / "fresh" / "checkin.db"
    fresh_config = {"SECRET_KEY": "fresh", "DATABASE_URL": f"sqlite:///{fresh}", "CLOCK": clock}
    fresh_app = create_app(fresh_config)
    with fresh_app.app_context():
        result = fresh_app.test_cli_runner().invoke(args=["restore", str(taken[-1])])
        assert result.exit_code == 0, result.output
        assert f"1 sites, 1 accounts, {checks[-1]} checks over 1 days" in result.output
        restored = db.session.scalar(sa.select(DayQuota))
        db.engine.dispose()
    fresh_env = {"CHECKIN_DATABASE_URL": f"sqlite:///{fresh}", "CHECKIN_SECRET_KEY": "fresh"}
    with gunicorn("tests.serving:header_clock_app()", fresh_env) as server:
        status, quota = server.request("GET", "/api/v1/quota/today", headers=headers)
        assert (status, quota["used"]) == (200, restored.used)
        status, answer = server.request("POST", "/api/v1/checkins", BODY, headers)
    assert (status, answer["slot"]) == (201, restored.issued + 1)
    assert answer["quota"]["left"] == LOAD_QUOTA - restored.used - 1


# The service files in deploy/ (systemd-analyze and nginx -t: tests/test_deploy.py).


def unit_lines(name: str) -> list[str]:
    return [line for line in (DEPLOY / name).read_text().splitlines() if "=" in line]


def test_gunicorn_serves_only_loopback_with_a_worker_per_core_and_restarts_on_failure():
    settings: dict = {}
    exec((DEPLOY / "gunicorn.conf.py").read_text(), settings)
    assert settings["bind"] == "127.0.0.1:8000"
    assert settings["workers"] == os.cpu_count()
    service = unit_lines("checkin.service")
    assert "Restart=on-failure" in service
    assert "EnvironmentFile=/etc/checkin/checkin.env" in service
    config = "--config /srv/checkin/release/deploy/gunicorn.conf.py checkin:create_app()"
    assert any(config in line for line in service)
    daily = [line for line in unit_lines("checkin-daily.service") if line.startswith("ExecStart")]
    assert ["purge-personal" in daily[0], "backup --to" in daily[1]] == [True, True]
    assert "Unit=" not in (DEPLOY / "checkin-daily.timer").read_text()  # runs its namesake


def test_the_example_settings_are_settings_the_app_reads(monkeypatch, tmp_path):
    lines = (DEPLOY / "checkin.env.example").read_text().splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert all(name.startswith("CHECKIN_") for name in settings)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CHECKIN_DATABASE_URL", f"sqlite:///{tmp_path / 'checkin.db'}")
    config = create_app().config
    assert (config["SESSION_COOKIE_SECURE"], config["PROXY_COUNT"]) == (True, 1)
    assert config["SECRET_KEY"] == settings["CHECKIN_SECRET_KEY"]
