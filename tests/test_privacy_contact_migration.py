"""Migration 0018 gives sites their privacy contact, empty for a site of 0017, that holds the
longest contact allowed; down again the site stays, on both engines."""

from __future__ import annotations

import flask_migrate
import sqlalchemy as sa

from checkin.domain import limits
from checkin.extensions import db
from checkin.models import Site
from tests.test_booking_migration import empty_database
from tests.test_migrations import applied_revision, insert_old_site

__all__ = ["empty_database"]  # the fixture the test asks for
# The longest contact allowed, of letters PostgreSQL stores in two bytes each.
LONGEST = "é" * limits.MAX_PRIVACY_CONTACT


def site_columns() -> set[str]:
    return {column["name"] for column in sa.inspect(db.engine).get_columns("site")}


def test_upgrading_to_0018_gives_sites_no_contact_until_a_manager_sets_one(empty_database, clock):
    flask_migrate.upgrade(revision="0017")
    with db.engine.begin() as connection:
        insert_old_site(connection, clock.now)
    flask_migrate.upgrade(revision="0018")
    assert applied_revision() == "0018" and "privacy_contact" in site_columns()
    site = db.session.scalar(sa.select(Site))
    assert site.privacy_contact is None
    site.privacy_contact = LONGEST
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT privacy_contact FROM site")) == LONGEST
    flask_migrate.downgrade(revision="0017")
    assert applied_revision() == "0017" and "privacy_contact" not in site_columns()
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT name FROM site")) == "Kediri"
