"""The office calendar in headless Chromium: the manager's settings and the door on a closed day."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import ClosedDay, User, WeekdayQuota, utcnow
from checkin.services import accounts, transaction
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD
from tests.test_office_calendar import CHRISTMAS, local

pytestmark = pytest.mark.browser

MANAGER = "manajer-kalender"


@pytest.fixture
def calendar_server(server):
    """Return the live server with a manager and an empty calendar, emptied again afterwards."""

    def empty() -> None:
        with server.app.app_context():
            db.session.execute(sa.delete(ClosedDay))
            db.session.execute(sa.delete(WeekdayQuota))
            db.session.commit()

    empty()
    with server.app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == MANAGER)) is None:
            site = server.site()
            with transaction.owned():
                accounts.add_user(MANAGER, "manager", PASSWORD, site, by=None, now=utcnow())
    yield server
    empty()
    server.reset()


def signed_in(browser, server, username: str, width: int, height: int):
    """Return a new browser context of the given size, and its page logged in as ``username``."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    sign_in(page, username)
    return context, page


def closed_days(server) -> set[date]:
    with server.app.app_context():
        return set(db.session.scalars(sa.select(ClosedDay.day)))


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_a_manager_closes_the_office_on_holidays_weekdays_and_a_local_day(
    browser, calendar_server, width, height
):
    server = calendar_server
    context, page = signed_in(browser, server, MANAGER, width, height)
    page.goto(f"{server.url}/manage/settings")
    page.fill("#weekdays-saturday-quota", "30")
    page.check("#weekdays-sunday-closed")
    page.click("form.settings button[type=submit]")
    expect(page.locator("#weekdays-saturday-quota")).to_have_value("30")
    expect(page.locator("#weekdays-sunday-closed")).to_be_checked()
    page.check("input[name=closed][value='2026-12-24']")
    page.check("input[name=closed][value='2026-12-25']")
    page.click("form.holidays button[type=submit]")
    expect(page.locator("input[name=closed][value='2026-12-25']")).to_be_checked()
    page.fill("#day", "2026-12-02")
    page.fill("#label", "Banjir di Kediri")
    page.click(".closed-days .inline-form button[type=submit]")
    expect(page.locator(".closed-list li")).to_have_count(1)
    assert closed_days(server) == {date(2026, 12, 2), date(2026, 12, 24), CHRISTMAS}
    expect(page.locator("input[name=closed][value='2026-08-17']")).to_be_disabled()
    expect(page.locator(".error-page")).to_have_count(0)
    screenshot(page, "settings-calendar")
    context.close()


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_the_door_says_the_office_is_closed_on_a_ticked_holiday(
    calendar_server, open_door, width, height
):
    server = calendar_server
    with server.app.app_context():
        site = server.site()
        db.session.add(ClosedDay(site_id=site.id, day=CHRISTMAS, label="Natal", holiday=True))
        db.session.commit()
    server.clock.now = local(CHRISTMAS, 9)
    page = open_door(width=width, height=height)
    banner = page.locator("#closed-today")
    expect(banner).to_be_visible()
    expect(banner.locator("img")).to_be_visible()
    expect(page.locator("#quota-full")).to_have_count(0)
    screenshot(page, "door-closed")
