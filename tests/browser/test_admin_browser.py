"""The admin page in headless Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import User, utcnow
from checkin.services import accounts, transaction
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def siteless_admin(server):
    """Return the username of an admin who belongs to no site."""
    with server.app.app_context():
        if db.session.query(User).filter_by(username="root").first() is None:
            with transaction.owned():
                accounts.add_user("root", "admin", PASSWORD, None, by=None, now=utcnow())
    return "root"


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_an_admin_of_no_site_logs_in_to_the_admin_page(
    browser, server, siteless_admin, width, height
):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    sign_in(page, siteless_admin)
    page.wait_for_url(f"{server.url}/manage/admin")
    expect(page.locator("h1")).to_have_text("Kantor dan akun")
    expect(page.locator(".error-page")).to_have_count(0)
    screenshot(page, "admin-siteless")
    context.close()
