"""The door with the network gone, in headless Chromium: served by its service worker, deciding
by the rules its lease brought, keeping checks in IndexedDB through a browser restart, then
uploading; and the day's slots, which only paired tablets hold and give back when asked."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.domain import admission, booking_rules
from checkin.extensions import db
from checkin.models import (
    Booking,
    BookingSession,
    Device,
    LeasedSlot,
    SessionDay,
    UploadConflict,
    Visit,
)
from checkin.services import bookings, day_counter, leases, pairing, sites, transaction
from checkin.services.bookings import BookingData
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, MANAGER, pair, screenshot, sign_in

pytestmark = pytest.mark.browser

TOGGLES = ("hand_sanitiser", "mask", "distancing")
SIZES = ((1024, 768), (800, 1280))


def check(page, temperature: str, ticks=TOGGLES, **details: str) -> None:
    """Type a reading, tap the given toggles and submit; wait for the answer."""
    page.fill("#temperature", temperature)
    for toggle in ticks:
        page.click(f"label[for={toggle}]")
    if details:
        page.click("details.visitor summary")
        for field, value in details.items():
            page.fill(f"#{field}", value)
    page.click("button.submit")
    expect(page.locator("#answer")).to_be_visible()


def next_visitor(page) -> None:
    """Tap "next visitor" once it takes taps (a page with an installed clock moves it first)."""
    button = page.locator("#answer-actions [data-next]")
    expect(button).not_to_have_attribute("aria-disabled", "true")
    button.click()
    expect(page.locator("#temperature")).to_be_visible()


def ready_for_offline(page) -> None:
    """Wait until the tablet holds its lease and its service worker keeps the door."""
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def shoot(page, name: str) -> None:
    """Screenshot the page at both tablet sizes."""
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        screenshot(page, name)
    page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})


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


def quota(server) -> day_counter.Quota:
    with server.app.app_context():
        return day_counter.quota_today(server.site(), server.clock.now)


def held_by_devices(server) -> dict[str, int]:
    """Return the unused slots each tablet holds today, by its name."""
    with server.app.app_context():
        rows = db.session.execute(
            sa.select(Device.name, sa.func.count())
            .join(LeasedSlot, LeasedSlot.device_id == Device.id)
            .where(
                LeasedSlot.used_at.is_(None),
                LeasedSlot.returned_at.is_(None),
                LeasedSlot.released_at.is_(None),
            )
            .group_by(Device.name)
        )
        return dict(rows.all())


# Every IndexedDB store of the door (static/offline/store.js).
STORES = ("outbox", "lease", "retests", "giving", "refused", "kept", "bookings")


def indexed_db(page, store: str) -> list:
    """Return every value of one of the door's IndexedDB stores."""
    return page.evaluate(
        """store => new Promise(resolve => {
            const open = indexedDB.open("checkin-door");
            open.onsuccess = () => {
                const all = open.result.transaction(store).objectStore(store).getAll();
                all.onsuccess = () => resolve(all.result);
            };
        })""",
        store,
    )


@pytest.fixture
def booked_now(server):
    """Book Siti Aminah into a session of today around the real time (the browser's clock is
    the real one), and give the factory of more such bookings; forget them afterwards."""
    server.clock.now = datetime.now(UTC)
    with server.app.app_context():
        site = server.site()
        local = server.clock.now.astimezone(site.zone)
        starts = max(local - timedelta(minutes=40), local.replace(hour=0, minute=0))
        ends = min(local + timedelta(minutes=40), local.replace(hour=23, minute=59))
        session = BookingSession(
            site_id=site.id,
            starts=starts.time().replace(second=0, microsecond=0),
            ends=ends.time().replace(second=0, microsecond=0),
            capacity=10,
        )
        db.session.add(session)
        db.session.commit()
        day, session_starts = local.date(), session.starts

    def book(name: str, phone: str, nik_last4: str) -> str:
        with server.app.app_context():
            data = BookingData(day, session_starts, name, phone, nik_last4)
            with transaction.owned():
                return bookings.book(server.site(), data, server.clock.now).booking.code

    yield book
    with server.app.app_context():
        db.session.execute(sa.update(Booking).values(visit_id=None))
        for model in (UploadConflict, Visit, Booking, SessionDay, BookingSession):
            db.session.execute(sa.delete(model))
        db.session.commit()


def kept_bookings(page) -> list:
    """Return the bookings the tablet keeps (none if it keeps no list)."""
    kept = indexed_db(page, "bookings")
    return kept[0]["items"] if kept else []


def wait_in_page(page, done: Callable[[], bool], never: str, seconds: float = 30) -> None:
    """Wait until ``done()``, read from the tablet's stores as its own code changes them (its
    sends answer at their own pace); Playwright's wait_for_function cannot do it, as it does
    not wait for a promise the page's function returns (it would be truthy at once)."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, never
        page.wait_for_timeout(100)


def wait_for_kept_bookings(page, count: int) -> None:
    """Wait until the tablet keeps a list of today's bookings with ``count`` of them."""
    wait_in_page(
        page, lambda: len(kept_bookings(page)) == count, "the tablet never kept today's bookings"
    )


@pytest.fixture
def tablet(browser, server, tmp_path):
    """Open a paired door tablet with a profile kept on disk, so that it can be restarted."""
    contexts = []

    def start(width: int = 1024, height: int = 768, first: bool = True):
        context = browser.browser_type.launch_persistent_context(
            tmp_path / "profile",
            executable_path=str(CHROMIUM),
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        if first:
            pair(page, server)
        page.goto(f"{server.url}/login")
        sign_in(page, "pintu1")
        page.wait_for_url(f"{server.url}/")
        return context, page

    yield start
    for context in contexts:
        context.close()


def test_the_door_records_offline_within_its_lease_and_uploads_after_a_restart(server, tablet):
    # The browser's clock is the real one: let the server's agree with it.
    server.clock.now = datetime.now(UTC)
    # Four slots and one tablet: its fair share, and so its lease, is two.
    server.set_quota(4)
    context, page = tablet()
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    holds = page.locator("#counter [data-holds]")
    expect(holds).to_contain_text("2")  # the lease took two, said apart from the day's
    expect(page.locator("#counter [data-left]")).to_have_text("2")

    context.set_offline(True)
    page.reload()  # served by the service worker
    expect(page.locator("#connection")).to_contain_text("Luring")
    # The day's figures as last heard, not those of the kept copy nor what the tablet holds.
    expect(page.locator("#counter [data-left]")).to_have_text("2")
    started = datetime.now(UTC)
    check(page, "36,6", visitor_name="Siti Aminah", id_number="3506123456789012")
    expect(page.locator("#answer h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#answer [data-slot]")).to_have_text("1")
    shoot(page, "door-offline-admitted")
    (kept,) = indexed_db(page, "outbox")
    assert (kept["nik_last4"], "id_number" in kept) == ("9012", False)
    # Nor anywhere else the tablet keeps: only the last four digits, as the server stores.
    held = json.dumps([indexed_db(page, store) for store in STORES])
    assert "3506123456789012" not in held and "350612345678" not in held
    next_visitor(page)
    check(page, "36,8")
    expect(page.locator("#answer [data-slot]")).to_have_text("2")
    next_visitor(page)
    expect(holds).to_contain_text("0")
    check(page, "36,5", ticks=("hand_sanitiser", "distancing"))
    expect(page.locator("#answer h1:visible")).to_have_text("DITOLAK")
    expect(page.locator("#answer [data-reason=no_mask]")).to_be_visible()
    next_visitor(page)
    check(page, "36,7")
    # No slot held: refused, and told why and what to do; never an admission on hope.
    expect(page.locator("#answer [data-reason=no_offline_slot]")).to_be_visible()
    expect(page.locator("#answer .online img")).to_be_visible()
    shoot(page, "door-offline-no-slot-left")
    expect(page.locator("#connection")).to_contain_text("4 pemeriksaan menunggu diunggah")
    next_visitor(page)
    shoot(page, "door-offline-waiting")
    finished = datetime.now(UTC)
    assert stored(server) == []

    context.close()
    context, page = tablet(first=False)  # the tablet restarts, back online: staff log in again
    rows = stored_soon(server, 4)
    expect(page.locator("#connection")).to_contain_text("4 terkirim")
    shoot(page, "door-reconnected")
    assert [row[:3] for row in rows] == [
        (admission.ADMITTED, [], 1),
        (admission.ADMITTED, [], 2),
        (admission.REFUSED, [admission.NO_MASK], None),
        (admission.REFUSED, [admission.NO_OFFLINE_SLOT], None),
    ]
    assert all(started <= row[3] <= finished for row in rows)
    assert indexed_db(page, "outbox") == []
    expect(page.locator("#connection")).to_be_hidden(timeout=15000)


def test_the_tablet_decides_by_the_same_rules_as_the_server(open_door, server):
    """Every 0.1 °C from 34.0 to 42.0, the 8 combinations of the ticks, first reading and
    re-test: the page's rules (from its lease) and admission.screen answer alike."""
    server.clock.now = datetime.now(UTC)  # the lease is of the browser's day
    with server.app.app_context():
        site = server.site()
        changed = sites.SiteSettings(60, 375, site.online_service_url)  # a cut-off of its own
        with transaction.owned():
            sites.update_site_settings(site, changed, None, server.clock.now)
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    grid = [
        (tenths, ticks, retest)
        for tenths in range(admission.PLAUSIBLE_MIN_DC, admission.PLAUSIBLE_MAX_DC + 1)
        for ticks in itertools.product((False, True), repeat=3)
        for retest in (False, True)
    ]
    decided = page.evaluate(
        """grid => window.checkinDoor.store.lease(window.checkinDoor.sync.deviceId).then(lease =>
            grid.map(([tenths, ticks, retest]) => {
                const rules = window.checkinDoor.rules;
                const typed = `${Math.floor(tenths / 10)},${tenths % 10}`;
                const reading = {temperature_dc: rules.tenths(typed),
                    hand_sanitiser: ticks[0], mask: ticks[1], distancing: ticks[2]};
                const plausible = rules.plausible(reading.temperature_dc, lease.rules);
                const answer = rules.screen(reading, lease.rules, retest);
                return [reading.temperature_dc, plausible, answer.status, answer.reasons];
            }))""",
        grid,
    )
    policy = admission.Policy(375)
    for (tenths, ticks, retest), (read, plausible, status, reasons) in zip(
        grid, decided, strict=True
    ):
        expected = admission.screen(admission.Reading(tenths, *ticks, is_retest=retest), policy)
        assert (read, plausible) == (tenths, True), tenths
        assert (status, tuple(reasons)) == (expected.status, expected.reasons), (tenths, ticks)
    assert len(decided) == 81 * 8 * 2
    for typed in ("33,9", "42,1", "abc"):
        assert not page.evaluate(
            "typed => window.checkinDoor.rules.plausible(window.checkinDoor.rules.tenths(typed),"
            " JSON.parse(document.querySelector('form.checkin').dataset.rules))",
            typed,
        )


def test_an_offline_re_test_is_listed_from_the_tablet_through_a_reload(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    ready_for_offline(page)
    page.clock.install()
    page.context.set_offline(True)
    check(page, "38,0", visitor_name="Dewi Lestari")
    expect(page.locator("#answer h1:visible")).to_have_text("UKUR ULANG")
    retest = page.locator("#answer-actions [data-retest]")
    expect(retest).to_be_disabled()
    page.clock.fast_forward(1500)  # the guard on "next visitor" ends
    next_visitor(page)
    waiting = page.locator("[data-tablet-retests] li")
    expect(waiting).to_contain_text("Dewi Lestari")
    page.reload()  # the kept copy: the visitor is listed from the tablet's own storage
    expect(waiting).to_contain_text("Dewi Lestari")
    expect(waiting.locator("[data-ready]")).to_be_hidden()
    # Links to the server's pages wait for the connection.
    assert page.locator("a[data-needs-server]").evaluate_all(
        "links => links.every(link => link.getAttribute('aria-disabled') === 'true')"
    )
    page.clock.fast_forward("06:00")  # five minutes, then up to the next whole minute
    expect(waiting.locator("[data-ready]")).to_be_visible()
    shoot(page, "door-offline-retest-waiting")
    waiting.locator("button").click()
    expect(page.locator("[data-retesting]")).to_be_visible()
    for toggle in TOGGLES:
        expect(page.locator(f"#{toggle}")).to_be_checked()  # the first reading's ticks
    page.fill("#temperature", "36,9")
    page.click("button.submit")
    expect(page.locator("#answer h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#answer [data-slot]")).to_have_text("1")
    server.clock.now += timedelta(minutes=6)  # the server's time moved on too
    page.context.set_offline(False)
    rows = stored_soon(server, 2)
    assert [(row[0], row[2]) for row in rows] == [
        (admission.RETEST, None),
        (admission.ADMITTED, 1),
    ]
    expect(page.locator("#connection")).to_contain_text("2 terkirim")
    page.clock.fast_forward(1500)
    next_visitor(page)
    expect(page.locator(".waiting")).to_be_hidden()


def test_each_check_after_an_offline_reload_or_a_double_tap_is_its_own(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    ready_for_offline(page)
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
    expect(page.locator("#answer [data-slot]")).to_have_text("2")
    expect(page.locator("#connection")).to_contain_text("2 pemeriksaan")
    page.context.set_offline(False)
    rows = stored_soon(server, 2)
    assert [row[2] for row in rows] == [1, 2]


def test_a_manager_s_browser_on_the_door_page_holds_no_slot(browser, server):
    server.check_in(count=3)
    used = quota(server).used
    with browser.new_context(viewport={"width": 1024, "height": 768}) as context:
        page = context.new_page()
        page.goto(f"{server.url}/login")
        sign_in(page, MANAGER)
        page.goto(f"{server.url}/")
        expect(page.locator("#counter [data-online-only]")).to_be_visible()
        check(page, "36,6")
        expect(page.locator("#answer [data-slot]")).to_have_text("4")
        counter_url = page.locator("#counter").get_attribute("data-url")
        for _poll in range(3):  # a tablet asks for slots on an answer of the counter
            with page.expect_response(lambda response: counter_url in response.url):
                pass
        screenshot(page, "door-online-only")
    assert (quota(server).used, quota(server).held) == (used + 1, 0)
    assert held_by_devices(server) == {}


def test_two_tablets_at_a_nearly_full_day_one_idle_the_other_admits_the_last(open_door, server):
    server.clock.now = datetime.now(UTC)
    server.set_quota(8)
    idle = open_door()
    expect(idle.locator("#counter [data-holds]")).to_contain_text("4")  # half of 8
    busy = open_door("pintu2")
    expect(busy.locator("#counter [data-holds]")).to_contain_text("1")  # 4 left, two tablets
    numbers = []
    while len(numbers) < 8:
        now = quota(server)
        if now.left == 0 and now.held:
            # No slot is left unheld: within a poll the idle tablet gives back what it holds,
            # and the busy door counts them among those left.
            expect(idle.locator("#counter [data-holds]")).to_contain_text("0", timeout=5000)
            expect(busy.locator("#counter [data-left]")).not_to_have_text("0", timeout=5000)
        check(busy, "36,6")
        expect(busy.locator("#answer h1:visible")).to_have_text("DITERIMA")
        numbers.append(int(busy.locator("#answer [data-slot]").inner_text()))
        next_visitor(busy)
    # Every number once, the idle tablet's among them: queue numbers stay 1..limit.
    assert sorted(numbers) == list(range(1, 9))
    assert {1, 2, 3, 4} <= set(numbers)
    check(busy, "36,6")
    expect(busy.locator("#answer [data-reason=quota_full]")).to_be_visible()
    final = quota(server)
    assert (final.admitted, final.used, final.left) == (8, 8, 0)
    expect(busy.locator("#counter [data-left]")).to_have_text("0")


def test_a_stopped_tablet_gives_back_what_it_holds_at_its_next_check(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    with server.app.app_context():
        (device,) = db.session.scalars(sa.select(Device))
        with transaction.owned():
            assert leases.revoke(device, None, server.clock.now) == 5
    check(page, "36,6")
    # Before the check it heard it was stopped and gave its five back: the lowest is given out.
    expect(page.locator("#answer [data-slot]")).to_have_text("1")
    expect(page.locator("#counter [data-holds]")).to_contain_text("0")
    assert indexed_db(page, "giving") == []  # heard back
    assert (quota(server).used, quota(server).held) == (1, 0)


def test_an_unpaired_tablet_gives_back_its_slots_and_asks_to_be_paired(
    open_door, server, booked_now
):
    booked_now("Siti Aminah", "0812 3456 7890", "1234")
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    wait_for_kept_bookings(page, 1)
    assert quota(server).held == 5
    with server.app.app_context():
        (device,) = db.session.scalars(sa.select(Device))
        with transaction.owned():
            pairing.unpair(device, None, server.clock.now)
    page.wait_for_url(f"{server.url}/pair", timeout=10000)
    assert (quota(server).used, quota(server).held) == (0, 0)
    assert indexed_db(page, "bookings") == []  # it keeps no visitor's booking
    page.goto(f"{server.url}/")
    expect(page).to_have_url(f"{server.url}/login?next=/")


def test_a_manager_releases_a_lost_tablet_s_slots_knowing_what_it_risks(browser, open_door, server):
    server.clock.now = datetime.now(UTC)
    lost = open_door()
    expect(lost.locator("#counter [data-holds]")).to_contain_text("5")
    lost.context.set_offline(True)  # the tablet is lost: out of reach with its slots
    with browser.new_context(viewport={"width": 1024, "height": 768}) as context:
        desk = context.new_page()
        desk.goto(f"{server.url}/login")
        sign_in(desk, MANAGER)
        desk.goto(f"{server.url}/manage/tablets")
        row = desk.locator("tbody[data-device]")
        expect(row.locator("[data-held]")).to_have_text("5")
        row.locator("summary", has_text="Lepaskan slotnya").click()
        warning = row.locator("details[open] p")
        expect(warning).to_contain_text("melewati batas")
        shoot(desk, "tablets-release-a-lost-tablet")
        row.locator("details[open] button").click()
        desk.wait_for_url(f"{server.url}/manage/tablets")
        expect(desk.locator(".flash.success")).to_contain_text("5 slot")
        expect(desk.locator("tbody[data-device] [data-held]")).to_have_text("0")
        shoot(desk, "tablets-released")
    assert (quota(server).used, quota(server).held) == (0, 0)


def test_a_slot_given_back_while_deciding_offline_is_never_given_to_the_visitor_too(
    open_door, server
):
    """The tablet decides offline as the server asks it to give its slots back, in one task:
    whichever runs first, no slot is both given back and given out, on the tablet and, once
    the connection returns and both are sent, on the server."""
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    page.fill("#temperature", "36,6")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    # The network goes too: the tablet's poll would otherwise send the check and the give-back
    # before they are read here.
    page.context.set_offline(True)
    page.evaluate(
        """() => {
            window.checkinDoor.sync.setOnline(false);
            document.querySelector("form.checkin").requestSubmit();
            window.checkinDoor.sync.answered({day: "-", limit: 60, used: 60, left: 0, held: 5,
                                              return_held: true});
        }"""
    )
    expect(page.locator("#answer")).to_be_visible()
    wait_for_stores(page, lambda giving, outbox: giving and outbox)
    given_back = {slot for message in indexed_db(page, "giving") for slot in message["slots"]}
    given_out = {check["offline"]["slot"] for check in indexed_db(page, "outbox")}
    still_held = {slot for lease in indexed_db(page, "lease") for slot in lease["slots"]}
    assert not given_back & (given_out | still_held)
    page.context.set_offline(False)
    wait_for_stores(page, lambda giving, outbox: not giving and not outbox)
    with server.app.app_context():
        returned = set(
            db.session.scalars(
                sa.select(LeasedSlot.slot).where(LeasedSlot.returned_at.is_not(None))
            )
        )
        stored = set(db.session.scalars(sa.select(Visit.slot).where(Visit.slot.is_not(None))))
    assert returned == given_back
    assert given_out <= stored
    assert not returned & stored


def wait_for_stores(page, settled) -> None:
    """Wait until the tablet's give-back and outbox stores are as ``settled`` says."""
    wait_in_page(
        page,
        lambda: settled(indexed_db(page, "giving"), indexed_db(page, "outbox")),
        "the tablet's stores never settled",
    )


@pytest.mark.parametrize("late_answer", [False, True], ids=["offline", "poll-answered-late"])
def test_a_name_the_server_cannot_store_is_refused_on_the_tablet_offline(
    open_door, server, late_answer
):
    """Also when a poll in flight as the connection dropped answers after the browser's
    offline event: the tablet stays offline, and the check is decided here, never posted."""
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    page.context.set_offline(True)
    if late_answer:
        page.evaluate("window.checkinDoor.sync.setOnline(true)")
        assert page.evaluate("window.checkinDoor.sync.isOnline()") is False
    page.fill("#temperature", "36,6")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    page.click("details.visitor summary")
    page.evaluate("document.getElementById('visitor_name').value = 'Siti\\tAminah'")
    page.click("button.submit")
    expect(page.locator("#visitor_name")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#answer")).to_be_hidden()
    assert indexed_db(page, "outbox") == []


def test_the_outbox_keeps_its_order_when_one_send_fails(open_door, server):
    """A re-test recorded offline after its first reading: the first send fails once (503);
    the re-test waits for it, and both are stored, linked."""
    server.clock.now = datetime.now(UTC)
    page = open_door()
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")
    ready_for_offline(page)
    page.clock.install()
    page.context.set_offline(True)
    check(page, "38,0", visitor_name="Dewi Lestari")
    page.clock.fast_forward(1500)
    next_visitor(page)
    page.clock.fast_forward("06:00")
    waiting = page.locator("[data-tablet-retests] li")
    expect(waiting.locator("[data-ready]")).to_be_visible()
    waiting.locator("button").click()
    expect(page.locator("[data-retesting]")).to_be_visible()
    page.fill("#temperature", "36,9")
    page.click("button.submit")
    expect(page.locator("#answer [data-slot]")).to_have_text("1")
    server.clock.now += timedelta(minutes=6)
    failed = []

    def fail_once(route) -> None:
        if not failed and route.request.method == "POST":
            failed.append(route.request.post_data_json["client_ref"])
            route.fulfill(status=503, body="{}", content_type="application/json")
        else:
            route.continue_()

    page.route("**/api/v1/checkins", fail_once)
    page.context.set_offline(False)
    for _poll in range(4):
        page.clock.fast_forward(3000)
        page.wait_for_timeout(1500)
    rows = stored_soon(server, 2)
    assert failed and [(row[0], row[2]) for row in rows] == [
        (admission.RETEST, None),
        (admission.ADMITTED, 1),
    ]
    with server.app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UploadConflict)) == 0


def test_offline_admission_of_a_booking(open_door, server, booked_now):
    code = booked_now("Siti Aminah", "0812 3456 7890", "1234")
    other = booked_now("Budi Santoso", "0813 1111 2222", "5678")
    page = open_door()
    ready_for_offline(page)
    # The tablet keeps today's bookings: what the door shows, and a phone's last four digits.
    wait_for_kept_bookings(page, 2)
    kept = {booking["code"]: booking for booking in kept_bookings(page)}
    assert set(kept[code]) == {"code", "name", "session", "session_ends", "status", "phone_last4"}
    assert (kept[code]["phone_last4"], kept[code]["status"]) == ("7890", "booked")
    held_before = held_by_devices(server)
    page.context.set_offline(True)
    expect(page.locator("#connection")).to_contain_text("Luring")
    # Found by phone as online: its last four digits.
    page.fill("#booking-search", "7890")
    page.click("[data-booking-find] [data-find]")
    expect(page.locator("[data-found] li")).to_have_count(1)
    expect(page.locator("[data-found] li .name")).to_have_text("Siti Aminah")
    # By the code typed in groups, as the visitor reads it out: picked at once.
    page.fill("#booking-search", f"{code[:4].lower()} {code[4:]}")
    page.press("#booking-search", "Enter")
    expect(page.locator("[data-picked] [data-picked-code]")).to_have_text(code)
    check(page, "36,6")
    expect(page.locator("#answer h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#answer [data-booked-offline]")).to_contain_text(code)
    expect(page.locator("#answer [data-slot]")).to_have_text("")
    expect(page.locator("#answer [data-booking-said]")).to_have_attribute("data-channel", "booked")
    shoot(page, "door-offline-booked")
    (sent,) = indexed_db(page, "outbox")
    assert (sent["booking_code"], sent["offline"]["slot"]) == (code, None)
    expect(page.locator("#counter [data-holds]")).to_contain_text("5")  # no walk-in slot used
    # The same booking again on this tablet: found admitted, and nothing is kept.
    next_visitor(page)
    page.fill("#booking-search", code)
    page.press("#booking-search", "Enter")
    expect(page.locator("[data-picked] [data-picked-status]")).to_be_visible()
    page.fill("#temperature", "36,6")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    page.click("button.submit")
    expect(page.locator("form.checkin [data-booking-used]")).to_be_visible()
    assert len(indexed_db(page, "outbox")) == 1
    assert stored(server) == []
    # Budi comes in here too, while another door admits him online first.
    page.click("[data-unpick]")
    page.fill("#booking-search", "budi")
    page.press("#booking-search", "Enter")
    page.click("[data-found] li button")
    page.click("button.submit")
    expect(page.locator("#answer [data-booked-offline]")).to_contain_text(other)
    server.check_in(booking_code=other)

    page.context.set_offline(False)
    expect(page.locator("#connection")).to_contain_text("2 terkirim")
    # Told: the second admission of Budi's booking is kept for the manager, and said so once
    # "sent" has been read.
    expect(page.locator("#connection")).to_contain_text(
        "1 pemeriksaan disimpan untuk diperiksa manajer", timeout=15000
    )
    (kept,) = indexed_db(page, "kept")
    assert kept["booking_code"] == other
    with server.app.app_context():
        conflict = db.session.scalar(sa.select(UploadConflict))
        assert (conflict.cause, conflict.detail["booking_code"]) == (
            "booking_already_admitted",
            other,
        )
        visit = db.session.scalar(sa.select(Visit).where(Visit.booking.has(Booking.code == code)))
        booking = db.session.scalar(sa.select(Booking).where(Booking.code == code))
        assert (visit.status, visit.booking_id, booking.status) == (
            "admitted",
            booking.id,
            "admitted",
        )
        assert booking.visit_id == visit.id and visit.slot is not None
    assert held_by_devices(server) == held_before  # the walk-in lease untouched
    assert quota(server).admitted == 0
    shoot(page, "door-booking-kept-for-manager")


def test_the_tablet_finds_bookings_and_reads_their_window_as_the_server_does(
    open_door, server, booked_now
):
    """The list's search and window rule on the tablet, against bookings.find and
    booking_rules.door_channel, over a grid of searches and of moments around the window."""
    names = ("Siti Aminah", "Siti Nurhaliza", "Dewi  Lestari", "Ahmad Fauzi")
    codes = [
        booked_now(name, f"0812 3456 {number:04d}", f"{number:04d}")
        for number, name in enumerate(names, start=1)
    ]
    page = open_door()
    ready_for_offline(page)
    wait_for_kept_bookings(page, len(codes))
    searches = [
        codes[0],
        codes[1].lower(),
        f"{codes[2][:5]}-{codes[2][5:]}",
        "siti",
        "SITI N",
        "dewi lestari",
        "ahmad",
        "0001",
        "0812 3456 0002",
        "+62 812 3456 0003",
        "3456",
        "0812",
        "x",
        " ",
        "%",
        "2" * 10,
        "lestari 1",
    ]
    with server.app.app_context():
        site = server.site()
        day = site.local_day(server.clock.now)
        expected = [[b.code for b in bookings.find(site, typed, day)] for typed in searches]
        booking = db.session.scalar(sa.select(Booking).where(Booking.code == codes[0]))
        opens, closes = booking_rules.window(day, booking.session.times, site.zone)
        moments = [
            opens + timedelta(seconds=offset) for offset in (-86400, -3600, -1, 0, 1, 600)
        ] + [closes + timedelta(seconds=offset) for offset in (-1, 0, 0.5, 1, 3600)]
        channels = [
            booking_rules.door_channel(status, booking.day, booking.session.times, site.zone, at)
            for at in moments
            for status in booking_rules.STATUSES
        ]
    found, read = page.evaluate(
        """([searches, code, moments, statuses]) => window.checkinDoor.store.bookings(
            window.checkinDoor.sync.deviceId).then(list => {
                const rules = window.checkinDoor.rules;
                const form = document.querySelector("form.checkin");
                const zone = JSON.parse(form.dataset.rules).timezone;
                const booking = list.items.find(item => item.code === code);
                const found = searches.map(
                    typed => rules.findBookings(list, typed).map(b => b.code));
                const read = moments.flatMap(at => statuses.map(status => rules.doorChannel(
                    Object.assign({}, booking, {status}), list, new Date(at), zone)));
                return [found, read];
            })""",
        [searches, codes[0], [at.isoformat() for at in moments], list(booking_rules.STATUSES)],
    )
    assert found == expected
    for ours, theirs in zip(read, channels, strict=True):
        assert ours["channel"] == theirs.channel
        assert datetime.fromisoformat(ours["opens"]) == theirs.opens
        assert datetime.fromisoformat(ours["closes"]) == theirs.closes
