"""A site's privacy contact (issue 28, item 9) on both engines: a manager sets and clears it on
the settings page, trimmed and audited; bad input is refused in the reader's language and
stores nothing; the public booking page's notice names it, or the office's staff without one."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from markupsafe import escape

from checkin.domain import limits
from checkin.domain.errors import InvalidPrivacyContact
from checkin.extensions import db
from checkin.models import AuditEntry, Site
from checkin.services import sites, transaction
from checkin.words.errors import error_text
from tests.test_booking_page import PAGE, page_on
from tests.test_security import logged_in

__all__ = ["page_on"]  # the fixture the tests ask for
SETTING = "/manage/settings/privacy-contact"
FIELD = "privacy-privacy_contact"
CONTACT = "Data protection officer, pdp@bpjs.example, 021-555-0101"
LONGEST = "x" * limits.MAX_PRIVACY_CONTACT


def stored_contact() -> str | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(Site.privacy_contact))


def settings_changes() -> list[dict]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.detail)
            .where(AuditEntry.action == "settings")
            .order_by(AuditEntry.id)
        )
    )


def notice_of(html: str) -> str:
    """Return the public page's personal-data notice."""
    return re.search(r"<section[^>]*data-privacy-notice.*?</section>", html, re.S).group(0)


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        (CONTACT, CONTACT),
        (f"  {CONTACT}  ", CONTACT),
        (f"\t{LONGEST} ", LONGEST),
        ("Petugas PDP — pdp@bpjs.example", "Petugas PDP — pdp@bpjs.example"),
    ],
)
def test_a_manager_sets_the_contact_trimmed_and_clears_it_each_change_audited(
    app, site, manager_user, typed, kept
):
    manager = logged_in(app, manager_user)
    saved = manager.post(SETTING, data={FIELD: typed})
    assert saved.status_code == 302 and saved.location.endswith("#privacy-contact")
    assert stored_contact() == kept
    assert f'value="{escape(kept)}"' in manager.get("/manage/settings").text
    assert manager.post(SETTING, data={FIELD: kept}).status_code == 302  # no change, no entry
    assert manager.post(SETTING, data={FIELD: "   "}).status_code == 302
    assert stored_contact() is None
    assert settings_changes() == [
        {"privacy_contact": [None, kept]},
        {"privacy_contact": [kept, None]},
    ]


def test_the_audit_log_says_what_the_contact_was_and_became(app, site, manager_user):
    manager = logged_in(app, manager_user)
    manager.post(SETTING, data={FIELD: CONTACT})
    audit = manager.get("/manage/audit?lang=en").text
    assert f"Contact for questions about personal data: – → {CONTACT}" in audit


@pytest.mark.parametrize("language", ["en", "id"])
@pytest.mark.parametrize(
    "typed",
    [
        LONGEST + "x",
        "pdp@bpjs.example\n021-555-0101",
        "pdp@bpjs.example\r021-555-0101",
        "pdp@bpjs.example\t021-555-0101",
        "pdp@bpjs.example\x00",
        "pdp@bpjs.example\x1b[2J",
        "pdp@bpjs.example\x7f",
        "pdp@bpjs.example\x85021-555-0101",  # NEL, a line break of Unicode's
        "\u202epdp@bpjs.example",  # turns the line around
        "pdp@\u200bbpjs.example",  # invisible
        "pdp@bpjs.example\u2028021-555-0101",  # Unicode's line separator
        "pdp@bpjs.example\u2029021-555-0101",  # and its paragraph separator
        "pdp@bpjs.example\U000e0041\U000e0042",  # tag characters, shown as nothing
        "pdp@\u3164bpjs.example",  # a Hangul filler, blank
    ],
    ids=lambda typed: repr(typed[-24:]),
)
def test_bad_input_is_refused_in_the_readers_language_and_stores_nothing(
    app, site, manager_user, clock, typed, language
):
    with transaction.owned():
        sites.set_privacy_contact(site, CONTACT, None, clock.now)
    manager = logged_in(app, manager_user)
    refused = manager.post(f"{SETTING}?lang={language}", data={FIELD: typed})
    assert refused.status_code == 400
    with app.test_request_context(), force_locale(language):
        words = error_text(InvalidPrivacyContact(limits.MAX_PRIVACY_CONTACT))
    assert str(escape(words)) in refused.text
    assert stored_contact() == CONTACT
    assert settings_changes() == [{"privacy_contact": [None, CONTACT]}]


@pytest.mark.parametrize("language", ["en", "id"])
def test_the_public_notice_names_the_contact_escaped_before_the_button(
    client, page_on, clock, language
):
    contact = "<b>DPO</b> & co, pdp@bpjs.example"
    with transaction.owned():
        sites.set_privacy_contact(page_on, contact, None, clock.now)
    page = client.get(f"{PAGE}?lang={language}").text
    notice = notice_of(page)
    assert "data-privacy-contact" in notice and "data-privacy-ask-staff" not in notice
    assert str(escape(contact)) in notice and contact not in page
    assert page.index("data-privacy-contact") < page.index('type="submit" class="primary"')


@pytest.mark.parametrize("language", ["en", "id"])
def test_without_a_contact_the_notice_sends_visitors_to_the_offices_staff(
    client, page_on, language
):
    notice = notice_of(client.get(f"{PAGE}?lang={language}").text)
    assert "data-privacy-ask-staff" in notice and "data-privacy-contact" not in notice
    assert page_on.name in notice
