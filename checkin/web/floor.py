"""The officers' console: open booths, call the next number, recall, serve, done, no-show."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from checkin.domain import booking_rules, calling
from checkin.domain.errors import ServiceError, UnknownBooth, UnknownVideoSession
from checkin.domain.roles import Capability
from checkin.models import Booking
from checkin.services import booths, floor, transaction, video
from checkin.web.common import acting_user, current_site, now, requires
from checkin.web.forms.floor import BoothForm, StepForm
from checkin.words.errors import error_text
from checkin.words.labels import hour_minute

bp = Blueprint("floor", __name__, url_prefix="/floor")

# Managers may stand in for an officer on a busy day.
officers = requires(Capability.CALL_VISITORS)

# How often the console asks whether the floor changed, in seconds.
POLL_SECONDS = 2.5

STEPS: dict[str, Callable[..., Any]] = {
    calling.RECALL: floor.recall,
    calling.START: floor.start,
    calling.FINISH: floor.finish,
    calling.NO_SHOW_STEP: floor.no_show,
}
VIDEO_STEPS: dict[str, Callable[..., Any]] = {
    calling.START: video.start,
    calling.NO_ANSWER: video.no_answer,
    calling.FINISH: video.finish,
}


def floor_state() -> dict[str, Any]:
    """Return what the console shows, as the poll sends it: the queue and every booth."""
    site = current_site()
    queue = floor.queue(site, now())
    booths_seen = [
        [number, label, officer_id, visit_id and [visit_id, state, calls]]
        for number, label, officer_id, visit_id, state, calls in floor.booths_seen(site)
    ]
    return {
        "waiting": queue.waiting,
        "longest_wait_minutes": queue.longest_wait_minutes,
        # The page reloads when this changes: another officer took a booth or a video
        # session, a void freed a booth.
        "booths": hashlib.sha256(json.dumps(booths_seen).encode()).hexdigest()[:16],
    }


def render_console(
    message: str | None = None, status: int = 200, code: str | None = None
) -> tuple[str, int]:
    """Render the console: the officer's booths as cards, the others to open, the queue.

    ``message`` says why a press was refused; ``code`` names the cause (data-error).
    """
    site = current_site()
    with transaction.owned():  # a site made before the floor gets its booths now
        booths.booths_in_use(site)
    states = floor.booth_states(site)
    mine = [state for state in states if state.booth.officer_id == current_user.id]
    videos = video.held_by(site, current_user)
    seen = floor_state()
    return render_template(
        "floor/console.html",
        site=site,
        mine=mine,
        videos=videos,
        reach=booking_rules.reach,
        video_steps_from=calling.video_steps_from,
        others=[state for state in states if state.booth.officer_id != current_user.id],
        state=seen,
        queue_waiting=seen["waiting"] > 0,
        may_open=len(mine) + len(videos) < site.booths_per_officer,
        error=message,
        error_code=code,
        steps_from=calling.steps_from,
        hour_minute=hour_minute,
        booth_form=BoothForm(),
        poll_seconds=POLL_SECONDS,
    ), status


def refused(error: ServiceError) -> tuple[str, int]:
    """Show the console again with why the press was refused."""
    missing = isinstance(error, (UnknownBooth, UnknownVideoSession))
    return render_console(error_text(error), 404 if missing else 409, error.code)


def stale_page() -> tuple[str, int]:
    """Show the console again after a press without a valid form (an old page, no token)."""
    return render_console(
        _("Nothing was done: the page was out of date. Try again."), 400, "stale_page"
    )


def back_to(number: int) -> Response:
    """Return to the console at the booth just pressed (Post/Redirect/Get)."""
    return redirect(url_for(".console", _anchor=f"booth-{number}"), 303)


def back_to_video(booking_id: int) -> Response:
    """Return to the console at the video session just pressed (Post/Redirect/Get)."""
    return redirect(url_for(".console", _anchor=f"video-{booking_id}"), 303)


@bp.get("/")
@officers
def console():
    """Show the officer's console."""
    return render_console()


@bp.get("/state")
@officers
def state() -> Response:
    """Answer the console's poll; 304 when nothing changed since the ETag it holds."""
    body = json.dumps(floor_state(), separators=(",", ":"))
    tag = hashlib.sha256(body.encode()).hexdigest()[:16]
    if tag in request.if_none_match:
        response = Response(status=304)
    else:
        response = Response(body, mimetype="application/json")
    response.set_etag(tag)
    return response


@bp.post("/booths/<id:number>/<any(open, close, call):press>")
@officers
def press_booth(number: int, press: str):
    """Open or close one of the site's booths, or call the next in the queue to it (a video
    session called goes to the officer's video sessions)."""
    if not BoothForm().validate_on_submit():
        return stale_page()
    action = {"open": floor.open_booth, "close": floor.close_booth, "call": floor.call_next}
    try:
        with transaction.owned():
            done = action[press](current_site(), acting_user(), number, now())
    except ServiceError as error:
        return refused(error)
    if isinstance(done, Booking):
        return back_to_video(done.id)
    return back_to(number)


@bp.post("/video/<id:booking_id>/<any(start, no_answer, done):step>")
@officers
def video_step(booking_id: int, step: str):
    """Start serving, mark not answered, or finish a video session the officer holds."""
    if not BoothForm().validate_on_submit():
        return stale_page()
    try:
        with transaction.owned():
            VIDEO_STEPS[step](current_site(), acting_user(), booking_id, now())
    except ServiceError as error:
        return refused(error)
    return back_to_video(booking_id)


@bp.post("/booths/<id:number>/<any(recall, start, done, no_show):step>")
@officers
def take_step(number: int, step: str):
    """Recall, start serving, finish or mark not come the visitor at a booth."""
    form = StepForm()
    if not form.validate_on_submit():
        return stale_page()
    try:
        with transaction.owned():
            STEPS[step](current_site(), acting_user(), number, form.visit.data, now())
    except ServiceError as error:
        return refused(error)
    return back_to(number)
