"""Manager pages in a real browser: charts under the CSP, tables that fit a tablet, voiding."""

from __future__ import annotations

import random
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from werkzeug.serving import make_server

from checkin import create_app
from checkin.cli.demo import seed_history
from checkin.extensions import db
from checkin.models import utcnow
from checkin.services import accounts, sites, transaction
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import DEFAULT_NOW, PASSWORD, Clock, create_tables
from tests.test_reports import ADMITTED_FILL, CHART_KINDS


def demo_app(database: Path) -> Flask:
    """Return an app of the demo history of Kediri kept in ``database``."""
    return create_app(
        {
            "SECRET_KEY": "browser test",
            "DATABASE_URL": f"sqlite:///{database}",
            "CLOCK": Clock(DEFAULT_NOW),
        }
    )


@pytest.fixture(scope="module")
def demo_history(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Return the bytes of a SQLite database of 40 days of Kediri, made once for the module
    (about 20 s): each test serves its own copy, so what one test changes no other sees."""
    database = tmp_path_factory.mktemp("demo") / "demo.db"
    app = demo_app(database)
    with app.app_context():
        create_tables()
        with transaction.owned():
            site = sites.add_site("KDR", "BPJS Ketenagakerjaan Cabang Kediri")
            door = accounts.add_user("door", "door", PASSWORD, site, by=None, now=utcnow())
            accounts.add_user("manager", "manager", PASSWORD, site, by=None, now=utcnow())
            accounts.add_user("admin", "admin", PASSWORD, site, by=None, now=utcnow())
            officer = accounts.add_user("officer", "officer", PASSWORD, site, by=None, now=utcnow())
        today = site.local_day(DEFAULT_NOW)
        # Served visitors too: their waiting and service times lengthen the log's rows.
        seed_history(
            site,
            [door],
            today - timedelta(days=40),
            today,
            random.Random(4),
            officers=(officer,),
        )
        db.session.remove()
        # The last connection to close writes the WAL back into the file.
        db.engine.dispose()
    return database.read_bytes()


@pytest.fixture
def live_demo(tmp_path, demo_history):
    """Serve a copy of the demo history of Kediri on a free port with a threaded server."""
    database = tmp_path / "demo.db"
    database.write_bytes(demo_history)
    app = demo_app(database)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def log_in_as_manager(page: Page, url: str, username: str = "manager") -> None:
    """Log the page in as the demo site's manager (or its admin)."""
    page.goto(f"{url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_url("**/manage/log")


# Draw each loaded chart on a canvas and count strongly coloured pixels: without its inline
# styles (a CSP that blocked them) pygal's bars and lines would all be black.
COLOURED_PIXELS = """img => {
  const canvas = document.createElement('canvas');
  canvas.width = 760; canvas.height = 360;
  const context = canvas.getContext('2d');
  context.drawImage(img, 0, 0, 760, 360);
  const pixels = context.getImageData(0, 0, 760, 360).data;
  let coloured = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    const channels = [pixels[i], pixels[i + 1], pixels[i + 2]];
    if (Math.max(...channels) - Math.min(...channels) > 60) coloured++;
  }
  return coloured;
}"""


@pytest.mark.browser
def test_charts_render_in_a_real_browser(browser, live_demo):
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:
        blocked = []
        page.on("console", lambda message: blocked.append(message.text))
        log_in_as_manager(page, live_demo)
        page.goto(f"{live_demo}/manage/reports")
        page.wait_for_load_state("networkidle")
        images = page.locator(".charts img")
        assert images.count() == len(CHART_KINDS)
        for index in range(images.count()):
            image = images.nth(index)
            assert image.evaluate("img => img.complete && img.naturalWidth > 0")
            assert image.evaluate(COLOURED_PIXELS) > 500
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "manage-reports-1280x800.png"))
        assert not [text for text in blocked if "Content Security Policy" in text]
        # Opened on its own ("open image in new tab") the SVG is a document, where its
        # CSP applies: pygal's styles must work and its inline script must not run.
        page.goto(f"{live_demo}/manage/reports/chart/decisions.svg")
        admitted_bar = page.locator(".serie-0 rect").first
        assert admitted_bar.evaluate("bar => getComputedStyle(bar).fill") == ADMITTED_FILL
        assert any("inline script" in text for text in blocked)
    finally:
        page.close()


@pytest.mark.browser
@pytest.mark.parametrize(("width", "height"), [(1024, 768), (1280, 800)])
def test_the_per_period_table_fits_the_screen(browser, live_demo, width, height):
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        log_in_as_manager(page, live_demo)
        page.goto(f"{live_demo}/manage/reports")
        wrap = page.locator("table.periods").locator("xpath=..")
        overflow = wrap.evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
        assert overflow <= 0, f"the table is {overflow} px wider than the screen"
        heights = page.locator("table.periods tbody th").evaluate_all(
            "cells => cells.map(cell => cell.getBoundingClientRect().height)"
        )
        total = page.locator("table.periods tfoot th").evaluate(
            "cell => cell.getBoundingClientRect().height"
        )
        assert max(heights) <= total + 1, "a period name wraps onto a second line"
        page.locator("table.periods").evaluate("table => table.scrollIntoView()")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"manage-report-periods-{width}x{height}.png"))
    finally:
        page.close()


@pytest.mark.browser
def test_a_manager_voids_a_check_from_the_log_on_a_tablet(browser, live_demo):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        log_in_as_manager(page, live_demo)
        wrap = page.locator("table.log").locator("xpath=..")
        overflow = wrap.evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
        assert overflow <= 0, f"the log is {overflow} px wider than the screen"
        row = page.locator("table.log tbody tr:not(.voided)").first
        row_id = row.get_attribute("id")
        link = row.locator("a.open-check")
        box = link.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, f"a {box} target is small for a finger"
        link.click()
        page.fill("input[name=reason]", "typed twice")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "manage-void-check-1024x768.png"))
        page.locator("form.void-form button[type=submit]").click()
        page.wait_for_url(f"**/manage/log?day=*#{row_id}")
        voided = page.locator(f"#{row_id}")
        assert "voided" in voided.get_attribute("class")
        message = page.locator(".flash.success").bounding_box()
        assert message["y"] >= 0 and message["y"] + message["height"] <= 768, (
            "the message is out of view"
        )
        assert "typed twice" in voided.inner_text()
    finally:
        page.close()


@pytest.mark.browser
def test_the_printable_summary_prints_with_one_tap(browser, live_demo):
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    try:
        log_in_as_manager(page, live_demo)
        page.goto(f"{live_demo}/manage/summary")
        page.evaluate("window.print = () => { window.printed = true; }")
        page.click("button[data-print]")
        assert page.evaluate("window.printed") is True
    finally:
        page.close()


@pytest.mark.browser
def test_a_date_range_error_does_not_stretch_its_field(browser, live_demo):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        log_in_as_manager(page, live_demo)
        page.goto(f"{live_demo}/manage/reports?from=2026-11-30&to=2026-11-01")
        expect(page.locator(".filters .error")).to_be_visible()
        widths = page.locator(".filters input[type=date]").evaluate_all(
            "inputs => inputs.map(input => input.getBoundingClientRect().width)"
        )
        tops = page.locator(".filters input[type=date]").evaluate_all(
            "inputs => inputs.map(input => input.getBoundingClientRect().top)"
        )
        assert max(widths) - min(widths) < 2 and max(tops) - min(tops) < 2, (widths, tops)
    finally:
        page.close()


# Every manager page, for the checks that hold on each of them.
MANAGER_PAGES = [
    "/manage/log",
    "/manage/reports",
    "/manage/summary",
    "/manage/bookings",
    "/manage/tablets",
    "/manage/settings",
    "/manage/audit",
]


@pytest.mark.browser
def test_the_manager_header_leaves_eight_log_rows_in_view(browser, live_demo):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        log_in_as_manager(page, live_demo)
        for path in MANAGER_PAGES:
            page.goto(f"{live_demo}{path}")
            header = page.locator("header.topbar").bounding_box()
            assert header["height"] <= 64, f"{path}: the header is {header['height']} px tall"
        page.goto(f"{live_demo}/manage/log")
        bottoms = page.locator("table.log tbody tr").evaluate_all(
            "rows => rows.map(row => row.getBoundingClientRect().bottom)"
        )
        assert sum(bottom <= 768 for bottom in bottoms) >= 8
        # More pages than one row holds at 1024 px: the nav wraps to a second row in the header.
        links = page.locator("nav.manage-nav a")
        for index in range(links.count()):
            box = links.nth(index).bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1024, links.nth(index).inner_text()
            assert box["y"] + box["height"] <= 64, f"{links.nth(index).inner_text()} is below"
        page.evaluate("window.scrollTo(0, 0)")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "manage-log-1024x768.png"))
    finally:
        page.close()


# Each nav link that is not wholly in the viewport, or not what a tap at its centre hits (cut
# off by a box that scrolls or hides what overflows it), or whose words do not fit it.
NAV_LINKS_OUT_OF_VIEW = """() => Array.from(document.querySelectorAll("nav.manage-nav a"))
.filter(link => {
  const box = link.getBoundingClientRect();
  const inside = box.left >= 0 && box.top >= 0
    && box.right <= window.innerWidth && box.bottom <= window.innerHeight;
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return !inside || !link.contains(hit) || link.scrollWidth > link.clientWidth;
}).map(link => link.textContent.trim())"""


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize(("username", "links"), [("manager", 9), ("admin", 11)])
def test_every_nav_item_is_in_view_at_1024x768_without_scrolling_sideways(
    browser, live_demo, username, links, lang
):
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    try:
        log_in_as_manager(page, live_demo, username)
        page.click(f".languages button[lang={lang}]")
        pages = MANAGER_PAGES + (["/manage/admin"] if username == "admin" else [])
        for path in pages:
            page.goto(f"{live_demo}{path}")
            expect(page.locator("nav.manage-nav a")).to_have_count(links)
            nav = page.locator("nav.manage-nav")
            assert nav.evaluate("nav => nav.scrollWidth - nav.clientWidth") <= 0, path
            assert page.evaluate("document.documentElement.scrollWidth") <= 1024, path
            assert page.evaluate(NAV_LINKS_OUT_OF_VIEW) == [], path
        page.goto(f"{live_demo}/manage/log")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"manage-nav-{username}-{lang}-1024x768.png"))
    finally:
        page.close()


@pytest.mark.browser
def test_no_manager_page_scrolls_sideways_in_portrait_without_saying_so(browser, live_demo):
    page = browser.new_page(viewport={"width": 800, "height": 1280})
    try:
        log_in_as_manager(page, live_demo)
        for path in MANAGER_PAGES:
            page.goto(f"{live_demo}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= 800, path
            for wrap in page.locator(".table-wrap").all():
                overflow = wrap.evaluate("wrap => wrap.scrollWidth - wrap.clientWidth")
                if overflow > 0:
                    note = wrap.locator("xpath=preceding-sibling::p[@class='scroll-note'][1]")
                    assert note.is_visible(), f"{path}: a table scrolls sideways unannounced"
        page.goto(f"{live_demo}/manage/log")
        for row in page.locator("table.log tbody tr").all()[:20]:
            for cell in row.locator("td").all():
                box = cell.bounding_box()
                if box is not None:
                    assert box["x"] + box["width"] <= 800, f"{cell.inner_text()} is cut off"
        badges = page.locator("table.log .badge").evaluate_all(
            "badges => badges.map(badge => badge.getClientRects().length)"
        )
        assert set(badges) == {1}, "a status badge wraps onto two lines"
        recorded = page.locator("table.log tbody tr td[data-label]").last
        assert recorded.is_visible()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "manage-log-800x1280.png"))
    finally:
        page.close()
