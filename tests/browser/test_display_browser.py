"""The waiting-room display in Chromium: a new call shows within 2 s and is announced aloud."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from checkin.extensions import db
from checkin.models import User, Visit
from checkin.services import accounts, display, transaction
from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import PASSWORD
from tests.floor_helpers import booth_of, call

# Speech synthesis as the TV's browser would offer it, recording what it is asked to say.
STUB_SPEECH = """
window.spoken = [];
const voices = %s;
window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
Object.defineProperty(window, "speechSynthesis", { value: {
  getVoices: () => voices,
  speak: (utterance) => {
    window.spoken.push({ text: utterance.text, lang: utterance.lang });
    setTimeout(() => utterance.onend && utterance.onend(), 10);
  },
}});
"""
# Audio that "plays" at once, recording which files the page asked for.
STUB_AUDIO = """
window.played = [];
HTMLMediaElement.prototype.play = function () {
  window.played.push(new URL(this.src).pathname);
  setTimeout(() => this.dispatchEvent(new Event("ended")), 10);
  return Promise.resolve();
};
"""


def wait_until_length(page, name: str, length: int, seconds: float = 10) -> None:
    """Wait until the page's recorder ``name`` holds ``length`` entries (polled from here: the
    CSP forbids the eval that page.wait_for_function needs); ``seconds`` only bounds a wait
    that would never end, as expect's timeout does."""
    deadline = time.monotonic() + seconds
    while page.evaluate(f"window.{name}.length") < length and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.evaluate(f"window.{name}.length") == length, page.evaluate(f"window.{name}")


def admit_and_queue(server: LiveServer, count: int) -> list[int]:
    """Admit ``count`` visitors at the door and return their visit ids, all waiting."""
    server.check_in(count, visitor_name="Siti Aminah", phone="081234567890")
    with server.app.app_context():
        visits = db.session.scalars(sa.select(Visit).order_by(Visit.slot)).all()
        for visit in visits:
            visit.floor_state = "waiting"
        db.session.commit()
        return [visit.id for visit in visits]


def call_visit(server: LiveServer, visit_id: int, booth: int, minutes: int) -> None:
    """Call a visit to a booth ``minutes`` after the server's now, as an officer would."""
    with server.app.app_context():
        call(db.session.get(Visit, visit_id), booth, server.clock.now + timedelta(minutes=minutes))


def display_link(server: LiveServer) -> str:
    """Make a display token for the live server's site and return its link."""
    with server.app.app_context():
        manager = db.session.scalar(sa.select(User).where(User.username == "tvmanager"))
        if manager is None:
            with transaction.owned():
                manager = accounts.add_user(
                    "tvmanager", "manager", PASSWORD, server.site(), by=None, now=server.clock.now
                )
        with transaction.owned():
            secret = display.issue_display_token(server.site(), "TV", manager, server.clock.now)
    return f"{server.url}/display?token={secret}"


def open_display(
    browser,
    server: LiveServer,
    voices: str,
    *,
    lang: str = "id",
    size=(1920, 1080),
    clock_stopped: bool = False,
):
    """Open the display in a context of its own; with ``clock_stopped``, the page's time stands
    still from its first moment until the test moves it (page.clock)."""
    context = browser.new_context(
        viewport={"width": size[0], "height": size[1]}, reduced_motion="reduce"
    )
    if clock_stopped:
        context.clock.install()
        context.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))
    context.add_init_script(STUB_SPEECH % voices)
    context.add_init_script(STUB_AUDIO)
    page = context.new_page()
    page.goto(f"{display_link(server)}&lang={lang}")
    page.click("[data-enable-sound]")
    return context, page


def test_a_new_call_shows_within_2_s_and_is_spoken_with_the_indonesian_voice(
    browser, server: LiveServer
) -> None:
    visits = admit_and_queue(server, 9)
    for minute, visit_id in enumerate(visits[:7]):
        call_visit(server, visit_id, booth=minute % 4 + 1, minutes=minute)
    context, page = open_display(
        browser, server, '[{"lang": "id-ID", "name": "Damayanti"}]', clock_stopped=True
    )
    expect(page.locator("[data-current-number]")).to_have_text("7")
    assert page.locator("[data-previous] tr").count() == 6

    call_visit(server, visits[7], booth=3, minutes=8)
    # The page's time stood still since it opened: no poll has run yet. Two seconds of it must
    # bring the call, however long the machine takes to answer.
    page.clock.run_for(2000)
    expect(page.locator("[data-current-number]")).to_have_text("8")
    page.clock.resume()
    expect(page.locator("[data-current-monitor]")).to_have_text("Monitor 3")
    wait_until_length(page, "spoken", 1)
    assert page.evaluate("window.spoken") == [
        {"text": "Nomor antrean delapan, silakan ke monitor tiga", "lang": "id-ID"}
    ]
    # Shown on page load, never announced again; nobody's name on the screen.
    assert "Siti" not in page.content()
    expect(page.locator("[data-waiting]")).to_have_text(re.compile(r"^1 "))  # one left waiting
    screenshot(page, "display")
    context.close()


def test_without_an_indonesian_voice_the_bundled_clips_play_in_order(
    browser, server: LiveServer
) -> None:
    visits = admit_and_queue(server, 12)
    context, page = open_display(browser, server, '[{"lang": "en-US", "name": "English"}]')
    wait_until_length(page, "played", 1)  # the chime of the "enable" tap
    call_visit(server, visits[11], booth=10, minutes=1)
    wait_until_length(page, "played", 7)
    assert page.evaluate("window.played") == [
        "/static/voice/chime.ogg",
        "/static/voice/chime.ogg",
        "/static/voice/id/nomor-antrean.ogg",
        "/static/voice/id/dua.ogg",
        "/static/voice/id/belas.ogg",
        "/static/voice/id/silakan-ke-monitor.ogg",
        "/static/voice/id/sepuluh.ogg",
    ]
    assert page.evaluate("window.spoken") == []
    context.close()


def test_an_english_display_speaks_english_and_else_chimes(browser, server: LiveServer) -> None:
    visits = admit_and_queue(server, 3)
    context, page = open_display(
        browser, server, '[{"lang": "en-GB", "name": "Daniel"}]', lang="en"
    )
    call_visit(server, visits[1], booth=2, minutes=1)
    wait_until_length(page, "spoken", 1)
    assert page.evaluate("window.spoken[0].text") == "Queue number two, please go to monitor two"
    context.close()

    context, page = open_display(browser, server, "[]", lang="en")
    wait_until_length(page, "played", 1)
    call_visit(server, visits[2], booth=1, minutes=2)
    wait_until_length(page, "played", 2)
    assert page.evaluate("window.played[1]") == "/static/voice/chime.ogg"
    context.close()


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)])
def test_the_board_fits_the_tv(browser, server: LiveServer, size) -> None:
    visits = admit_and_queue(server, 24)
    for minute, visit_id in enumerate(visits[:7]):
        call_visit(server, visit_id, booth=minute * 3 % 10 + 1, minutes=minute * 3)
    with server.app.app_context():
        booth_of(server.site(), 9).label = "Pojok kiri"
        db.session.commit()
    context, page = open_display(browser, server, "[]", size=size)
    expect(page.locator("[data-current-number]")).to_have_text("7")
    expect(page.locator("[data-current-label]")).to_have_text("Pojok kiri")
    # Nothing cut off or scrolled: the whole board is on the screen.
    assert page.evaluate("document.documentElement.scrollHeight") <= size[1]
    assert page.evaluate("document.documentElement.scrollWidth") <= size[0]
    last_row = page.locator("[data-previous] tr").last.bounding_box()
    assert last_row["y"] + last_row["height"] <= size[1]
    screenshot(page, "display-board")
    context.close()


# Sample every frame for ``ms`` after a call: the WCAG contrast ratio of each text of the
# frame with what is behind it (backgrounds composited from the page down), the lowest per
# text, and the frame's backgrounds seen, which show that it flashed at all.
FLASH_CONTRAST = """([ms]) => new Promise(resolve => {
  const rgba = css => css.match(/[\\d.]+/g).map(Number).concat([1]).slice(0, 4);
  const over = ([r, g, b, a], below) => [r, g, b].map((c, i) => c * a + below[i] * (1 - a));
  const channel = c => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const behind = node => {
    const layers = [];
    for (let at = node; at; at = at.parentElement) {
      layers.unshift(rgba(getComputedStyle(at).backgroundColor));
    }
    return layers.reduce((below, layer) => over(layer, below), [255, 255, 255]);
  };
  const ratio = node => {
    const back = behind(node);
    const [one, two] = [luminance(over(rgba(getComputedStyle(node).color), back)), luminance(back)];
    return (Math.max(one, two) + 0.05) / (Math.min(one, two) + 0.05);
  };
  const texts = {
    number: "[data-current-number]",
    monitor: "[data-current-monitor]",
    title: "#now-calling-title",
  };
  const frame = document.querySelector(".now-calling");
  const lowest = {};
  const backgrounds = new Set();
  let frames = 0;
  const start = performance.now();
  const sample = now => {
    frames += 1;
    backgrounds.add(getComputedStyle(frame).backgroundColor);
    for (const [name, selector] of Object.entries(texts)) {
      lowest[name] = Math.min(lowest[name] || Infinity, ratio(document.querySelector(selector)));
    }
    if (now - start < ms) {
      requestAnimationFrame(sample);
    } else {
      resolve({lowest, frames, backgrounds: Array.from(backgrounds)});
    }
  };
  requestAnimationFrame(sample);
})"""


def test_the_call_s_flash_keeps_the_number_and_the_monitor_readable_at_every_frame(
    browser, server: LiveServer
) -> None:
    visits = admit_and_queue(server, 14)
    for minute, visit_id in enumerate(visits[:12]):
        call_visit(server, visit_id, booth=minute % 4 + 1, minutes=minute)
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080}, reduced_motion="no-preference"
    )
    context.add_init_script(STUB_SPEECH % '[{"lang": "id-ID", "name": "Damayanti"}]')
    page = context.new_page()
    page.goto(display_link(server))
    page.click("[data-enable-sound]")
    expect(page.locator("[data-current-number]")).to_have_text("12")
    call_visit(server, visits[12], booth=2, minutes=13)
    expect(page.locator(".now-calling")).to_have_class(re.compile(r"\bfresh\b"), timeout=2000)
    seen = page.evaluate(FLASH_CONTRAST, [4200])
    assert seen["frames"] >= 100, seen  # a frame every 42 ms at least: the animation is seen
    assert len(seen["backgrounds"]) >= 2, f"the frame did not flash: {seen}"
    assert min(seen["lowest"].values()) >= 4.5, seen
    expect(page.locator("[data-current-number]")).to_have_text("13")
    expect(page.locator("[data-current-monitor]")).to_have_text("Monitor 2")
    # The screenshot at a moment of the flash: the animations held there.
    call_visit(server, visits[13], booth=4, minutes=14)
    expect(page.locator("[data-current-number]")).to_have_text("14", timeout=2000)
    page.evaluate(
        "() => document.getAnimations().forEach(a => { a.pause(); a.currentTime = 250; })"
    )
    screenshot(page, "display-call-flash")
    page.evaluate(
        "() => document.getAnimations().forEach(a => { a.pause(); a.currentTime = 750; })"
    )
    screenshot(page, "display-call-flash-between")
    context.close()
