"""Contact tracing and the head-office page in headless Chromium, at tablet sizes."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import Site, User, utcnow
from checkin.services import accounts, checkins, sites, transaction
from checkin.services.checkins import CheckInData
from tests.browser.conftest import SCREENSHOTS, screenshot, sign_in
from tests.conftest import PASSING, PASSWORD

pytestmark = pytest.mark.browser

# Where the session that asked for this work looks at the screenshots.
SHOTS = Path("/work/shots/tracing")
SIZES = [(1024, 768), (800, 1280)]


def account(server, username: str, role: str) -> str:
    """Make an account of the door's site once (head office: of none); return its name."""
    with server.app.app_context():
        if db.session.scalar(sa.select(User).where(User.username == username)) is None:
            with transaction.owned():
                accounts.add_user(username, role, PASSWORD, server.site(), by=None, now=utcnow())
    return username


def seed_morning(server) -> None:
    """Check in a morning of visitors at Kediri, and a few at a second site."""
    with server.app.app_context():
        site = server.site()
        malang = db.session.scalar(sa.select(Site).where(Site.code == "MLG"))
        if malang is None:
            with transaction.owned():
                malang = sites.add_site("MLG", "BPJS Ketenagakerjaan Cabang Malang", daily_quota=40)
        people = [
            ("Siti Aminah", "081234567890", -50, True),
            ("Budi Santoso", "085712345678", -20, True),
            ("Dewi Lestari", "081398765432", 0, True),
            ("Agus Salim", "081211112222", 10, False),
            ("Rina Wati", "082233334444", 45, True),
            ("Siti Nurhaliza", "081355556666", 200, True),
        ]
        for name, phone, minutes, mask in people:
            data = CheckInData(**(PASSING | {"mask": mask}), visitor_name=name, phone=phone)
            with transaction.owned():
                checkins.check_in(site, None, data, server.clock.now + timedelta(minutes=minutes))
        for _visitor in range(3):
            with transaction.owned():
                checkins.check_in(malang, None, CheckInData(**PASSING), server.clock.now)


def logged_in(browser, server, username: str, width: int, height: int):
    """Seed the morning, open a browser of the given size and log in; return context and page."""
    seed_morning(server)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(f"{server.url}/login")
    sign_in(page, username)
    return context, page


def keep(name: str, width: int, height: int) -> None:
    """Copy a screenshot the conftest saved to where the screenshots are looked at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCREENSHOTS / f"{name}-{width}x{height}.png", SHOTS)


def fits(page, selector: str) -> None:
    """Assert that the table's wrapper needs no sideways scrolling."""
    wrap = page.locator(selector).locator("xpath=..")
    overflow = wrap.evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
    assert overflow <= 0, f"{selector} is {overflow} px wider than the screen"


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_manager_traces_a_visitor_and_who_was_there(browser, server, width, height):
    context, page = logged_in(browser, server, account(server, "manajer", "manager"), width, height)
    page.goto(f"{server.url}/manage/tracing")
    page.fill("input[name=name]", "siti")
    page.click(".filters button[type=submit]")
    rows = page.locator("table.tracing tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Siti Nurhaliza")
    if width >= 1024:
        fits(page, "table.tracing")
    screenshot(page, "tracing-search")
    keep("tracing-search", width, height)

    rows.nth(1).locator("a[href*='/manage/tracing/visits/']").click()
    page.wait_for_url("**/manage/tracing/visits/*")
    listed = page.locator("table.tracing tbody tr")
    # ±60 minutes around 09:10: Budi (09:40) and Dewi (10:00); Agus was refused.
    expect(listed).to_have_count(2)
    expect(page.locator("table.tracing")).not_to_contain_text("Agus")
    page.fill("input[name=window]", "120")
    page.click(".filters button[type=submit]")
    expect(listed).to_have_count(3)
    expect(page.locator("a.button[href*='contacts.xlsx']")).to_be_visible()
    screenshot(page, "tracing-same-time")
    keep("tracing-same-time", width, height)
    context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_head_office_sorts_every_site_and_reads_one(browser, server, width, height):
    context, page = logged_in(
        browser, server, account(server, "pusat", "head_office"), width, height
    )
    page.wait_for_url(f"{server.url}/headoffice")
    expect(page.locator("h1[data-refresh-seconds]")).to_have_attribute("data-refresh-seconds", "30")
    codes = page.locator("table.all-sites tbody tr td:first-child")
    expect(codes).to_have_text(["KDR", "MLG"])
    fits(page, "table.all-sites")
    fits(page, "table.month")
    # Kediri has 55 slots left and Malang 37: most left first, then turned around.
    page.locator("table.all-sites thead a[href*='sort=-left']").click()
    expect(page.locator("th[aria-sort=descending]")).to_have_count(1)
    expect(codes).to_have_text(["KDR", "MLG"])
    page.locator("table.all-sites thead a[href$='sort=left']").click()
    expect(page.locator("th[aria-sort=ascending]")).to_have_count(1)
    expect(codes).to_have_text(["MLG", "KDR"])
    screenshot(page, "headoffice")
    keep("headoffice", width, height)

    page.locator("table.all-sites tbody a", has_text="MLG").click()
    page.wait_for_url(f"{server.url}/manage/reports")
    expect(page.locator("h1")).to_contain_text("Malang")
    expect(page.locator(".manage-nav a")).to_have_count(
        3
    )  # all sites, the log (with its day summary), reports
    context.close()
