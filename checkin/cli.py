"""Flask commands: create the database, accounts, API tokens and a demo site."""

from __future__ import annotations

import random
from datetime import timedelta

import click
import flask_migrate
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup

from checkin import services
from checkin.demo import seed_history
from checkin.extensions import db
from checkin.models import ROLES, ApiToken, Site, User

DEMO_SITE = ("KDR", "BPJS Ketenagakerjaan Cabang Kediri", "Asia/Jakarta")
DEMO_ONLINE_URL = "https://www.bpjsketenagakerjaan.go.id/"
DEMO_ACCOUNTS = (
    ("door", "door", "pintu-demo-1"),
    ("door2", "door", "pintu-demo-2"),
    ("manager", "manager", "manajer-demo"),
    ("admin", "admin", "admin-demo"),
)
DEMO_HISTORY_DAYS = 90
SCHEMA_BEFORE_MIGRATIONS = "0001"

user_cli = AppGroup("user", help="Manage staff accounts.")
token_cli = AppGroup("token", help="Manage API tokens.")


@click.command("init-db")
def init_db() -> None:
    """Create the database, or bring an existing one up to the latest schema."""
    upgrade_database()
    click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")


def upgrade_database() -> None:
    """Apply the migrations not applied yet; adopt a database made before migrations existed."""
    tables = sa.inspect(db.engine).get_table_names()
    if "site" in tables and "alembic_version" not in tables:
        # Until migrations came in, init-db ran create_all, which made the first migration's schema.
        flask_migrate.stamp(revision=SCHEMA_BEFORE_MIGRATIONS)
    flask_migrate.upgrade()


def site_by_code(code: str | None) -> Site | None:
    """Return the site with ``code`` or stop with a clear message."""
    if code is None:
        return None
    site = db.session.scalar(sa.select(Site).where(Site.code == services.site_code(code)))
    if site is None:
        raise click.BadParameter(f"no site with code {code!r}", param_hint="--site")
    return site


def user_by_name(username: str) -> User:
    """Return the account called ``username`` or stop with a clear message."""
    user = db.session.scalar(sa.select(User).where(User.username == username))
    if user is None:
        raise click.BadParameter(f"no account {username!r}", param_hint="USERNAME")
    return user


@user_cli.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--site", "site_code", help="Code of the account's site (door and manager need one).")
@click.password_option(help="Asked for when not given.")
def add_user(username: str, role: str, site_code: str | None, password: str) -> None:
    """Create a staff account."""
    site = site_by_code(site_code)
    if role != "admin" and site is None:
        raise click.BadParameter(f"a {role} account needs --site", param_hint="--site")
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise click.BadParameter(f"{username!r} already exists", param_hint="USERNAME")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    services.add_user(username, role, password, site, by=None, now=current_app.config["CLOCK"]())
    click.echo(f"Added {role} {username}.")


@token_cli.command("add")
@click.argument("username")
@click.option("--label", default="", help="What the token is for, e.g. 'scanner at door 1'.")
def add_token(username: str, label: str) -> None:
    """Print a new API token for USERNAME (shown only this once)."""
    click.echo(services.issue_token(user_by_name(username), label))


@token_cli.command("list")
@click.argument("username")
def list_tokens(username: str) -> None:
    """List USERNAME's API tokens: id, label, when made, whether revoked (never the secret)."""
    user = user_by_name(username)
    tokens = db.session.scalars(
        sa.select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
    ).all()
    for token in tokens:
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}Z" if token.revoked_at else "active"
        click.echo(f"{token.id:>6}  {token.created_at:%Y-%m-%d %H:%M}Z  {state:24}  {token.label}")
    if not tokens:
        click.echo(f"{username} has no API tokens.")


@token_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
def revoke_token(token_id: int) -> None:
    """Revoke the API token TOKEN_ID (see `token list`) at once; it is kept, marked revoked."""
    revoked = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=current_app.config["CLOCK"]())
    )
    db.session.commit()
    if revoked.rowcount != 1:
        raise click.BadParameter(f"no active token {token_id}", param_hint="TOKEN_ID")
    click.echo(f"Revoked token {token_id}.")


@click.command("demo")
def demo() -> None:
    """Create a demo site with accounts and 90 days of history, unless it exists."""
    upgrade_database()
    code, name, timezone = DEMO_SITE
    if db.session.scalar(sa.select(Site.id).where(Site.code == code)) is None:
        site = services.add_site(code, name, timezone, online_service_url=DEMO_ONLINE_URL)
        now = current_app.config["CLOCK"]()
        staff = [
            services.add_user(username, role, password, site, by=None, now=now)
            for username, role, password in DEMO_ACCOUNTS
        ]
        today = site.local_day(now)
        count = seed_history(
            site,
            [user for user in staff if user.role == "door"],
            today - timedelta(days=DEMO_HISTORY_DAYS),
            today,
            random.Random(2020),
            until=now,
        )
        click.echo(f"Demo site {code} ({name}) created with {count} checks up to now.")
    else:
        click.echo(f"Demo site {code} exists already; nothing changed.")
    click.echo("Demo logins (username / password):")
    for username, role, password in DEMO_ACCOUNTS:
        click.echo(f"  {role:8} {username:8} / {password}")


@click.command("purge-personal")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help="Retention in days.",
)
def purge_personal(days: int) -> None:
    """Anonymise name, phone and NIK of checks older than the retention (safe to rerun)."""
    count = services.purge_personal(days, current_app.config["CLOCK"]())
    click.echo(f"Anonymised {count} checks older than {days} days; counts and decisions kept.")


def register(app: Flask) -> None:
    """Add the commands to ``app.cli``."""
    for command in (init_db, demo, purge_personal, user_cli, token_cli):
        app.cli.add_command(command)
