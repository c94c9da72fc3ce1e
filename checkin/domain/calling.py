"""Pure rules of the service floor: which step a called visitor may take at a booth, the
limits of a site's booths, and how video sessions share the officers' queue. No database, no
clock; ``checkin.services.floor`` and ``checkin.services.video`` apply them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from checkin.domain import limits

# An admitted visit's place on the floor: waiting for a call, called to a booth, being served,
# then done or not come (no-show). Visits that were not admitted have no floor state.
WAITING, CALLED, SERVING, DONE, NO_SHOW = "waiting", "called", "serving", "done", "no_show"
FLOOR_STATES = (WAITING, CALLED, SERVING, DONE, NO_SHOW)
RECALL, START, FINISH, NO_SHOW_STEP = "recall", "start", "done", "no_show"
# A site has at least one booth and, by the booth table's check, at most 99.
MIN_BOOTHS, MAX_BOOTHS = 1, 99
MIN_BOOTHS_PER_OFFICER, MAX_BOOTHS_PER_OFFICER = 1, 10
MAX_BOOTH_LABEL = 40


# The states of a visitor who holds a booth until done or not come.
AT_BOOTH = (CALLED, SERVING)


@dataclass(frozen=True)
class Step:
    """A step on a visitor at a booth: the states it may start from, the state it ends in, the
    time it records on the visit (``stamp``), and whether it calls the number again.

    ``min_calls``: how many times the number must have been called before the step.
    """

    from_states: tuple[str, ...]
    to_state: str
    stamp: str
    calls_again: bool = False
    min_calls: int = 0

    @property
    def frees_booth(self) -> bool:
        """Tell whether the visitor leaves the booth, which may then call the next one."""
        return self.to_state not in AT_BOOTH


# A visitor called can be called again (same number) or start being served; only one called
# twice can be marked not come, since a first call may go unheard in a noisy room. Only a
# visitor being served can be done. Once done or not come, nothing changes.
STEPS = {
    RECALL: Step((CALLED,), CALLED, stamp="called_at", calls_again=True),
    START: Step((CALLED,), SERVING, stamp="serving_at"),
    FINISH: Step((SERVING,), DONE, stamp="finished_at"),
    NO_SHOW_STEP: Step((CALLED,), NO_SHOW, stamp="finished_at", min_calls=2),
}


def allowed(step: str, state: str | None, calls: int) -> bool:
    """Tell whether ``step`` may be taken on a visitor in floor ``state`` called ``calls`` times."""
    return state in STEPS[step].from_states and calls >= STEPS[step].min_calls


def waits_for_a_recall(step: str, state: str | None, calls: int) -> bool:
    """Tell whether ``step`` is refused only because the number was not called often enough."""
    return state in STEPS[step].from_states and not allowed(step, state, calls)


def steps_from(state: str | None, calls: int) -> tuple[str, ...]:
    """Return the steps a visitor in ``state`` may take, in the order the console shows them."""
    return tuple(step for step in STEPS if allowed(step, state, calls))


def waited_minutes(since: datetime, now: datetime) -> int:
    """Return the whole minutes from ``since`` to ``now``, never below zero."""
    return max(int((now - since).total_seconds() // 60), 0)


def booth_labels(text: str, count: int) -> list[str]:
    """Return one label per booth 1..``count`` from lines of text, blank for a missing line."""
    lines = [line.strip()[:MAX_BOOTH_LABEL] for line in text.splitlines()]
    return (lines + [""] * count)[:count]


# Video sessions (bookings of kind "video", served where the visitor is) share the officers'
# queue with the visitors admitted at the door. One that an officer calls and cannot reach is
# tried once more: the first unanswered call puts it back in the queue, the second closes it.
NO_ANSWER = "no_answer"
VIDEO_TRIES = 2
# Who waits in the one queue: a visit admitted at the door (walk-in or booked) or a video session.
VISIT, VIDEO = limits.BOOKING_KINDS
VIDEO_STEPS = (START, NO_ANSWER, FINISH)
# The states of a video session an officer is serving: each counts as one of their booths.
IN_PROGRESS = AT_BOOTH


def video_step(step: str, calls: int) -> Step:
    """Return what ``step`` does to a video session called ``calls`` times: started and done
    as a visit at a booth; not answered, back to the queue after the first call (stamped
    ``missed_at``: it waits again from then), closed as not come after the last."""
    if step != NO_ANSWER:
        return STEPS[step]
    if calls < VIDEO_TRIES:
        return Step((CALLED,), WAITING, stamp="missed_at")
    return Step((CALLED,), NO_SHOW, stamp="finished_at")


def video_steps_from(state: str | None) -> tuple[str, ...]:
    """Return the steps a video session in ``state`` may take, in the order the console shows."""
    return tuple(step for step in VIDEO_STEPS if state in video_step(step, 1).from_states)


def due_at(session_start: datetime, missed_at: datetime | None) -> datetime:
    """Return when a waiting video session joined the queue: its session's start, or, put
    back after a call not answered, the moment of that call's outcome."""
    return missed_at if missed_at is not None else session_start


@dataclass(frozen=True)
class InLine:
    """The first of one kind in the queue: a visit (``since`` its admission at the door) or a
    video session (``since`` it became due)."""

    kind: str
    id: int
    since: datetime


def next_in_line(visit: InLine | None, video: InLine | None, room_for_video: bool) -> InLine | None:
    """Return whom an officer's "call next" at a free booth calls: of the first waiting visit
    and the first due video session, the one waiting longer; a visitor in the building first
    on a tie. A video session takes one of the officer's places (``room_for_video``): without
    one, the visit is called, and the session waits for an officer with room."""
    if video is None or not room_for_video:
        return visit
    if visit is None or video.since < visit.since:
        return video
    return visit
