"""axe-core on every page and every door answer, in both languages, on a portrait and a landscape
tablet: any violation fails, listed rule by rule.

New pages go in SCREENS, one line each. axe is not part of the app: the browser context answers
its same-origin URL with the npm package's file (tests/browser/package.json), so the page loads it
as a script of its own origin and the CSP stays as strict as in production.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect
from sqlalchemy import event

from checkin.cli.demo import seed_history
from checkin.extensions import db
from checkin.models import User, Visit, utcnow
from checkin.services import accounts, bookings, checkins, display, transaction
from checkin.services.bookings import BookingData
from checkin.services.checkins import CheckInData
from tests.browser.conftest import DOOR_ACCOUNTS, LiveServer, pair, sign_in
from tests.conftest import PASSING, PASSWORD
from tests.floor_helpers import call

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/axe-core/axe.min.js"  # no such route in the app: the test's browser answers it
SIZES = ({"width": 800, "height": 1280}, {"width": 1280, "height": 800})
LANGUAGES = ("id", "en")
DOOR, MANAGER, ADMIN = DOOR_ACCOUNTS[0], "manajer", "admin"
OFFICER, HEAD_OFFICE = "petugas", "pusat"
TOGGLES = ("hand_sanitiser", "mask", "distancing")
# Every rule axe runs by default (WCAG 2.0-2.2 A and AA, best practices), and Lighthouse's
# label-in-name check, still experimental in axe: a key's spoken name must contain what it shows.
AXE_RUN = """axe.run(document, {
  resultTypes: ["violations"],
  rules: {"label-content-name-mismatch": {enabled: true}},
})"""


def record(server: LiveServer, **fields: object) -> int:
    """Record one check as another tablet would and return its visit's id."""
    with server.app.app_context():
        site = server.site()
        data = CheckInData(**(PASSING | fields))
        with transaction.owned():
            return checkins.check_in(site, None, data, server.clock.now).visit.id


def visit(path: str) -> Callable[[Page, LiveServer], None]:
    """Open ``path``."""
    return lambda page, server: page.goto(f"{server.url}{path}")


def door_answer(path: str = "/visits/{id}", **fields: object) -> Callable[[Page, LiveServer], None]:
    """Record a check with ``fields`` and open the page ``path`` names it on."""

    def open_answer(page: Page, server: LiveServer) -> None:
        page.goto(server.url + path.format(id=record(server, **fields)))

    return open_answer


def door_with_a_misread(page: Page, server: LiveServer) -> None:
    """Submit an impossible reading, so the form shows its error."""
    page.goto(f"{server.url}/")
    page.fill("#temperature", "45")
    page.click("button.submit")
    expect(page.locator("#temperature-error")).to_be_visible()


def no_slot_left(then: Callable[[Page, LiveServer], None]) -> Callable[[Page, LiveServer], None]:
    """Use every slot of today, then open the page ``then`` opens."""

    def open_full(page: Page, server: LiveServer) -> None:
        server.use_every_slot()
        then(page, server)

    return open_full


def decided_offline(*ticks: str) -> Callable[[Page, LiveServer], None]:
    """Answer a check on the tablet itself, the network gone (ticking only ``ticks``)."""

    def open_offline_answer(page: Page, server: LiveServer) -> None:
        page.goto(f"{server.url}/")
        inject_axe(page)  # before the network goes: it comes from the (test's) server
        page.context.set_offline(True)
        page.fill("#temperature", "36,6")
        for toggle in ticks:
            page.click(f"label[for={toggle}]")
        page.click("button.submit")
        expect(page.locator("#answer")).to_be_visible()

    return open_offline_answer


def answered_online(page: Page, server: LiveServer) -> None:
    """Answer a check from the server's JSON, on the door page itself."""
    page.goto(f"{server.url}/")
    page.fill("#temperature", "37,9")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    page.click("button.submit")
    expect(page.locator("#answer.recheck")).to_be_visible()


def database_down(page: Page, server: LiveServer) -> None:
    """Open the door while every statement fails, as with the database down."""
    with server.app.app_context():
        engine = db.engine

    def refuse(*_args: object) -> None:
        raise sa.exc.OperationalError("SELECT", {}, ConnectionRefusedError("database down"))

    event.listen(engine, "before_cursor_execute", refuse)
    try:
        assert page.goto(f"{server.url}/").status == 503
    finally:
        event.remove(engine, "before_cursor_execute", refuse)


def waiting_room_display(page: Page, server: LiveServer) -> None:
    """Open the waiting-room display by a new display link, with two visitors called."""
    called = [record(server) for _booth in range(2)]
    with server.app.app_context():
        site = server.site()
        for booth, visit_id in zip((3, 7), called, strict=True):
            call(db.session.get(Visit, visit_id), booth=booth, at=server.clock.now)
        manager = db.session.scalar(sa.select(User).filter_by(username=MANAGER))
        with transaction.owned():
            secret = display.issue_display_token(site, "TV", manager, server.clock.now)
    page.goto(f"{server.url}/display?token={secret}")
    expect(page.locator("[data-current-number]")).not_to_have_text("–")


def booking_page(page: Page, server: LiveServer) -> None:
    """Open the site's public booking page, switched on."""
    with server.app.app_context():
        bookings.set_public_page(server.site(), True, None, server.clock.now)
        db.session.commit()
    page.goto(f"{server.url}/book/KDR")


def booking_made(page: Page, server: LiveServer) -> None:
    """Book the first session offered on the public page, with a phone never used before."""
    booking_page(page, server)
    page.fill("#name", "Siti Aminah")
    page.fill("#phone", f"0812{random.randrange(10**8):08d}")
    page.fill("#nik_last4", "4321")
    page.click("button[type=submit].primary")
    expect(page.locator("[data-booked]")).to_be_visible()


def video_session_booked(page: Page, server: LiveServer) -> None:
    """Book a video session on the public page, reached at a meeting link."""
    booking_page(page, server)
    page.fill("#name", "Budi Santoso")
    page.fill("#phone", f"0813{random.randrange(10**8):08d}")
    page.fill("#nik_last4", "1357")
    page.check("input[name=kind][value=video]")
    page.fill("#contact", "https://meet.example.org/budi")
    page.click("button[type=submit].primary")
    expect(page.locator("[data-reached-by]")).to_be_visible()


def console_with_a_video_session(page: Page, server: LiveServer) -> None:
    """Open the officer's console with a video session called to them, as the floor's service
    leaves it (its columns set directly, as tests/floor_helpers.py does for visits)."""
    with server.app.app_context():
        site = server.site()
        officer = db.session.scalar(sa.select(User).filter_by(username=OFFICER))
        first = bookings.open_days(site, server.clock.now)[0]
        data = BookingData(
            day=first.day,
            starts=first.places[0].session.starts,
            name="Dewi Lestari",
            phone=f"0857{random.randrange(10**8):08d}",
            nik_last4="2468",
            kind="video",
        )
        with transaction.owned():
            booking = bookings.book(site, data, server.clock.now).booking
            booking.floor_state, booking.officer_id = "called", officer.id
            booking.called_at, booking.calls = server.clock.now, 1
    page.goto(f"{server.url}/floor/")
    expect(page.locator("article.video-card [data-reach=whatsapp]").first).to_be_visible()


@dataclass(frozen=True)
class Screen:
    """One page in one state, seen by one account (None: nobody logged in)."""

    name: str
    account: str | None
    open: Callable[[Page, LiveServer], None]


SCREENS = (
    Screen("login", None, visit("/login")),
    Screen("not found", None, visit("/no-such-page")),
    Screen("door", DOOR, visit("/")),
    Screen("door, misread thermometer", DOOR, door_with_a_misread),
    Screen("door, admitted", DOOR, door_answer(visitor_name="Siti Aminah")),
    Screen("door, refused", DOOR, door_answer(mask=False, distancing=False)),
    Screen("door, re-test", DOOR, door_answer(temperature_dc=378)),
    Screen("door, offline copy", DOOR, visit("/door/offline")),
    Screen("door, re-test answered online", DOOR, answered_online),
    Screen("door, admitted offline", DOOR, decided_offline(*TOGGLES)),
    Screen("door, refused offline", DOOR, decided_offline("mask")),
    Screen("door, not allowed", DOOR, visit("/manage/log")),
    Screen("door, database down", DOOR, database_down),
    Screen("door, quota full", DOOR, no_slot_left(visit("/"))),
    Screen("door, refused: quota full", DOOR, no_slot_left(door_answer())),
    Screen("entry log", MANAGER, visit("/manage/log")),
    Screen("visit", MANAGER, door_answer("/manage/visits/{id}", visitor_name="Budi")),
    Screen("reports", MANAGER, visit("/manage/reports")),
    Screen("summary", MANAGER, visit("/manage/summary")),
    Screen("tablets", MANAGER, visit("/manage/tablets")),
    Screen("settings", MANAGER, visit("/manage/settings")),
    Screen("audit", MANAGER, visit("/manage/audit")),
    Screen("door of a manager", MANAGER, visit("/")),
    Screen("admin", ADMIN, visit("/manage/admin")),
    Screen("pairing a tablet", None, visit("/pair")),
    Screen("contact tracing", MANAGER, visit("/manage/tracing")),
    Screen("displays", MANAGER, visit("/manage/displays")),
    Screen("officer's console", OFFICER, visit("/floor/")),
    Screen("officer's console, video session", OFFICER, console_with_a_video_session),
    Screen("head office", HEAD_OFFICE, visit("/headoffice")),
    Screen("waiting-room display", None, waiting_room_display),
    Screen("public booking page", None, booking_page),
    Screen("public booking made", None, booking_made),
    Screen("public booking made, video session", None, video_session_booked),
)


def inject_axe(page: Page) -> None:
    """Load axe into the page's current document, unless it is there already."""
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(url=AXE_PATH)


def violations(page: Page) -> list[str]:
    """Run axe at each size and return its violations, one readable line per element."""
    found = []
    for size in SIZES:
        page.set_viewport_size(size)
        result = page.evaluate(AXE_RUN)
        for rule in result["violations"]:
            for node in rule["nodes"]:
                found.append(
                    f"{size['width']}x{size['height']} {rule['id']} ({rule['impact']}): "
                    f"{rule['help']}\n    at {' '.join(node['target'])}: "
                    f"{node['failureSummary'].replace(chr(10), ' ')}"
                )
    return found


@pytest.fixture(scope="module")
def office(live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server at today's real date (the offline tablet decides by its own clock), with
    forty days of history for the reports, a manager and an admin of no site."""
    live_server.reset()
    live_server.clock.now = datetime.now(UTC)
    with live_server.app.app_context():
        site = live_server.site()
        for username, role, of_site in (
            (MANAGER, "manager", site),
            (ADMIN, "admin", None),
            (OFFICER, "officer", site),
            (HEAD_OFFICE, "head_office", None),
        ):
            if db.session.scalar(sa.select(User).filter_by(username=username)) is None:
                with transaction.owned():
                    accounts.add_user(username, role, PASSWORD, of_site, by=None, now=utcnow())
        staff = list(db.session.scalars(sa.select(User).filter_by(role="door")))
        yesterday = site.local_day(live_server.clock.now) - timedelta(days=1)
        seed_history(site, staff, yesterday - timedelta(days=40), yesterday, random.Random(18))
    yield live_server
    live_server.reset()


@pytest.fixture(scope="module")
def tabs(browser, office: LiveServer) -> Iterator[Callable[[str | None, str], Page]]:
    """Return the page of an account in a language: one context each, logged in once."""
    axe = AXE.read_text()
    opened: dict[tuple[str | None, str], Page] = {}

    def tab(account: str | None, language: str) -> Page:
        if (account, language) not in opened:
            context = browser.new_context(viewport=SIZES[0])
            context.route(
                f"{office.url}{AXE_PATH}",
                lambda route: route.fulfill(body=axe, content_type="text/javascript"),
            )
            page = context.new_page()
            if account == DOOR:
                pair(page, office)  # a paired tablet: it decides offline
            page.goto(f"{office.url}/login")
            if account:
                sign_in(page, account)
                page.wait_for_load_state()
            page.click(f"form.languages button[lang={language}]")
            page.wait_for_load_state()
            opened[account, language] = page
        return opened[account, language]

    yield tab
    for page in opened.values():
        page.context.close()


@pytest.fixture(scope="module", autouse=True)
def axe_installed() -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/browser (make test does)")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("screen", SCREENS, ids=[screen.name for screen in SCREENS])
def test_axe_finds_nothing(tabs, office: LiveServer, screen: Screen, language: str) -> None:
    page = tabs(screen.account, language)
    page.context.set_offline(False)
    office.set_quota(60)
    page.set_viewport_size(SIZES[0])
    screen.open(page, office)
    assert page.locator("html").get_attribute("lang") == language
    inject_axe(page)
    found = violations(page)
    assert not found, f"axe on {screen.name} ({language}):\n" + "\n".join(found)
