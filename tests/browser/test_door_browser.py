"""The door page in headless Chromium: what door staff see and tap, against a live server."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LOW_CONTRAST_TEXT, ONLINE_SERVICE_URL, screenshot

pytestmark = pytest.mark.browser

TOGGLES = ("hand_sanitiser", "mask", "distancing")


def check(page, temperature: str, ticks=TOGGLES, **details: str) -> None:
    """Type a reading, tap the given toggles and submit, as staff would; wait for the answer."""
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
    """Tap "next visitor" once it takes taps, and wait for the empty form."""
    button = page.locator("#answer-actions [data-next]")
    expect(button).not_to_have_class(re.compile("arming"))
    button.click()
    expect(page.locator("#temperature")).to_be_visible()


def test_staff_admit_a_visitor_and_see_the_queue_number(open_door, server):
    page = open_door()
    # The tablet holds five slots for when its connection drops: they count as used.
    expect(page.locator("#counter [data-left]")).to_have_text("55")
    for toggle in TOGGLES:
        expect(page.locator(f"#{toggle}")).not_to_be_checked()
    check(page, "36,6", visitor_name="Siti Aminah")
    expect(page.locator("#answer.admitted h1:visible")).to_have_text("DITERIMA")
    expect(page.locator("#answer [data-slot]")).to_have_text("1")  # the first slot it held
    expect(page.locator("#answer [data-facts]")).to_contain_text("Siti Aminah")
    expect(page).to_have_url(f"{server.url}/")  # answered from the JSON, on the same page
    # The check is counted once: the tablet tops its lease back up to five after it (1 admitted
    # + 5 held), and the counter settles on what the server says. Right after the answer it may
    # still show 55, until the top-up and the next poll.
    expect(page.locator("#counter [data-left]")).to_have_text("54")
    assert server.left_today() == 54
    next_visitor(page)
    expect(page.locator("#temperature")).to_have_value("")
    expect(page.locator(".recent li.admitted")).to_have_count(1)


def test_a_double_tap_leaves_the_answer_on_screen(open_door):
    page = open_door()
    page.fill("#temperature", "36,6")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
    page.clock.install()  # the guard lasts until the test moves the clock
    button = page.locator("button.submit").bounding_box()
    x, y = button["x"] + button["width"] / 2, button["y"] + button["height"] / 2
    page.mouse.click(x, y)
    expect(page.locator("#answer.admitted")).to_be_visible()
    page.mouse.click(x, y)  # the second tap, where "next visitor" now is
    expect(page.locator("#answer.admitted")).to_be_visible()
    page.clock.fast_forward(1500)
    expect(page.locator("#answer.admitted")).to_be_visible()


def test_staff_refuse_a_visitor_without_a_mask_typing_on_the_keypad(open_door):
    page = open_door()
    temperature = page.locator("#temperature")
    expect(temperature).to_have_attribute("inputmode", "none")
    for key in ("3", "6", "6", "back", ",", "5"):
        page.click(f".keypad [data-key='{key}']")
    expect(temperature).to_have_value("36,5")
    for toggle in ("hand_sanitiser", "distancing"):
        page.click(f"label[for={toggle}]")
    page.click("button.submit")
    verdict = page.locator("#answer.refused")
    expect(verdict.locator("h1:visible")).to_have_text("DITOLAK")
    expect(verdict.locator("[data-reason]:visible")).to_have_count(1)
    expect(verdict.locator("[data-reason=no_mask]")).to_contain_text("Tidak memakai masker.")
    expect(verdict.locator("[data-facts]")).to_contain_text("36,5 °C")
    expect(page.locator("#counter [data-left]")).to_have_text("55")  # only the tablet's lease


def test_a_fever_is_re_tested_after_five_minutes_and_linked(open_door, server):
    page = open_door()
    check(page, "37.8")
    expect(page.locator("#answer.recheck h1:visible")).to_have_text("UKUR ULANG")
    expect(page.locator("#answer [data-time]")).to_have_text("10:05")
    # On the result page the server keeps: too early there is refused with the time.
    page.goto(f"{server.url}/visits/1")
    page.fill("form.retest #temperature", "36.9")
    page.click("form.retest button")
    expect(page.locator("#temperature-error")).to_contain_text("10:05")
    expect(page.locator("form.retest #temperature")).to_have_value("36.9")
    server.clock.now += timedelta(minutes=5)
    page.click("form.retest button")
    page.wait_for_url("**/visits/2")
    expect(page.locator("#slot")).to_have_text("1")
    expect(page.locator(".facts")).to_contain_text("37,8 °C")


def test_the_counter_follows_admissions_from_another_tablet_without_a_reload(open_door, server):
    first = open_door()
    first.evaluate("window.stillTheSamePage = true")
    expect(first.locator("#counter [data-left]")).to_have_text("55", timeout=5000)
    second = open_door("pintu2")  # takes slots of its own, and tops them up after each answer
    check(second, "36.4")
    server.check_in(count=2)
    # The tablets' leases move the figure too: follow the server's, read afresh each time.
    counter = first.locator("#counter [data-left]")
    deadline = time.monotonic() + 10
    while counter.inner_text() != str(server.left_today()) and time.monotonic() < deadline:
        first.wait_for_timeout(200)
    assert counter.inner_text() == str(server.left_today()) != "55"
    assert first.evaluate("window.stillTheSamePage") is True


def test_a_misread_thermometer_is_shown_next_to_the_field(open_door):
    page = open_door()
    page.fill("#temperature", "45.0")
    page.click("label[for=mask]")
    page.click("button.submit")
    expect(page.locator("#temperature-error")).to_contain_text("45,0 °C tidak mungkin benar")
    expect(page.locator("#temperature")).to_have_value("45.0")
    expect(page.locator("#mask")).to_be_checked()


def test_the_check_button_stays_in_reach_above_the_visitor_details(open_door):
    page = open_door(width=1024, height=768)
    page.click("details.visitor summary")
    button = page.locator("button.submit").bounding_box()
    assert button["y"] + button["height"] <= 768, "the button fell below the bottom edge"
    page.fill("#temperature", "36.5")
    page.fill("#id_number", "123")
    page.click("button.submit")
    expect(page.locator("#id_number")).to_be_focused()
    # The browser scrolls an autofocused field into view a moment after the page loads.
    expect(page.locator("#id_number-error")).to_be_in_viewport()
    error = page.locator("#id_number-error").bounding_box()
    button = page.locator("button.submit").bounding_box()
    assert error["y"] + error["height"] <= button["y"], "the NIK error is under the button"
    assert button["y"] + button["height"] <= 768


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_screenshots_of_every_door_screen(browser, open_door, server, width, height):
    with browser.new_context(viewport={"width": width, "height": height}) as context:
        login = context.new_page()
        login.goto(f"{server.url}/login")
        screenshot(login, "login")
    server.check_in(visitor_name="Budi Santoso")
    server.check_in(mask=False)
    server.check_in(temperature_dc=378, visitor_name="Dewi Lestari")
    page = open_door(width=width, height=height)
    screenshot(page, "door-form")
    # Checkboxes sit inside their .toggle label, which is the thing a finger hits.
    touchable = "button, .button, .toggle, input:not([type=checkbox]), select, summary"
    for target in page.locator(touchable).all():
        box = target.bounding_box()
        if box:
            assert box["height"] >= 48, target.evaluate("node => node.outerHTML")
    page.fill("#temperature", "45")
    page.click("button.submit")
    expect(page.locator("#temperature-error")).to_be_visible()
    screenshot(page, "door-form-error")
    check(page, "36.7", visitor_name="Agus Wijaya")
    screenshot(page, "result-admitted")
    next_visitor(page)
    check(page, "38.1", ticks=("distancing",))
    screenshot(page, "result-refused")
    next_visitor(page)
    check(page, "37.6")
    screenshot(page, "result-retest")
    server.use_every_slot()
    page.goto(f"{server.url}/")
    check(page, "36.5")
    expect(page.locator("#answer .online a")).to_have_attribute("href", ONLINE_SERVICE_URL)
    expect(page.locator("#answer .online img")).to_be_visible()
    screenshot(page, "result-quota-full")
    page.goto(f"{server.url}/manage/log")
    expect(page.locator(".error-page h1")).to_have_text("Tidak diizinkan")
    screenshot(page, "error-403")
    page.goto(f"{server.url}/")
    page.click("button[formaction='/lang/en']")
    expect(page.locator("button.submit")).to_have_text("Check visitor")
    screenshot(page, "door-form-english")


def test_quota_full_is_said_before_anything_is_measured(open_door, server):
    server.use_every_slot()
    page = open_door()
    banner = page.locator("#quota-full")
    expect(banner).to_contain_text("Kuota hari ini habis")
    expect(banner.locator("img")).to_be_visible()
    screenshot(page, "door-quota-full")
    page.set_viewport_size({"width": 800, "height": 1280})
    screenshot(page, "door-quota-full")
    check(page, "36.5")  # still recorded, for the record
    expect(page.locator("#answer.refused [data-reason=quota_full]")).to_be_visible()


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_a_fever_refusal_shows_the_online_service_link_and_qr_code(
    open_door, server, width, height
):
    server.clock.now = datetime.now(UTC)
    page = open_door(width=width, height=height)
    page.clock.install()
    check(page, "37.8")
    expect(page.locator("#answer .online")).to_be_hidden()
    page.clock.fast_forward("06:00")
    server.clock.now += timedelta(minutes=6)
    retest = page.locator("#answer-actions [data-retest]")
    expect(retest).to_be_enabled()
    retest.click()
    expect(page.locator("[data-retesting]")).to_be_visible()
    page.fill("#temperature", "38.2")
    page.click("button.submit")
    expect(page.locator("#answer.refused [data-reason=fever]")).to_be_visible()
    expect(page.locator("#answer .online a")).to_have_attribute("href", ONLINE_SERVICE_URL)
    expect(page.locator("#answer .online img")).to_be_visible()
    screenshot(page, "result-fever-refused")
    page.goto(f"{server.url}/visits/2")
    expect(page.locator(".verdict.refused [data-reason=fever]")).to_be_visible()
    expect(page.locator(".online a")).to_have_attribute("href", ONLINE_SERVICE_URL)
    expect(page.locator(".online img")).to_be_visible()
    screenshot(page, "result-page-fever-refused")


# Each toggle as its box and the check button's after scrolling the toggle into view (as the
# browser does for a tap, or for a toggle reached by the keyboard): top, bottom, left, right.
TOGGLES_BESIDE_THE_BUTTON = """([align]) => Array.from(document.querySelectorAll(".toggle"))
.map(toggle => {
  if (align) {
    toggle.scrollIntoView({block: align});
  }
  const box = toggle.getBoundingClientRect();
  const button = document.querySelector("button.submit").getBoundingClientRect();
  return {
    name: toggle.textContent.trim(),
    toggle: [box.top, box.bottom, box.left, box.right],
    button: [button.top, button.bottom, button.left, button.right],
    viewport: window.innerHeight,
  };
})"""


def overlaps(one: list[float], other: list[float]) -> bool:
    """Tell whether two boxes (top, bottom, left, right) share any area."""
    return one[0] < other[1] and other[0] < one[1] and one[2] < other[3] and other[2] < one[3]


@pytest.mark.parametrize(("width", "height"), [(800, 1280), (1024, 768)])
def test_with_the_quota_banner_the_check_button_covers_no_toggle(open_door, server, width, height):
    server.use_every_slot()
    page = open_door(width=width, height=height)
    expect(page.locator("#quota-full")).to_be_visible()
    screenshot(page, "door-quota-banner-toggles")
    for align in (None, "nearest", "end", "center", "start"):
        page.evaluate("window.scrollTo(0, 0)")
        for seen in page.evaluate(TOGGLES_BESIDE_THE_BUTTON, [align]):
            toggle, button = seen["toggle"], seen["button"]
            in_view = toggle[1] > 0 and toggle[0] < seen["viewport"]
            assert not (in_view and overlaps(toggle, button)), (align, seen)
    # A tap on each toggle, where Playwright scrolls it to, ticks it and checks nobody.
    page.evaluate("window.scrollTo(0, 0)")
    for toggle in TOGGLES:
        page.click(f"label[for={toggle}]")
        expect(page.locator(f"#{toggle}")).to_be_checked()
    expect(page.locator("#answer")).to_be_hidden()


def test_a_visitor_resting_when_the_slots_run_out_is_told_one_thing(open_door, server):
    page = open_door()
    check(page, "37.8")
    page.goto(f"{server.url}/visits/1")
    expect(page.locator("form.retest")).to_be_attached()
    server.use_every_slot()
    page.reload()
    expect(page.locator("[data-no-slot]")).to_be_visible()
    expect(page.locator("form.retest")).to_have_count(0)
    expect(page.locator("#retest-at")).to_have_count(0)
    expect(page.locator(".verdict")).not_to_contain_text("istirahat")


def test_the_re_test_screen_counts_down_then_offers_the_re_test(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    page.clock.install()
    check(page, "37.8")
    retest = page.locator("#answer-actions [data-retest]")
    expect(retest).to_be_disabled()
    page.goto(f"{server.url}/visits/1")
    expect(page.locator("form.retest")).to_be_hidden()
    expect(page.locator("#retest-at [data-countdown]")).to_have_text(re.compile(r"\(\d:\d\d\)"))
    screenshot(page, "result-retest-countdown")
    page.clock.fast_forward("06:00")
    expect(page.locator("form.retest")).to_be_visible()
    expect(page.locator("#retest-at")).to_contain_text("Siap: ukur ulang sekarang.")


def test_logging_out_of_a_door_tablet_asks_first(open_door, server):
    page = open_door(paired=False)  # a paired tablet's "switch staff" is one tap
    logouts = []
    page.on("request", lambda request: "/logout" in request.url and logouts.append(request))
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.click("form.logout button")
    expect(page).to_have_url(f"{server.url}/")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("form.logout button")
    page.wait_for_url("**/login**")
    # The browser sends a page's requests in order: a logout sent on the first answer would be
    # seen before the second.
    assert len(logouts) == 1


def test_visitors_waiting_for_a_re_test_stay_in_view_until_re_tested(open_door, server):
    server.clock.now = datetime.now(UTC)
    server.check_in(temperature_dc=380, visitor_name="Dewi Lestari")
    server.check_in(count=12)  # more checks than "today's checks" lists
    page = open_door()
    page.clock.install()
    waiting = page.locator(".waiting li")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Dewi Lestari")
    expect(waiting.locator("[data-ready]")).to_be_hidden()
    page.clock.fast_forward("06:00")
    expect(waiting.locator("[data-ready]")).to_be_visible()
    screenshot(page, "door-waiting-for-retest")
    server.clock.now += timedelta(minutes=6)
    waiting.locator("a").click()
    page.fill("form.retest #temperature", "36,8")
    page.click("form.retest button")
    page.wait_for_url("**/visits/*")
    page.goto(f"{server.url}/")
    expect(page.locator(".waiting")).to_be_hidden()


def test_a_visitor_gone_half_an_hour_can_be_closed_from_the_panel(open_door, server):
    server.clock.now = datetime.now(UTC)
    server.check_in(temperature_dc=380, visitor_name="Dewi Lestari")
    page = open_door()
    page.clock.install()
    waiting = page.locator(".waiting li")
    expect(waiting.locator("form.gone")).to_be_hidden()
    page.clock.fast_forward("30:00")
    expect(waiting.locator("form.gone")).to_be_visible()
    screenshot(page, "door-waiting-left-without-retest")
    server.clock.now += timedelta(minutes=30)
    waiting.locator("form.gone button").click()
    # Waits on the answered page's state, not on its load event: under a fake clock and the
    # door's service worker, CI once waited 30 s for a load that had no part in the answer.
    expect(page.locator(".waiting")).to_be_hidden()
    expect(page.locator(".flash.success")).to_contain_text("tanpa ukur ulang")


@pytest.mark.parametrize(("width", "height"), [(1024, 768), (800, 1280)])
def test_every_visitor_detail_shows_whole_with_the_details_open(open_door, width, height):
    page = open_door(width=width, height=height)
    page.click("details.visitor summary")
    page.select_option("#purpose", "jht_claim")
    page.evaluate("window.scrollTo(0, 0)")
    page.click("details.visitor summary")
    # Marked once the page's own toggle listener, registered before this one, has scrolled.
    page.evaluate(
        """() => {
            const details = document.querySelector("details.visitor");
            details.addEventListener("toggle", () => {
                if (details.open) details.dataset.opened = "";
            });
        }"""
    )
    page.click("details.visitor summary")  # opened again, from the top of the page
    page.wait_for_selector("details.visitor[data-opened]", state="attached")
    button = page.locator("button.submit").bounding_box()
    for field in ("visitor_name", "phone", "id_number", "purpose"):
        box = page.locator(f"#{field}").bounding_box()
        label = page.locator(f"label[for={field}]").bounding_box()
        assert label["y"] >= 0 and box["y"] + box["height"] <= button["y"], field
    spare = page.locator("#purpose").evaluate(
        """select => {
            const probe = document.createElement("span");
            probe.style.font = getComputedStyle(select).font;
            probe.textContent = select.selectedOptions[0].textContent;
            document.body.append(probe);
            const spare = select.clientWidth - probe.offsetWidth;
            probe.remove();
            return spare;
        }"""
    )
    assert spare >= 40, "the purpose is cut off"


# Scroll each control to the bottom edge of the screen and return those that something else
# covers there (a button that stays over the form would).
COVERED_AT_THE_BOTTOM_EDGE = """selector => Array.from(document.querySelectorAll(selector))
.filter(node => {
  const box = node.getBoundingClientRect();
  window.scrollTo(0, box.bottom + window.scrollY - window.innerHeight);
  const now = node.getBoundingClientRect();
  const hit = document.elementFromPoint(now.left + now.width / 2, now.top + now.height / 2);
  return !node.contains(hit);
}).map(node => node.textContent.trim())"""


def test_on_a_phone_the_check_button_covers_no_control(open_door):
    page = open_door(width=412, height=823)
    controls = ".toggle, details.visitor summary, .keypad button"
    assert page.evaluate(COVERED_AT_THE_BOTTOM_EDGE, controls) == []


def test_the_next_visitor_button_keeps_its_contrast_while_it_ignores_taps(open_door, server):
    server.clock.now = datetime.now(UTC)
    page = open_door()
    page.clock.install()  # the guard lasts until the test moves the clock
    check(page, "36,6")
    guarded = page.locator("#answer-actions [data-next]")
    expect(guarded).to_have_class(re.compile("arming"))
    expect(guarded).to_have_attribute("aria-disabled", "true")
    assert guarded.evaluate("node => getComputedStyle(node).opacity") == "1"
    assert page.evaluate(LOW_CONTRAST_TEXT) == []
    page.clock.fast_forward(1500)
    expect(guarded).not_to_have_attribute("aria-disabled", "true")


def test_the_delete_key_is_named_by_the_sign_it_shows(open_door):
    page = open_door()
    expect(page.locator(".keypad [data-key=back]")).to_have_accessible_name(re.compile("^⌫ \\w"))
