"""Pairing a door tablet with a manager's code, then staff logging in by name and PIN."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import User, Visit
from checkin.services import accounts, pairing, transaction
from tests.browser.conftest import DOOR_ACCOUNTS, PASSWORD, screenshot, sign_in
from tests.browser.test_door_browser import check

pytestmark = pytest.mark.browser

MANAGER = "kepala"
PINS = {DOOR_ACCOUNTS[0]: "2468", DOOR_ACCOUNTS[1]: "135790"}
SIZES = ((1024, 768), (800, 1280))


@pytest.fixture
def staff(server):
    """Give the door accounts their PINs and add a manager, once per server."""
    with server.app.app_context():
        site = server.site()
        manager = db.session.scalar(sa.select(User).where(User.username == MANAGER))
        if manager is None:
            with transaction.owned():
                manager = accounts.add_user(
                    MANAGER, "manager", PASSWORD, site, by=None, now=server.clock.now
                )
        for username, pin in PINS.items():
            user = accounts.account_named(username)
            with transaction.owned():
                pairing.set_pin(site, user.id, pin, manager, server.clock.now)


def shoot(page, name: str) -> None:
    """Screenshot the page at both tablet sizes, and keep a copy for review."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, name)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


def type_pin(page, pin: str) -> None:
    """Tap a PIN on the door keypad."""
    for digit in pin:
        page.click(f".keypad button[data-key='{digit}']")


def test_a_tablet_paired_with_a_manager_s_code_lets_staff_tap_their_name_and_pin(
    browser, server, staff
):
    manager_context = browser.new_context(viewport={"width": 1024, "height": 768})
    tablet_context = browser.new_context(viewport={"width": 1024, "height": 768})
    try:
        desk = manager_context.new_page()
        desk.goto(f"{server.url}/login")
        desk.click("button[lang=en]")
        sign_in(desk, MANAGER)
        desk.goto(f"{server.url}/manage/tablets")
        desk.click("text=Pair a tablet")
        code = desk.locator(".pairing-code code").inner_text()
        expect(desk.locator(".pairing-code-card img")).to_be_visible()
        shoot(desk, "pairing-code")

        tablet = tablet_context.new_page()
        tablet.goto(f"{server.url}/pair")
        tablet.click("button[lang=en]")
        tablet.fill("#code", code)
        tablet.fill("#name", "Front door")
        tablet.click("button[type=submit].primary")
        tablet.wait_for_url(f"{server.url}/door/staff")
        expect(tablet.locator(".names .name")).to_have_text(list(DOOR_ACCOUNTS))
        shoot(tablet, "pairing-staff-names")

        tablet.click(f"text={DOOR_ACCOUNTS[0]}")
        expect(tablet.locator(".keypad.digits")).to_be_visible()
        type_pin(tablet, "11")
        shoot(tablet, "pairing-pin-pad")
        type_pin(tablet, "11")
        tablet.click("button[type=submit].primary")
        expect(tablet.locator("#pin-error")).to_have_text("Wrong PIN.")
        type_pin(tablet, PINS[DOOR_ACCOUNTS[0]])
        tablet.click("button[type=submit].primary")
        tablet.wait_for_url(f"{server.url}/")

        check(tablet, "36.6")
        expect(tablet.locator("#answer.admitted")).to_be_visible()
        tablet.click("form.logout button")
        tablet.wait_for_url(f"{server.url}/door/staff")
        tablet.click(f"text={DOOR_ACCOUNTS[1]}")
        type_pin(tablet, PINS[DOOR_ACCOUNTS[1]])
        tablet.click("button[type=submit].primary")
        tablet.wait_for_url(f"{server.url}/")
        expect(tablet.locator(".logout button")).to_contain_text(DOOR_ACCOUNTS[1])

        with server.app.app_context():
            visit = db.session.scalar(sa.select(Visit))
            assert visit.recorded_by.username == DOOR_ACCOUNTS[0]
            assert visit.device_id is not None
            desk.goto(f"{server.url}/manage/tablets")
            expect(desk.locator("table.tablets")).to_contain_text("Front door")
            shoot(desk, "pairing-tablets")
    finally:
        manager_context.close()
        tablet_context.close()
