"""The officers' console in headless Chromium: open a booth, call, serve, and the door sees it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import (
    Booking,
    BookingSession,
    Booth,
    SessionDay,
    SiteBooking,
    User,
    utcnow,
)
from checkin.services import accounts, bookings, floor, transaction
from checkin.services.bookings import BookingData
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

OFFICER = "petugas1"


@pytest.fixture
def officer(server) -> str:
    """Return an officer account of the door's site holding no booth."""
    with server.app.app_context():
        db.session.execute(sa.update(Booth).values(officer_id=None, opened_at=None))
        if db.session.scalar(sa.select(User).where(User.username == OFFICER)) is None:
            with transaction.owned():
                accounts.add_user(
                    OFFICER, "officer", PASSWORD, server.site(), by=None, now=utcnow()
                )
        db.session.commit()
    return OFFICER


@pytest.fixture
def open_console(browser, server, officer):
    """Return a function opening the officer's console at a size; closes them afterwards."""
    contexts = []

    def open_at(width: int = 1280, height: int = 800):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{server.url}/login")
        page.click("form.languages button[lang=en]")
        sign_in(page, officer)
        page.wait_for_url(f"{server.url}/floor/")
        return page

    yield open_at
    for context in contexts:
        context.close()


def test_an_officer_calls_serves_and_the_door_sees_inside_now_drop(open_door, open_console, server):
    server.check_in(2)
    door = open_door()
    expect(door.locator("#counter [data-inside]")).to_have_text("2")
    page = open_console()
    expect(page.locator("#queue [data-waiting]")).to_have_text("2")
    page.click("#booth-1 button:has-text('Open')")
    card = page.locator("article#booth-1")
    expect(card.locator(".called.free")).to_be_visible()
    card.locator("button.call").click()
    expect(card.locator(".number")).to_have_text("1")
    expect(page.locator("#queue [data-waiting]")).to_have_text("1")
    card.locator("button.start").click()
    expect(card).to_have_class("booth-card serving")
    card.locator("button.done").click()
    expect(card.locator(".called.free")).to_be_visible()
    # The door's counter follows on its next poll, without a reload.
    expect(door.locator("#counter [data-inside]")).to_have_text("1")


def test_the_console_follows_a_call_made_elsewhere(open_console, server):
    server.check_in(1)
    page = open_console()
    expect(page.locator("#queue [data-waiting]")).to_have_text("1")
    with server.app.app_context():
        site = server.site()
        with transaction.owned():
            colleague = accounts.add_user(
                "petugas.lain", "officer", PASSWORD, site, by=None, now=utcnow()
            )
            floor.open_booth(site, colleague, 7, server.clock.now)
            floor.call_next(site, colleague, 7, server.clock.now)
    # The poll sees the booth change and reloads: the other booth shows its number.
    expect(page.locator("#booth-7 .holder")).to_contain_text("petugas.lain", timeout=8000)
    expect(page.locator("#queue [data-waiting]")).to_have_text("0")
    with server.app.app_context():
        db.session.execute(sa.update(Booth).values(officer_id=None, opened_at=None))
        db.session.commit()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1024, 768)])
def test_console_with_three_booths_in_different_states(open_console, server, width, height):
    server.check_in(6)
    with server.app.app_context():
        site = server.site()
        officer = db.session.scalar(sa.select(User).where(User.username == OFFICER))
        now = server.clock.now
        for number in (1, 2, 3):
            with transaction.owned():
                floor.open_booth(site, officer, number, now)
        with transaction.owned():
            serving = floor.call_next(site, officer, 1, now + timedelta(minutes=2))
            floor.start(site, officer, 1, serving.id, now + timedelta(minutes=3))
            called = floor.call_next(site, officer, 2, now + timedelta(minutes=4))
            floor.recall(site, officer, 2, called.id, now + timedelta(minutes=6))
    server.clock.now += timedelta(minutes=14)
    page = open_console(width, height)
    expect(page.locator("article.booth-card")).to_have_count(3)
    expect(page.locator("#booth-1.serving .number")).to_have_text("1")
    expect(page.locator("#booth-2.called .what")).to_contain_text("2 calls")
    expect(page.locator("#booth-3.free button.call")).to_be_enabled()
    expect(page.locator("#queue [data-longest]")).to_have_text("14")
    # Every button of the three cards is on screen without scrolling.
    for button in page.locator("article.booth-card button").all():
        box = button.bounding_box()
        assert box["y"] + box["height"] <= height and box["x"] + box["width"] <= width
    screenshot(page, "floor-console")


def test_door_counter_with_inside_now(open_door, server):
    server.check_in(3)
    door = open_door()
    expect(door.locator("#counter [data-inside]")).to_have_text("3")
    screenshot(door, "floor-door-counter")


@pytest.fixture
def video_session(server) -> Iterator[int]:
    """Book a video session of today's 08:00 session (due before the visitors admitted at
    10:00), reached at a phone; afterwards forget the site's bookings."""
    with server.app.app_context():
        site = server.site()
        data = BookingData(
            day=site.local_day(server.clock.now),
            starts=time(8),
            name="Dewi Lestari",
            phone="0857 1111 2222",
            nik_last4="2468",
            kind="video",
            contact="0812-3456-789",
        )
        with transaction.owned():
            booking_id = bookings.book(site, data, server.clock.now).booking.id
    yield booking_id
    with server.app.app_context():
        db.session.execute(sa.update(Booth).values(officer_id=None, opened_at=None))
        for model in (Booking, SessionDay, BookingSession, SiteBooking):
            db.session.execute(sa.delete(model))
        db.session.commit()


def test_an_officer_serving_two_booths_and_a_video_session_at_once(
    open_console, server, video_session
):
    server.check_in(2)
    page = open_console(1024, 768)
    expect(page.locator("#queue [data-waiting]")).to_have_text("3")
    for number in (1, 2):
        page.click(f"#booth-{number} button:has-text('Open')")
        expect(page.locator(f"article#booth-{number}")).to_be_visible()
    # The video session has waited longest (since 08:00): the first call takes it, and the
    # booth stays free for the next number.
    page.locator("#booth-1 button.call").click()
    video = page.locator(f"article#video-{video_session}")
    expect(video).to_have_attribute("data-state", "called")
    expect(video.locator("[data-reach=tel]")).to_have_attribute("href", "tel:+628123456789")
    expect(video.locator("[data-reach=whatsapp]")).to_have_attribute(
        "href", "https://wa.me/628123456789"
    )
    expect(page.locator("#booth-1 .called.free")).to_be_visible()
    page.locator("#booth-1 button.call").click()
    expect(page.locator("#booth-1 .number")).to_have_text("1")
    page.locator("#booth-2 button.call").click()
    expect(page.locator("#booth-2 .number")).to_have_text("2")
    expect(page.locator("#queue [data-waiting]")).to_have_text("0")
    video.locator("button.start").click()
    expect(video).to_have_attribute("data-state", "serving")
    expect(page.locator("article.booth-card")).to_have_count(3)
    screenshot(page, "floor-console-video")
    video.locator("button.done").click()
    expect(video).to_have_count(0)
    expect(page.locator("article.booth-card")).to_have_count(2)
    with server.app.app_context():
        done = db.session.get(Booking, video_session)
        assert (done.floor_state, done.status) == ("done", "admitted")
