"""The office's public booking page in headless Chromium at a phone-like 800x1280 and a tablet's
1024x768: a visitor picks a day and a session, books, sees the code and its QR code, and cancels."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.domain import limits
from checkin.extensions import db
from checkin.models import Booking, BookingSession, SessionDay, SiteBooking
from checkin.services import bookings
from tests.browser.conftest import LiveServer, screenshot
from tests.test_bookings import TOMORROW

# How a booking code shows: two groups of five, split by a dash.
SHOWN_CODE = re.compile(
    f"^[{limits.BOOKING_CODE_ALPHABET}]{{5}}-[{limits.BOOKING_CODE_ALPHABET}]{{5}}$"
)

pytestmark = pytest.mark.browser


@pytest.fixture
def page_on(server: LiveServer) -> Iterator[str]:
    """Switch the site's booking page on; afterwards forget its bookings and switch it off."""
    with server.app.app_context():
        bookings.set_public_page(server.site(), True, None, server.clock.now)
        db.session.commit()
    yield f"{server.url}/book/KDR"
    with server.app.app_context():
        for model in (Booking, SessionDay, BookingSession, SiteBooking):
            db.session.execute(sa.delete(model))
        db.session.commit()


@pytest.mark.parametrize(
    ("width", "height", "phone"), [(800, 1280, "0812 3456 7890"), (1024, 768, "0813 1111 2222")]
)
def test_a_visitor_books_sees_the_code_and_its_qr_code_and_cancels(
    browser, page_on, width, height, phone
):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(page_on)
    expect(page.locator("h1")).to_contain_text("Pesan kunjungan")
    page.click(".languages button[lang=en]")
    expect(page.locator("h1")).to_contain_text("Book a visit")
    expect(page.locator("[data-day]")).to_have_count(limits.PUBLIC_BOOKING_DAYS)
    screenshot(page, "booking-page")
    page.click(f"[data-day='{TOMORROW.isoformat()}']")
    expect(page.locator(f"[data-day='{TOMORROW.isoformat()}']")).to_have_attribute(
        "aria-current", "date"
    )
    page.check("input[name=session][value='10:00']")
    page.fill("#name", "Siti Aminah")
    page.fill("#phone", phone)
    page.fill("#nik_last4", "4321")
    page.click("button[type=submit].primary")
    code = page.locator("[data-code]")
    expect(code).to_have_text(SHOWN_CODE)
    qr = page.locator("img.qr")
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    expect(page.locator("[data-print]")).to_be_visible()
    screenshot(page, "booking-made")
    typed = code.inner_text()
    page.click(".languages button[lang=id]")
    expect(page.locator("h2")).to_have_text("Yang perlu dibawa")
    expect(code).to_have_text(typed)
    page.click(".languages button[lang=en]")
    page.click("text=Back to the booking page")
    page.fill("#cancel-code", typed)
    page.fill("#cancel-phone", phone)
    page.click("#cancel button[type=submit]")
    expect(page.locator("[data-notice]")).to_contain_text(typed)
    context.close()


def test_a_visitor_books_a_video_session_from_home_and_is_told_how_they_are_reached(
    browser, server, page_on
):
    context = browser.new_context(viewport={"width": 800, "height": 1280})
    page = context.new_page()
    page.goto(page_on)
    page.click(".languages button[lang=en]")
    page.click(f"[data-day='{TOMORROW.isoformat()}']")
    page.check("input[name=session][value='13:00']")
    page.fill("#name", "Budi Santoso")
    page.fill("#phone", "0813 5555 6666")
    page.fill("#nik_last4", "1357")
    # The contact is asked of a video session only.
    expect(page.locator("#contact")).to_be_hidden()
    page.check("input[name=kind][value=video]")
    expect(page.locator("#contact")).to_be_visible()
    page.fill("#contact", "http://meet.example.org/budi")
    page.click("button[type=submit].primary")
    expect(page.locator("#contact")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("input[name=kind][value=video]")).to_be_checked()
    screenshot(page, "booking-video-refused")
    page.fill("#contact", "https://meet.example.org/budi")
    page.click("button[type=submit].primary")
    expect(page.locator("[data-reached-by=link]")).to_be_visible()
    expect(page.locator("[data-contact]")).to_have_text("https://meet.example.org/budi")
    expect(page.locator("[data-code]")).to_have_text(SHOWN_CODE)
    expect(page.locator("img.qr")).to_have_count(0)
    screenshot(page, "booking-video-made")
    with server.app.app_context():
        [booking] = db.session.scalars(sa.select(Booking)).all()
        assert (booking.kind, booking.contact) == ("video", "https://meet.example.org/budi")
    context.close()
