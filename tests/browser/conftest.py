"""A live server on a temporary SQLite database and one headless Chromium for the browser tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from checkin import create_app
from checkin.extensions import db
from checkin.models import (
    AuditEntry,
    DayQuota,
    Device,
    FreeSlot,
    LeasedSlot,
    LoginWindow,
    PairingCode,
    Site,
    UploadConflict,
    User,
    Visit,
    utcnow,
)
from checkin.services import accounts, checkins, day_counter, leases, pairing, sites, transaction
from checkin.services.checkins import CheckInData
from tests.conftest import DEFAULT_NOW, PASSING, PASSWORD, Clock, create_tables

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
LOW_CONTRAST_TEXT = (Path(__file__).parent / "contrast.js").read_text()
ONLINE_SERVICE_URL = "https://www.bpjsketenagakerjaan.go.id/"
DOOR_ACCOUNTS = ("pintu1", "pintu2")
MANAGER = "manajer"


@dataclass
class LiveServer:
    """The app served on 127.0.0.1, with its clock and a way to prepare its data."""

    url: str
    app: Flask
    clock: Clock

    def reset(self) -> None:
        """Forget every check and put the clock back to 10:00 on a weekday."""
        self.clock.now = DEFAULT_NOW
        with self.app.app_context():
            for model in (
                AuditEntry,
                UploadConflict,
                Visit,
                LeasedSlot,
                FreeSlot,
                PairingCode,
                Device,
                DayQuota,
                LoginWindow,
            ):
                db.session.execute(sa.delete(model))
            site = self.site()
            site.daily_quota = 60
            db.session.commit()

    def site(self) -> Site:
        """Return the door's site (inside an app context)."""
        return db.session.scalar(sa.select(Site))

    def check_in(self, count: int = 1, **fields: object) -> None:
        """Record ``count`` checks through the service, as another tablet would."""
        with self.app.app_context():
            site = self.site()
            for _visitor in range(count):
                with transaction.owned():
                    checkins.check_in(site, None, CheckInData(**(PASSING | fields)), self.clock.now)

    def pairing_code(self) -> str:
        """Return a pairing code of the door's site, as its manager makes one."""
        with self.app.app_context():
            manager = db.session.scalar(sa.select(User).where(User.username == MANAGER))
            with transaction.owned():
                return pairing.new_code(self.site(), manager, self.clock.now).code

    def use_every_slot(self) -> None:
        """Leave no slot today: release the tablets' slots and lower the quota to the admitted."""
        with self.app.app_context():
            site = self.site()
            for device in db.session.scalars(sa.select(Device)):
                with transaction.owned():
                    leases.release(device, None, self.clock.now)
            taken = day_counter.quota_today(site, self.clock.now).used
            settings = sites.SiteSettings(taken, site.fever_cutoff_dc, site.online_service_url)
            with transaction.owned():
                sites.update_site_settings(site, settings, None, self.clock.now)

    def left_today(self) -> int:
        """Return the slots left today, as the counter should show them."""
        with self.app.app_context():
            return day_counter.quota_today(self.site(), self.clock.now).left

    def set_quota(self, limit: int) -> None:
        """Change the site's daily quota from now on."""
        with self.app.app_context():
            site = self.site()
            settings = sites.SiteSettings(limit, site.fever_cutoff_dc, site.online_service_url)
            with transaction.owned():
                sites.update_site_settings(site, settings, None, self.clock.now)


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Serve the app from a thread, CSRF on, with a fast counter poll and a settable clock."""
    clock = Clock(DEFAULT_NOW)
    database = tmp_path_factory.mktemp("browser") / "checkin.db"
    app = create_app(
        {
            "SECRET_KEY": "browser tests",
            "DATABASE_URL": f"sqlite:///{database}",
            "CLOCK": clock,
            "QUOTA_POLL_SECONDS": 0.5,
        }
    )
    with app.app_context():
        create_tables()
        with transaction.owned():
            site = sites.add_site(
                "KDR",
                "BPJS Ketenagakerjaan Cabang Kediri",
                online_service_url=ONLINE_SERVICE_URL,
            )
        for username in DOOR_ACCOUNTS:
            with transaction.owned():
                accounts.add_user(username, "door", PASSWORD, site, by=None, now=utcnow())
        with transaction.owned():
            accounts.add_user(MANAGER, "manager", PASSWORD, site, by=None, now=utcnow())
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, clock)
    finally:
        server.shutdown()
        thread.join(timeout=10)


# Package scope: one Chromium for every test in tests/browser, stopped before tests elsewhere
# start their own Playwright (its sync API refuses to run while another instance is live).
@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    """Start one headless Chromium for the browser tests."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"{CHROMIUM} is missing: install Debian's chromium package to run browser tests"
        )
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def server(live_server: LiveServer) -> LiveServer:
    """Return the live server with no checks recorded yet."""
    live_server.reset()
    return live_server


@pytest.fixture
def open_door(browser, server: LiveServer) -> Iterator[Callable[..., object]]:
    """Return a function that opens a door tablet a manager paired (or, told so, a browser no
    manager paired), logged in as door staff; closes them afterwards."""
    contexts = []

    def open_tablet(
        username: str = DOOR_ACCOUNTS[0], width: int = 1024, height: int = 768, paired: bool = True
    ):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        if paired:
            pair(page, server)
        page.goto(f"{server.url}/login")
        sign_in(page, username)
        page.wait_for_url(f"{server.url}/")
        return page

    yield open_tablet
    for context in contexts:
        context.close()


def pair(page, server: LiveServer, name: str = "Pintu depan") -> None:
    """Pair the page's browser as a door tablet with a code its manager made."""
    page.goto(f"{server.url}/pair?code={server.pairing_code()}")
    page.fill("#name", name)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{server.url}/door/staff")


def sign_in(page, username: str) -> None:
    """Fill the login form the page shows and submit it."""
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")


def screenshot(page, name: str) -> None:
    """Save a full-page screenshot named after its size, after checking its text contrast."""
    assert page.evaluate(LOW_CONTRAST_TEXT) == [], f"text below WCAG AA contrast on {name}"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    page.screenshot(
        path=SCREENSHOTS / f"{name}-{size['width']}x{size['height']}.png", full_page=True
    )
