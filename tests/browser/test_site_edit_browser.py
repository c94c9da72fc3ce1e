"""Admins correct a site and move an account, in headless Chromium."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import User, utcnow
from checkin.services import accounts, transaction
from tests.browser.conftest import DOOR_ACCOUNTS, screenshot
from tests.browser.test_calendar_browser import signed_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

ADMIN = "admin-edit"


@pytest.fixture
def admin_server(server):
    """Return the live server with an admin; the site and the door account as before, after."""
    with server.app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == ADMIN)) is None:
            with transaction.owned():
                accounts.add_user(ADMIN, "admin", PASSWORD, None, by=None, now=utcnow())
        site = server.site()
        name = site.name
    yield server
    with server.app.app_context():
        site = server.site()
        site.name, site.daily_quota = name, 60
        door = db.session.scalar(sa.select(User).where(User.username == DOOR_ACCOUNTS[1]))
        door.role, door.site = "door", site
        db.session.commit()


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_an_admin_renames_a_site_and_makes_a_guard_a_manager(browser, admin_server, width, height):
    server = admin_server
    context, page = signed_in(browser, server, ADMIN, width, height)
    page.wait_for_url(f"{server.url}/manage/admin")
    page.click("a[href$='/manage/admin/sites/1']")
    page.fill("#name", "Kantor Cabang Kediri")
    page.fill("#daily_quota", "-5")
    page.click("form.settings button[type=submit]")
    expect(page.locator("#daily_quota[aria-invalid=true]")).to_be_visible()
    screenshot(page, "admin-site-edit-error")
    page.fill("#daily_quota", "45")
    page.click("form.settings button[type=submit]")
    page.wait_for_url(f"{server.url}/manage/admin")
    expect(page.locator("table").first).to_contain_text("Kantor Cabang Kediri")
    with server.app.app_context():
        door = db.session.scalar(sa.select(User).where(User.username == DOOR_ACCOUNTS[1]))
        door_id = door.id
    page.click(f"a[href$='/manage/admin/accounts/{door_id}']")
    page.select_option("#role", "manager")
    screenshot(page, "admin-account-edit")
    page.click("form.settings button[type=submit]")
    page.wait_for_url(f"{server.url}/manage/admin")
    with server.app.app_context():
        assert db.session.get(User, door_id).role == "manager"
    context.close()
