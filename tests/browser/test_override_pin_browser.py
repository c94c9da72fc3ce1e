"""The override with a PIN, in headless Chromium: on a paired tablet at a full quota, a check is
refused, a supervisor picks their name, types their PIN and the reason, and the door shows the
visitor admitted with a queue number; the entry log marks it. Offline, one line says why the
form is not there."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import User
from checkin.services import pairing, transaction
from tests.browser.conftest import MANAGER, LiveServer, screenshot, sign_in
from tests.browser.test_door_browser import check, next_visitor

pytestmark = pytest.mark.browser

PIN = "2468"


@pytest.fixture
def supervisor(server: LiveServer) -> Iterator[int]:
    """Give the site's manager a supervisor's PIN; take it away afterwards."""
    with server.app.app_context():
        manager = db.session.scalar(sa.select(User).where(User.username == MANAGER))
        with transaction.owned():
            pairing.set_supervisor_pin(manager, PIN, server.clock.now)
        manager_id = manager.id
    yield manager_id
    with server.app.app_context():
        db.session.get(User, manager_id).pin_hash = None
        db.session.commit()


def test_the_override_with_a_pin(open_door, browser, server, supervisor):
    server.set_quota(0)
    page = open_door(width=1024, height=768)
    check(page, "36,6", visitor_name="Ibu Sri")
    expect(page.locator("#answer.refused [data-reason=quota_full]")).to_be_visible()
    form = page.locator("#answer [data-supervisor-override]")
    expect(form).to_be_visible()
    expect(page.locator("#answer [data-override-offline]")).to_be_hidden()
    page.locator("label.supervisor", has_text=MANAGER).click()
    # A wrong PIN first: said under the PIN, in the page's language; nothing admitted.
    page.fill("#pin", "0000")
    page.select_option("#reason", "elderly")
    screenshot(page, "door-supervisor-override")
    form.locator("button[type=submit]").click()
    expect(page.locator("#pin-error")).to_have_text("PIN salah.")
    expect(page.locator(".verdict.refused")).to_be_visible()
    screenshot(page, "door-supervisor-wrong-pin")
    page.locator("label.supervisor", has_text=MANAGER).click()
    page.fill("#pin", PIN)
    page.select_option("#reason", "elderly")
    page.locator("[data-supervisor-override] button[type=submit]").click()
    expect(page.locator(".verdict.admitted #slot")).to_have_text("1")
    expect(page.locator(".flash.success")).to_contain_text(MANAGER)
    screenshot(page, "door-admitted-past-quota")

    manager = browser.new_context(viewport={"width": 1024, "height": 768})
    log = manager.new_page()
    log.goto(f"{server.url}/login")
    sign_in(log, MANAGER)
    log.wait_for_load_state()
    log.goto(f"{server.url}/manage/log")
    expect(log.locator("[data-override=elderly]")).to_be_visible()
    manager.close()

    # Offline the tablet decides alone and holds no slot: the form needs the server.
    page.click("#next")
    expect(page.locator("#temperature")).to_be_visible()
    page.context.set_offline(True)
    check(page, "36,6")
    expect(page.locator("#answer.refused [data-reason=no_offline_slot]")).to_be_visible()
    expect(page.locator("#answer [data-supervisor-override]")).to_be_hidden()
    expect(page.locator("#answer [data-override-offline]")).to_be_visible()
    page.context.set_offline(False)
    next_visitor(page)
