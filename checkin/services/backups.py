"""Backups and restores: a consistent copy of the database while tablets keep checking in.

SQLite is copied with its online backup API (a plain file copy of a WAL database can miss the
log or catch a page half-written); PostgreSQL with ``pg_dump`` in its custom format. A backup
is written under a temporary name and renamed only once it passed its check, so a file under a
backup's name is always whole.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app

from checkin.domain.errors import (
    BackupCopyDamaged,
    BackupDamaged,
    BackupFolderMissing,
    BackupFolderNotWritable,
    BackupFromNewerVersion,
    BackupOfAnotherEngine,
    BackupToolFailed,
    BackupToolMissing,
    DatabaseInUse,
    NotABackup,
)
from checkin.extensions import db, migrate
from checkin.models import Site, User, Visit
from checkin.services import database

DEFAULT_KEEP = 14
# checkin-2026-11-25_100000.sqlite3; a second backup within the same second gets _02, _03 ...
STAMP = r"(?P<stamp>\d{4}-\d{2}-\d{2}_\d{6}(_\d{2})?)"
BACKUP_NAME = re.compile(rf"^checkin-{STAMP}\.(sqlite3|pgdump)$")
# What a restore keeps of the database it replaced: checkin-replaced-2026-11-25_100000.sqlite3
# beside a SQLite database (named after it), .pgdump beside a restored PostgreSQL archive.
REPLACED_NAME = re.compile(rf"^.+-replaced-{STAMP}\.(sqlite3|pgdump)$")
EXTENSION = {"sqlite": "sqlite3", "postgresql": "pgdump"}
ENGINE_NAME = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
HEADER = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}
# A slow disk or a big PostgreSQL database: generous, but a hung pg_dump must not hang the timer.
TOOL_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Written:
    """A backup just written, its size in bytes, and the old backups rotated away."""

    path: Path
    size: int
    removed: list[Path]


@dataclass(frozen=True)
class Restored:
    """What a restore put in place, and where the database it replaced is kept."""

    sites: int
    accounts: int
    checks: int
    days: int
    migrated_from: str | None
    kept: Path | None


def backup(folder: Path, keep: int, now: datetime) -> Written:
    """Write a consistent, checked copy of the database in ``folder``; keep the newest ``keep``."""
    if not folder.is_dir():
        raise BackupFolderMissing(str(folder))
    engine = db.engine.dialect.name
    final = _free_name(folder, f"checkin-{_stamp(now)}", EXTENSION[engine])
    temporary = _temporary_file(folder)
    try:
        if engine == "sqlite":
            _copy_sqlite(Path(db.engine.url.database), temporary)
        else:
            _dump_postgresql(temporary)
        _write_to_disk(temporary)
        os.replace(temporary, final)
        _write_to_disk(folder)
    except OSError as error:
        raise BackupFolderNotWritable(str(folder), error.strerror or str(error)) from error
    except sqlite3.Error as error:  # e.g. "database or disk is full"
        raise BackupFolderNotWritable(str(folder), str(error)) from error
    finally:
        temporary.unlink(missing_ok=True)
    return Written(final, final.stat().st_size, rotate(folder, keep, _replaced_folders(folder)))


def rotate(folder: Path, keep: int, replaced_folders: list[Path]) -> list[Path]:
    """Remove the backups in ``folder`` older than the newest ``keep``, and the databases a
    restore replaced (in ``replaced_folders``) that ``keep`` backups are newer than; return
    them, oldest first.

    A replaced database holds what a backup of its time holds, names the purge has since
    removed among them: it goes when such a backup would. Only files named as this command and
    restore name them are touched, never what else is in the folders.
    """
    backups = sorted(_named(folder, BACKUP_NAME))
    old = backups[:-keep]
    if len(backups) >= keep:
        oldest_kept = _stamp_of(backups[-keep])
        replaced = {path for place in replaced_folders for path in _named(place, REPLACED_NAME)}
        old += [path for path in replaced if _stamp_of(path) < oldest_kept]
    for path in old:
        path.unlink()
    return sorted(old, key=_stamp_of)


def _named(folder: Path, name: re.Pattern) -> list[Path]:
    """Return the files in ``folder`` whose names match ``name``."""
    return [path for path in folder.iterdir() if name.match(path.name)]


def _stamp_of(path: Path) -> str:
    """Return the local date and time in a backup's or replaced database's name, as it sorts."""
    match = BACKUP_NAME.match(path.name) or REPLACED_NAME.match(path.name)
    assert match is not None  # only such names are listed
    return match["stamp"]


def _replaced_folders(folder: Path) -> list[Path]:
    """Return where restores keep replaced databases: beside SQLite's, and beside the backups."""
    places = [folder]
    if db.engine.dialect.name == "sqlite":
        places.append(Path(db.engine.url.database).resolve().parent)
    return places


def restore(file: Path, force: bool, now: datetime) -> Restored:
    """Check ``file`` and put it in place of the database; return what it holds.

    Nothing is changed unless the backup is whole, of this engine, of a schema revision this
    version knows (an older one is migrated), and no other process holds the database (or
    ``force``). The database it replaces is kept beside it.
    """
    engine = db.engine.dialect.name
    found = _engine_of(file)
    if found != engine:
        raise BackupOfAnotherEngine(str(file), ENGINE_NAME[found], ENGINE_NAME[engine])
    stamp = _stamp(now)
    if engine == "sqlite":
        migrated_from, kept = _restore_sqlite(file, force, stamp)
    else:
        migrated_from, kept = _restore_postgresql(file, force, stamp)
    return _count(migrated_from, kept)


def _stamp(now: datetime) -> str:
    """Return the local date and time for a file name, in the sites' time zone.

    A branch has one site, or several in one zone; otherwise the app's default zone.
    """
    try:
        zones = set(db.session.scalars(sa.select(Site.timezone).distinct()))
    except sa.exc.SQLAlchemyError:  # restoring into a fresh instance: no tables yet
        zones = set()
    db.session.rollback()  # no read transaction held open while copying
    zone = zones.pop() if len(zones) == 1 else current_app.config["BABEL_DEFAULT_TIMEZONE"]
    return now.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d_%H%M%S")


def _free_name(folder: Path, stem: str, extension: str) -> Path:
    """Return ``stem.extension`` in ``folder``, numbered _02, _03 ... if a file has that name."""
    for number in range(1, 100):
        suffix = "" if number == 1 else f"_{number:02d}"
        path = folder / f"{stem}{suffix}.{extension}"
        if not path.exists():
            return path
    raise BackupFolderNotWritable(str(folder), "99 files of the same second")


def _temporary_file(folder: Path) -> Path:
    """Create an empty file readable by its owner only, named as no backup is."""
    try:
        handle, name = tempfile.mkstemp(prefix=".checkin-", suffix=".partial", dir=folder)
    except OSError as error:
        raise BackupFolderNotWritable(str(folder), error.strerror or str(error)) from error
    os.close(handle)
    return Path(name)


def _write_to_disk(path: Path) -> None:
    """Flush a file, or a folder's entries after a rename, to the disk."""
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _copy_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database in one step of the backup API, then check the copy.

    In one step the copy is one snapshot; in WAL mode writers go on meanwhile.
    """
    database.create_private(target)
    with (
        closing(sqlite3.connect(source, timeout=30)) as live,
        closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        # A single file, with no -wal or -shm beside it to lose when it is moved.
        copy.execute("PRAGMA journal_mode=DELETE")
        problems = _integrity_problems(copy)
    if problems:
        raise BackupCopyDamaged(problems)


def _integrity_problems(connection: sqlite3.Connection) -> str:
    """Return what ``PRAGMA integrity_check`` finds wrong, or an empty string."""
    found = [row[0] for row in connection.execute("PRAGMA integrity_check(10)")]
    return "" if found == ["ok"] else "; ".join(found)


def _engine_of(file: Path) -> str:
    """Tell from its first bytes whether ``file`` is a SQLite database or a pg_dump archive."""
    with file.open("rb") as opened:
        start = opened.read(16)
    for engine, header in HEADER.items():
        if start.startswith(header):
            return engine
    raise NotABackup(str(file))


def _check_revision(file: Path, revision: str | None, tables: set[str]) -> bool:
    """Refuse a backup that is no checkin database or is newer; tell whether to migrate it."""
    if "site" not in tables:
        raise NotABackup(str(file))
    scripts = ScriptDirectory.from_config(migrate.get_config())
    newest = scripts.get_current_head()
    if revision is None:  # made by create_all: database.upgrade adopts it
        return True
    if revision not in {script.revision for script in scripts.walk_revisions()}:
        raise BackupFromNewerVersion(revision, newest)
    return revision != newest


def _restore_sqlite(file: Path, force: bool, stamp: str) -> tuple[str | None, Path | None]:
    """Prepare a checked (and migrated) copy beside the database, then copy it into place."""
    live = Path(db.engine.url.database).resolve()
    live.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=live.parent) as work:
        prepared = Path(work) / "restored.db"
        database.create_private(prepared)
        try:
            with (
                closing(sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)) as source,
                closing(sqlite3.connect(prepared)) as copy,
            ):
                source.backup(copy)
                copy.execute("PRAGMA journal_mode=DELETE")
                problems = _integrity_problems(copy)
                tables = {row[0] for row in copy.execute("SELECT name FROM sqlite_master")}
                revision = (
                    copy.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                    if "alembic_version" in tables
                    else None
                )
        except sqlite3.DatabaseError as error:
            raise BackupDamaged(str(file), str(error)) from error
        if problems:
            raise BackupDamaged(str(file), problems)
        needs_migration = _check_revision(file, revision, tables)
        if not force:
            _refuse_if_held(_processes_holding(live))
        if needs_migration:
            database.upgrade_another(f"sqlite:///{prepared}")
        db.session.remove()
        db.engine.dispose()
        kept = None
        if live.exists():
            kept = _free_name(live.parent, f"{live.stem}-replaced-{stamp}", "sqlite3")
            _copy_sqlite(live, kept)
        database.create_private(live)
        # The backup API writes into the live file under SQLite's own locks: a process that
        # still has it open (--force) sees the restored database, never a half-written one.
        with (
            closing(sqlite3.connect(prepared)) as source,
            closing(sqlite3.connect(live, timeout=30)) as target,
        ):
            source.backup(target)
    return revision if needs_migration else None, kept


def _processes_holding(live: Path) -> list[int]:
    """Return the other processes that have the database or its write-ahead log open.

    Read from /proc (Linux): a gunicorn worker keeps its pooled connection open once it has
    served a request. Processes of another user cannot be seen unless run as root.
    """
    names = {str(live), f"{live}-wal", f"{live}-shm"}
    holders = []
    for descriptors in Path("/proc").glob("[0-9]*/fd"):
        pid = int(descriptors.parent.name)
        if pid == os.getpid():
            continue
        try:
            opened = {os.readlink(descriptor) for descriptor in descriptors.iterdir()}
        except OSError:  # gone meanwhile, or another user's
            continue
        if opened & names:
            holders.append(pid)
    return sorted(holders)


def _refuse_if_held(pids: list[int]) -> None:
    if pids:
        raise DatabaseInUse(", ".join(str(pid) for pid in pids))


def _count(migrated_from: str | None, kept: Path | None) -> Restored:
    """Count what the restored database holds."""
    db.session.remove()

    def count(query: sa.Select) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))

    return Restored(
        sites=count(sa.select(Site.id)),
        accounts=count(sa.select(User.id)),
        checks=count(sa.select(Visit.id)),
        days=count(sa.select(Visit.site_id, Visit.day).distinct()),
        migrated_from=migrated_from,
        kept=kept,
    )


# PostgreSQL: the client programs from Debian's postgresql-client.


def _run(tool: str, *arguments: str | Path) -> str:
    """Run a PostgreSQL client program on this database; return what it printed."""
    program = shutil.which(tool)
    if program is None:
        raise BackupToolMissing(tool)
    url = db.engine.url
    # The password goes in the environment, not on a command line every user can read.
    environment = os.environ | {"PGPASSWORD": url.password or "", "PGCONNECT_TIMEOUT": "10"}
    address = url.set(drivername="postgresql", password=None).render_as_string()
    try:
        finished = subprocess.run(
            [program, *arguments, f"--dbname={address}"],
            capture_output=True,
            text=True,
            env=environment,
            timeout=TOOL_TIMEOUT_SECONDS,
        )
    except subprocess.TimeoutExpired as error:
        raise BackupToolFailed(tool, f"no answer in {TOOL_TIMEOUT_SECONDS} s") from error
    if finished.returncode != 0:
        lines = finished.stderr.strip().splitlines() or [f"exit status {finished.returncode}"]
        raise BackupToolFailed(tool, lines[-1])
    return finished.stdout


def _dump_postgresql(target: Path) -> None:
    """Dump the database in pg_dump's custom format and check that pg_restore can read it."""
    _run("pg_dump", "--format=custom", "--no-owner", f"--file={target}")
    _listing, problem = _archive_contents(target)
    if problem:
        raise BackupCopyDamaged(problem)


def _archive_contents(file: Path) -> tuple[str, str]:
    """Return pg_restore's table of contents of ``file``, and what it found wrong, if anything."""
    program = shutil.which("pg_restore")
    if program is None:
        raise BackupToolMissing("pg_restore")
    finished = subprocess.run([program, "--list", str(file)], capture_output=True, text=True)
    if finished.returncode != 0:
        return "", (finished.stderr.strip().splitlines() or ["unreadable"])[-1]
    return finished.stdout, ""


def _archive_revision(file: Path) -> str | None:
    """Read the schema revision from the alembic_version table inside a pg_dump archive."""
    program = shutil.which("pg_restore")
    assert program is not None  # _archive_contents found it
    sql = subprocess.run(
        [program, "--data-only", "--table=alembic_version", "--file=-", str(file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    for number, line in enumerate(sql[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line:
            return sql[number + 1].strip()
    return None


def _restore_postgresql(file: Path, force: bool, stamp: str) -> tuple[str | None, Path | None]:
    """Replace every table with the archive's in one pg_restore transaction."""
    listing, problem = _archive_contents(file)
    if problem:
        raise BackupDamaged(str(file), problem)
    tables = set(re.findall(r" TABLE \S+ (\S+) ", listing))
    revision = _archive_revision(file)
    needs_migration = _check_revision(file, revision, tables)
    db.session.remove()
    db.engine.dispose()
    if not force:
        others = db.session.scalars(
            sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name <> :ours"
            ),
            {"ours": database.session_name()},
        ).all()
        db.session.rollback()
        _refuse_if_held(sorted(others))
    kept = _free_name(file.resolve().parent, f"checkin-replaced-{stamp}", "pgdump")
    database.create_private(kept)
    _dump_postgresql(kept)
    try:
        _replace_tables_with(file)
    except BackupToolFailed:
        _replace_tables_with(kept)
        raise
    if needs_migration:
        database.upgrade()
    return revision if needs_migration else None, kept


def _replace_tables_with(file: Path) -> None:
    """Drop checkin's tables, then restore the archive's in one transaction."""
    db.session.remove()
    db.engine.dispose()
    with db.engine.begin() as connection:
        for name in [database.MIGRATION_TABLE, *db.metadata.tables]:
            connection.execute(sa.text(f'DROP TABLE IF EXISTS "{name}" CASCADE'))
    _run("pg_restore", "--no-owner", "--single-transaction", "--exit-on-error", file)
