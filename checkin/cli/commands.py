"""Flask commands: the database, sites, accounts, API tokens, the demo, the privacy purge,
backups and restores.

Every command calls a service; a rule the service applies refuses here in the same words.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale

from checkin.cli.demo import seed_history
from checkin.domain import admission, limits
from checkin.domain.errors import ServiceError
from checkin.domain.roles import Role
from checkin.models import ROLES, TOKEN_SCOPES
from checkin.services import accounts, backups, database, display, privacy, sites, transaction
from checkin.words.errors import error_text

DEMO_SITE = ("KDR", "BPJS Ketenagakerjaan Cabang Kediri", "Asia/Jakarta")
DEMO_ONLINE_URL = "https://www.bpjsketenagakerjaan.go.id/"
# Each demo account is named after its role ("door", "door2", ...).
DEMO_ACCOUNTS = (
    (f"{Role.DOOR}", Role.DOOR, "pintu-demo-1"),
    (f"{Role.DOOR}2", Role.DOOR, "pintu-demo-2"),
    (f"{Role.OFFICER}", Role.OFFICER, "petugas-demo-1"),
    (f"{Role.OFFICER}2", Role.OFFICER, "petugas-demo-2"),
    (f"{Role.MANAGER}", Role.MANAGER, "manajer-demo"),
    (f"{Role.ADMIN}", Role.ADMIN, "admin-demo"),
)
DEMO_HISTORY_DAYS = 90
DEMO_DISPLAY = "TV ruang tunggu (demo)"

# Where each service error's input is on the command line.
PARAMETER_OF = {
    "code": "CODE",
    "name": "--name",
    "timezone": "--timezone",
    "daily_quota": "--quota",
    "site": "--site",
    "username": "USERNAME",
    "display_name": "--display-name",
    "password": "--password",
    "token_id": "TOKEN_ID",
    "scope": "--scope",
    "older_than": "--older-than",
    "folder": "--to",
    "file": "FILE",
}
# The command line names its option where the pages name a field.
CLI_WORDS = {"site_required": "a door, officer or manager account needs --site"}

site_cli = AppGroup("site", help="Manage sites (offices).")
user_cli = AppGroup("user", help="Manage staff accounts.")
token_cli = AppGroup("token", help="Manage API tokens.")


def clock() -> Any:
    """Return the app's current instant."""
    return current_app.config["CLOCK"]()


def explained(command: Callable) -> Callable:
    """Turn a service's refusal into a usage error (exit code 2) that says why.

    An error of no argument (the machine's: a program missing, the database in use) exits 1.
    """

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ServiceError as error:
            with force_locale("en"):
                words = CLI_WORDS.get(error.code) or error_text(error)
            if error.field is None:
                raise click.ClickException(words) from error
            raise click.BadParameter(words, param_hint=PARAMETER_OF.get(error.field)) from error

    return run


@click.command("init-db")
def init_db() -> None:
    """Create the database, or bring an existing one up to the latest schema."""
    database.upgrade()
    click.echo(f"Database ready: {database.location()}")


@site_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help='The office\'s name, e.g. "Kantor Cabang Malang".')
@click.option(
    "--timezone",
    type=click.Choice(list(limits.TIMEZONES)),
    default="Asia/Jakarta",
    show_default=True,
)
@click.option(
    "--quota",
    type=click.IntRange(0, limits.MAX_QUOTA),
    default=admission.DEFAULT_DAILY_QUOTA,
    show_default=True,
    help="Walk-in slots per day.",
)
@explained
def add_site(code: str, name: str, timezone: str, quota: int) -> None:
    """Create a site with the code CODE (2 to 20 capital letters or digits)."""
    with transaction.owned():
        site = sites.add_site(code, name, timezone, daily_quota=quota)
    click.echo(f"Added site {site.code} ({site.name}), {site.timezone}, quota {quota} a day.")


@site_cli.command("edit")
@click.argument("code")
@click.option("--name", help="The office's new name.")
@click.option("--timezone", help="An IANA time zone, e.g. Asia/Makassar.")
@click.option(
    "--quota",
    type=click.IntRange(max=limits.MAX_QUOTA),
    help="Walk-in slots on a usual day; applies to today at once.",
)
@explained
def edit_site(code: str, name: str | None, timezone: str | None, quota: int | None) -> None:
    """Change the name, time zone or usual quota of the site CODE."""
    if name is None and timezone is None and quota is None:
        raise click.UsageError("Say what to change: --name, --timezone or --quota.")
    site = sites.site_coded(code)
    with transaction.owned():
        changes = sites.edit_site(
            site, None, clock(), name=name, timezone=timezone, daily_quota=quota
        )
    for field, (before, after) in changes.items():
        click.echo(f"{site.code} {field}: {before} -> {after}")
    if not changes:
        click.echo(f"{site.code} already has these settings; nothing changed.")


@site_cli.command("list")
def list_sites() -> None:
    """List every site: code, time zone, daily quota and name."""
    found = sites.all_sites()
    for site in found:
        click.echo(f"{site.code:20}  {site.timezone:16}  {site.daily_quota:>6}  {site.name}")
    if not found:
        click.echo("No sites yet: add one with `flask --app checkin site add CODE --name NAME`.")


@user_cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--site", "site_code", help="Code of the account's site (door and manager need one).")
@click.option(
    "--display-name", help="The name staff see, e.g. on the door's buttons (default: USERNAME)."
)
@click.password_option(help="Asked for when not given.")
@explained
def add_user(
    username: str, role: str, site_code: str | None, display_name: str | None, password: str
) -> None:
    """Create a staff account."""
    site = sites.site_coded(site_code) if site_code is not None else None
    with transaction.owned():
        accounts.add_user(
            username, role, password, site, by=None, now=clock(), display_name=display_name
        )
    click.echo(f"Added {role} {username}.")


@token_cli.command("add")
@click.argument("username")
@click.option("--label", default="", help="What the token is for, e.g. 'scanner at door 1'.")
@click.option(
    "--scope",
    "scopes",
    type=click.Choice(TOKEN_SCOPES),
    multiple=True,
    default=("checkin",),
    show_default=True,
    help="checkin: post checks, read the quota; read: the log and reports; bookings: make,"
    " list and cancel bookings. Repeat for more than one.",
)
@explained
def add_token(username: str, label: str, scopes: tuple[str, ...]) -> None:
    """Print a new API token for USERNAME (shown only this once)."""
    with transaction.owned():
        secret = accounts.issue_token(accounts.account_named(username), label, scopes)
    click.echo(secret)


@token_cli.command("list")
@click.argument("username")
@explained
def list_tokens(username: str) -> None:
    """List USERNAME's API tokens: id, label, when made, whether revoked (never the secret)."""
    tokens = accounts.tokens_of(accounts.account_named(username))
    for token in tokens:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}Z" if token.revoked_at else "active"
        line = f"{token.id:>6}  {token.created_at:%Y-%m-%d %H:%M}Z  {state:24}  {token.scopes:13}"
        click.echo(f"{line}  {token.label}".rstrip())
    if not tokens:
        click.echo(f"{username} has no API tokens.")


@token_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@explained
def revoke_token(token_id: int) -> None:
    """Revoke the API token TOKEN_ID (see `token list`) at once; it is kept, marked revoked."""
    with transaction.owned():
        accounts.revoke_token(token_id, clock())
    click.echo(f"Revoked token {token_id}.")


@click.command("demo")
@click.option(
    "--url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="Where the app will be served, for the display link.",
)
@click.option(
    "--days",
    type=click.IntRange(0, 366),
    default=DEMO_HISTORY_DAYS,
    show_default=True,
    help="How many days of history before today's morning to make.",
)
def demo(url: str, days: int) -> None:
    """Create a demo site with accounts and some days of history (90 by default), unless it
    exists."""
    database.upgrade()
    code, name, timezone = DEMO_SITE
    now = clock()
    if any(site.code == code for site in sites.all_sites()):
        site = sites.site_coded(code)
        click.echo(f"Demo site {code} exists already; nothing changed but its display link.")
    else:
        with transaction.owned():
            site = sites.add_site(code, name, timezone, online_service_url=DEMO_ONLINE_URL)
            staff = [
                accounts.add_user(username, role, password, site, by=None, now=now)
                for username, role, password in DEMO_ACCOUNTS
            ]
        today = site.local_day(now)
        count = seed_history(
            site,
            [user for user in staff if user.role == Role.DOOR],
            today - timedelta(days=days),
            today,
            random.Random(2020),
            until=now,
            officers=tuple(user for user in staff if user.role == Role.OFFICER),
        )
        click.echo(f"Demo site {code} ({name}) created with {count} checks up to now.")
    click.echo("Demo logins (username / password):")
    for username, role, password in DEMO_ACCOUNTS:
        click.echo(f"  {role:8} {username:8} / {password}")
    # A display's secret is shown once only, so each start makes a new link and ends the last.
    # The link belongs to a manager of the site (a display shows its maker's site).
    manager = next(
        (
            user
            for user in accounts.directory().accounts
            if user.site_id == site.id and user.role == Role.MANAGER and user.active
        ),
        None,
    )
    if manager is None:
        click.echo(f"No active manager at {code}: make a display link on /manage/displays.")
        return
    with transaction.owned():
        for token in display.display_tokens(site):
            if token.label == DEMO_DISPLAY:
                display.revoke_display_token(site, token.id, manager, now)
        secret = display.issue_display_token(site, DEMO_DISPLAY, manager, now)
    click.echo(f"Waiting-room display (a TV): {url.rstrip('/')}/display?token={secret}")


@click.command("purge-personal")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=limits.RETENTION_DAYS,
    show_default=True,
    help="Retention in days (the public booking page tells visitors the default).",
)
@explained
def purge_personal(days: int) -> None:
    """Anonymise name, phone and NIK of checks older than the retention and delete older
    bookings (safe to rerun)."""
    with transaction.owned():
        purged = privacy.purge_personal(days, clock())
    privacy.empty_write_ahead_log()
    click.echo(
        f"Anonymised {purged.checks} checks and deleted {purged.bookings} bookings older than"
        f" {days} days; counts and decisions kept."
    )


@click.command("backup")
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the backups (default: backups/ in the instance folder).",
)
@click.option(
    "--keep",
    type=click.IntRange(min=1),
    default=backups.DEFAULT_KEEP,
    show_default=True,
    help="How many backups to keep in the folder; older ones are removed.",
)
@explained
def backup(folder: Path | None, keep: int) -> None:
    """Write a consistent copy of the database while the app keeps serving."""
    if folder is None:
        folder = Path(current_app.instance_path) / "backups"
        folder.mkdir(mode=0o700, exist_ok=True)
    written = backups.backup(folder, keep, clock())
    click.echo(f"Wrote {written.path} ({written.size:,} bytes).")
    for path in written.removed:
        click.echo(f"Removed {path}, older than the newest {keep}.")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore even while other processes use the database.")
@explained
def restore(file: Path, force: bool) -> None:
    """Replace the database with the backup FILE, keeping the replaced one beside it."""
    restored = backups.restore(file, force, clock())
    if restored.migrated_from:
        click.echo(f"Migrated the backup from schema revision {restored.migrated_from}.")
    click.echo(
        f"Restored {file}: {restored.sites} sites, {restored.accounts} accounts, "
        f"{restored.checks} checks over {restored.days} days."
    )
    if restored.kept:
        click.echo(f"The database it replaced is kept at {restored.kept}.")


def register(app: Flask) -> None:
    """Add the commands to ``app.cli``."""
    commands = (init_db, demo, purge_personal, backup, restore, site_cli, user_cli, token_cli)
    for command in commands:
        app.cli.add_command(command)
