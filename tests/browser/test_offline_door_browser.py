"""The door with the network gone, in headless Chromium: served by its service worker, deciding
by the leased rules, keeping checks in IndexedDB through a browser restart, then uploading."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin import admission
from checkin.extensions import db
from checkin.models import LeasedSlot, Visit
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, screenshot, sign_in

pytestmark = pytest.mark.browser

TOGGLES = ("hand_sanitiser", "mask", "distancing")


def check(page, temperature: str, ticks=TOGGLES) -> None:
    """Type a reading, tap the given toggles and submit."""
    page.fill("#temperature", temperature)
    for toggle in ticks:
        page.click(f"label[for={toggle}]")
    page.click("button.submit")
    expect(page.locator("#offline-answer")).to_be_visible()


def next_visitor(page) -> None:
    page.click("#offline-actions [data-next]")
    expect(page.locator("#temperature")).to_be_visible()


def stored(server) -> list[tuple]:
    with server.app.app_context():
        visits = db.session.scalars(sa.select(Visit).order_by(Visit.checked_at, Visit.id))
        return [(visit.status, visit.reasons, visit.slot, visit.checked_at) for visit in visits]


def stored_soon(server, count: int) -> list[tuple]:
    """Return the stored checks once there are ``count`` of them, or after ten seconds."""
    deadline = time.monotonic() + 10
    while len(rows := stored(server)) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows


def leased(server) -> int:
    with server.app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(LeasedSlot))


@pytest.fixture
def tablet(browser, server, tmp_path):
    """Open a door tablet with a profile kept on disk, so that it can be restarted."""
    contexts = []

    def start(width: int = 1024, height: int = 768):
        context = browser.browser_type.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        contexts.append(context)
        return context, context.pages[0] if context.pages else context.new_page()

    yield start
    for context in contexts:
        context.close()


def test_the_door_records_offline_within_its_lease_and_uploads_after_a_restart(server, tablet):
    # The browser's clock is the real one: let the server's agree with it.
    server.clock.now = datetime.now(UTC)
    # Four slots and one tablet: its fair share, and so its lease, is two.
    server.set_quota(4)
    context, page = tablet()
    page.goto(f"{server.url}/")
    sign_in(page, "pintu1")
    page.wait_for_url(f"{server.url}/")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    expect(page.locator("#counter [data-left]")).to_have_text("2")  # the lease took two
    assert leased(server) == 2

    context.set_offline(True)
    page.reload()  # served by the service worker
    expect(page.locator("#connection")).to_contain_text("Luring")
    started = datetime.now(UTC)
    check(page, "36,6")
    expect(page.locator("#offline-answer h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#offline-answer [data-slot]")).to_have_text("1")
    screenshot(page, "door-offline-admitted")
    page.set_viewport_size({"width": 800, "height": 1280})
    screenshot(page, "door-offline-admitted")
    next_visitor(page)
    check(page, "36,8")
    expect(page.locator("#offline-answer [data-slot]")).to_have_text("2")
    next_visitor(page)
    check(page, "36,5", ticks=("hand_sanitiser", "distancing"))
    expect(page.locator("#offline-answer h1:visible")).to_have_text("DITOLAK")
    expect(page.locator("#offline-answer [data-reason=no_mask]")).to_be_visible()
    next_visitor(page)
    check(page, "36,7")
    expect(page.locator("#offline-answer [data-reason=no_offline_slot]")).to_be_visible()
    expect(page.locator("#connection")).to_contain_text("4 pemeriksaan menunggu diunggah")
    next_visitor(page)
    screenshot(page, "door-offline-waiting")
    page.set_viewport_size({"width": 1024, "height": 768})
    screenshot(page, "door-offline-waiting")
    finished = datetime.now(UTC)
    assert stored(server) == []

    context.close()
    context, page = tablet()  # the tablet restarts, back online: staff log in again
    page.goto(f"{server.url}/")
    sign_in(page, "pintu1")
    page.wait_for_url(f"{server.url}/")
    rows = stored_soon(server, 4)
    expect(page.locator("#connection")).to_be_hidden()
    assert [row[:3] for row in rows] == [
        (admission.ADMITTED, [], 1),
        (admission.ADMITTED, [], 2),
        (admission.REFUSED, [admission.NO_MASK], None),
        (admission.REFUSED, [admission.NO_OFFLINE_SLOT], None),
    ]
    assert all(started <= row[3] <= finished for row in rows)
    assert (
        page.evaluate(
            """() => new Promise(resolve => {
            const open = indexedDB.open("checkin-door");
            open.onsuccess = () => {
                const count = open.result.transaction("outbox").objectStore("outbox").count();
                count.onsuccess = () => resolve(count.result);
            };
        })"""
        )
        == 0
    )


# Readings typed as staff type them, with the ticks given: rounding, the cut-off, the range.
CASES = [
    ("36,6", TOGGLES),
    ("37.25", TOGGLES),
    ("37,24", TOGGLES),
    ("37,3", ("hand_sanitiser", "mask")),
    ("41.96", TOGGLES),
    ("36,", ()),
    ("38", ("mask",)),
]
IMPLAUSIBLE = ["33,9", "42,1", "abc"]


def test_the_tablet_decides_by_the_same_rules_as_the_server(open_door, server):
    server.clock.now = datetime.now(UTC)  # the lease is of the browser's day
    page = open_door()
    expect(page.locator("#counter [data-left]")).to_have_text("55")  # the lease is held
    page.context.set_offline(True)
    for typed, ticks in CASES:
        check(page, typed, ticks)
        reading = admission.Reading(
            admission.to_decicelsius(typed.replace(",", ".")), *(name in ticks for name in TOGGLES)
        )
        expected = admission.screen(reading, admission.Policy())
        shown = page.locator("#offline-answer h1:visible").get_attribute("data-status")
        reasons = page.locator("#offline-answer [data-reason]:visible").evaluate_all(
            "items => items.map(item => item.dataset.reason)"
        )
        listed = expected.reasons if expected.status == admission.REFUSED else ()
        assert (shown, tuple(reasons)) == (expected.status, listed), typed
        next_visitor(page)
    for typed in IMPLAUSIBLE:
        page.fill("#temperature", typed)
        page.click("button.submit")
        expect(page.locator("#temperature")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#offline-answer")).to_be_hidden()
    expect(page.locator("#connection")).to_contain_text(f"{len(CASES)} pemeriksaan")


def test_a_visitor_measured_offline_is_re_tested_offline_after_the_wait(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-left]")).to_have_text("55")
    page.clock.install()
    page.context.set_offline(True)
    check(page, "38,0")
    expect(page.locator("#offline-answer h1:visible")).to_have_text("UKUR ULANG")
    retest = page.locator("#offline-actions [data-retest]")
    expect(retest).to_be_disabled()
    page.clock.fast_forward("06:00")  # five minutes, then up to the next whole minute
    expect(retest).to_be_enabled()
    retest.click()
    expect(page.locator("[data-retesting]")).to_be_visible()
    for toggle in TOGGLES:
        expect(page.locator(f"#{toggle}")).to_be_checked()  # the first reading's ticks
    page.fill("#temperature", "36,9")
    page.click("button.submit")
    expect(page.locator("#offline-answer h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#offline-answer [data-slot]")).to_have_text("1")
    server.clock.now += timedelta(minutes=6)  # the server's time moved on too
    page.context.set_offline(False)
    rows = stored_soon(server, 2)
    assert [(row[0], row[2]) for row in rows] == [
        (admission.RECHECK, None),
        (admission.ADMITTED, 1),
    ]


def test_each_check_after_an_offline_reload_or_a_double_tap_is_its_own(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-left]")).to_have_text("55")
    page.context.set_offline(True)
    page.reload()  # the kept copy, with the reference it was kept with
    check(page, "36,6")
    page.reload()  # again, instead of "next visitor"
    page.fill("#temperature", "36,7")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    page.evaluate(
        "() => { const form = document.querySelector('form.checkin');"
        " form.requestSubmit(); form.requestSubmit(); }"
    )
    expect(page.locator("#offline-answer [data-slot]")).to_have_text("2")
    expect(page.locator("#connection")).to_contain_text("2 pemeriksaan")
    page.context.set_offline(False)
    rows = stored_soon(server, 2)
    assert [row[2] for row in rows] == [1, 2]
