"""The office's own public booking page (no login): pick a day and a session with room, book
with a name, phone and the NIK's last 4 digits, get a code and its QR code; cancel by code and
phone. Off until a manager switches it on for the site: a site off or unknown is 404.

Nothing here tells whether a given person has booked: a second booking of the same NIK digits
and phone is refused in words that name nobody, and a wrong code or wrong phone get one answer.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from checkin.domain import booking_rules, limits
from checkin.domain.booking_errors import UnknownBooking
from checkin.domain.errors import ServiceError, UnknownSite
from checkin.models import Booking, Site
from checkin.services import bookings, sites, transaction
from checkin.web.common import now, qr_code
from checkin.web.forms import mark_error
from checkin.web.forms.booking_page import BookingForm, CancelForm, DayForm
from checkin.words.booking_words import cancelled_text, grouped_code, page_error_text
from checkin.words.calendar import day_text

bp = Blueprint("booking_page", __name__, url_prefix="/book")
# The booking this browser has just made (its code and when), shown on its page for a while.
JUST_BOOKED = "just_booked"
SHOWN_FOR = timedelta(minutes=30)


def public_site(code: str) -> Site:
    """Return the site of ``code`` if its public page is on; else answer 404, alike for both."""
    try:
        site = sites.site_coded(code)
    except UnknownSite:
        abort(404)
    if not bookings.setup_of(site).public_page:
        abort(404)
    return site


def render_page(
    site: Site,
    status: int = 200,
    *,
    form: BookingForm | None = None,
    cancel_form: CancelForm | None = None,
    day: date | None = None,
    notice: str | None = None,
    problem: str | None = None,
) -> tuple[str, int]:
    """Draw the page: the days offered, the chosen day's sessions with room, both forms."""
    offered = bookings.open_days(site, now())
    chosen = next((open_day for open_day in offered if open_day.day == day), None)
    if chosen is None and offered:
        chosen = offered[0]
    return render_template(
        "booking/page.html",
        site=site,
        offered=offered,
        chosen=chosen,
        form=form or BookingForm(formdata=None),
        cancel_form=cancel_form or CancelForm(formdata=None, prefix="cancel"),
        notice=notice,
        problem=problem,
        day_text=day_text,
        limits=limits,
    ), status


@bp.get("/<code>")
def page(code: str):
    """Show the days and sessions with room, the booking form and the cancel form."""
    site = public_site(code)
    wanted = DayForm()
    if not wanted.validate():
        return render_page(site, 400, problem=wanted.day.errors[0])
    return render_page(site, day=wanted.day.data)


@bp.post("/<code>")
def book(code: str):
    """Book a place, then show the booking made on its own page (a reload books nothing)."""
    site = public_site(code)
    form = BookingForm()
    if not form.validate_on_submit():
        return render_page(site, 400, form=form, day=form.day.data)
    try:
        take_attempt()
        with transaction.owned():
            booked = bookings.book_on_page(site, form.booking_data(), now())
    except ServiceError as error:
        return render_page(
            site, error.status, form=form, day=form.day.data, problem=page_error_text(error)
        )
    session[JUST_BOOKED] = {"code": booked.booking.code, "at": now().isoformat()}
    return redirect(url_for(".booked", code=site.code), 303)


@bp.get("/<code>/booked")
def booked(code: str):
    """Show the booking this browser has just made: the code big, its QR code, the day, session
    and check-in window, and what to bring. Only for ``SHOWN_FOR`` after booking, so that the
    next visitor on a shared phone does not find it; after that, the booking page."""
    site = public_site(code)
    booking = just_booked(site)
    if booking is None:
        return redirect(url_for(".page", code=site.code))
    opens, closes = booking_rules.window(booking.day, booking.session.times, site.zone)
    return render_template(
        "booking/booked.html",
        site=site,
        booking=booking,
        grouped=grouped_code(booking.code),
        qr=qr_code(booking.code),
        opens=opens,
        closes=closes,
        day_text=day_text,
        video=booking.kind == bookings.VIDEO,
        reach=booking_rules.reach(booking.contact, booking.phone),
    )


def just_booked(site: Site) -> Booking | None:
    """Return the booking this browser made on the site's page within ``SHOWN_FOR``, if it is
    still to be used (not cancelled since)."""
    made = session.get(JUST_BOOKED)
    if not made or now() - datetime.fromisoformat(made["at"]) > SHOWN_FOR:
        return None
    try:
        booking = bookings.booking_coded(site, made["code"])
    except UnknownBooking:
        return None  # made on another office's page
    return booking if booking.status == booking_rules.BOOKED else None


@bp.post("/<code>/cancel")
def cancel(code: str):
    """Cancel a booking by its code and the phone it was made with."""
    site = public_site(code)
    form = CancelForm(prefix="cancel")
    if not form.validate_on_submit():
        return render_page(site, 400, cancel_form=form)
    try:
        take_attempt()
        with transaction.owned():
            cancelled = bookings.cancel_on_page(site, form.code.data, form.phone.data, now())
    except ServiceError as error:
        mark_error(form.code, page_error_text(error), error.code)
        return render_page(site, error.status, cancel_form=form)
    return render_page(site, notice=cancelled_text(cancelled))


def take_attempt() -> None:
    """Take one booking or cancellation from the client address's throttle, committed on its
    own: a refused try still counts, or probing for who has booked would cost nothing."""
    with transaction.owned():
        bookings.take_page_attempt(client_address(), now())


def client_address() -> str:
    """Return the client's address as the proxies configured report it (see trust_proxies)."""
    return request.remote_addr or ""
