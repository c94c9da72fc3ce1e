"""Flask commands of the booking channel: import a file of bookings, release unclaimed places.

Each command calls the booking service in one transaction (``transaction.owned``); what it
prints is in the language of the user's shell (LANGUAGE, LC_ALL, LC_MESSAGES or LANG: Indonesian
for "id", else English).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup
from flask_babel import force_locale

from checkin.cli.commands import PARAMETER_OF, clock
from checkin.domain import limits
from checkin.domain.errors import ServiceError
from checkin.services import bookings, sites, transaction
from checkin.words import booking_words
from checkin.words.errors import error_text

bookings_cli = AppGroup("bookings", help="Booked visits: import them, release unclaimed places.")


def shell_language() -> str:
    """Return the user's language as their shell sets it: "id" for Indonesian, else "en"."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if value:
            return "id" if value.lower().startswith("id") else "en"
    return "en"


def in_shell_language(command: Callable) -> Callable:
    """Run a command in the user's language; a service's refusal is a usage error saying why."""

    @wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        with force_locale(shell_language()):
            try:
                return command(*args, **kwargs)
            except ServiceError as error:
                raise click.BadParameter(
                    error_text(error), param_hint=PARAMETER_OF.get(error.field or "", None)
                ) from error

    return run


@bookings_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", "site_code", required=True, help="Code of the site the bookings are for.")
@in_shell_language
def import_bookings(file: Path, site_code: str) -> None:
    """Import the bookings in FILE, a CSV whose first line is
    date,session,name,phone,nik_last4,purpose,external_ref, optionally followed by kind and
    contact (all rows or none)."""
    site = sites.site_coded(site_code)
    with file.open("rb") as opened:
        content = opened.read(limits.MAX_IMPORT_BYTES + 1)
    with transaction.owned():
        report = bookings.import_file(site, content, None, clock())
    lines = booking_words.report_lines(report.imported, report.already, report.refused)
    for line in lines:
        click.echo(line, err=bool(report.refused))
    if report.refused:
        raise click.exceptions.Exit(1)


@bookings_cli.command("release")
@click.option("--site", "site_code", help="Code of the site.")
@click.option(
    "--due",
    is_flag=True,
    help="Every site that takes bookings and whose release time has come (for a timer).",
)
@in_shell_language
def release(site_code: str | None, due: bool) -> None:
    """Give today's booked places not claimed to walk-ins (from the site's release time; once)."""
    if (site_code is None) == (not due):
        raise click.UsageError(booking_words.release_needs_one_choice())
    if due:
        with transaction.owned():
            done = bookings.release_due(clock())
        for site, released in done:
            click.echo(f"{site.code}: {booking_words.release_text(released.places)}")
        return
    site = sites.site_coded(site_code)
    with transaction.owned():
        released = bookings.release_unclaimed(site, None, clock())
    click.echo(booking_words.release_text(released.places))
