"""The service floor's service: booths, calls and every step and refusal, on both engines."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from checkin.domain import admission, calling
from checkin.domain.calling import CALLED, DONE, FLOOR_STATES, NO_SHOW, SERVING, WAITING
from checkin.domain.errors import (
    BoothBusy,
    BoothCountOutOfRange,
    BoothLimitReached,
    BoothNotYours,
    BoothsPerOfficerOutOfRange,
    BoothsStillOpen,
    BoothTaken,
    NobodyWaiting,
    RecallFirst,
    UnknownBooth,
    WrongFloorState,
)
from checkin.extensions import db
from checkin.models import Booth, Visit
from checkin.services import booths, checkins, floor, leases
from checkin.services.checkins import CheckInData, OfflineDecision
from tests.conftest import PASSING

STEP_FUNCTIONS = {
    calling.RECALL: floor.recall,
    calling.START: floor.start,
    calling.FINISH: floor.finish,
    calling.NO_SHOW_STEP: floor.no_show,
}


@pytest.fixture
def officer(make_user):
    return make_user("officer")


@pytest.fixture
def admitted(make_visit):
    """Return a factory of admitted visits (slots 1, 2, ... in order)."""

    def make(count: int = 1, **kwargs) -> list[Visit]:
        return [make_visit(**kwargs).visit for _ in range(count)]

    return make


def state_of(visit_id: int) -> Visit:
    return db.session.get(Visit, visit_id, populate_existing=True)


def test_a_new_site_has_ten_booths_in_use(site):
    numbers = db.session.scalars(
        sa.select(Booth.number).where(Booth.site_id == site.id, Booth.in_use.is_(True))
    ).all()
    assert sorted(numbers) == list(range(1, 11))


def test_a_site_made_before_the_floor_gets_its_booths_on_first_use(site):
    db.session.execute(sa.delete(Booth))
    db.session.commit()
    assert [booth.number for booth in booths.booths_in_use(site)] == list(range(1, 11))
    assert [booth.number for booth in booths.booths_in_use(site)] == list(range(1, 11))


def test_only_admitted_visits_wait_on_the_floor(make_visit):
    admitted_ = make_visit().visit
    refused = make_visit(mask=False).visit
    retest = make_visit(temperature_dc=380).visit
    assert [admitted_.floor_state, refused.floor_state, retest.floor_state] == [
        WAITING,
        None,
        None,
    ]
    assert state_of(admitted_.id).floor_state == WAITING


def test_an_admitted_retest_waits_on_the_floor(make_visit, clock):
    first = make_visit(temperature_dc=380).visit
    clock.now += timedelta(minutes=6)
    second = make_visit(temperature_dc=365, retest_of=first.id).visit
    assert (second.status, state_of(second.id).floor_state) == (admission.ADMITTED, WAITING)


def test_a_check_admitted_offline_waits_on_the_floor_once_uploaded(site, clock, pair_tablet):
    tablet = pair_tablet().device
    slot = leases.top_up(tablet, clock.now).slots[0]
    data = CheckInData(**PASSING, client_ref=str(uuid.uuid4()), tablet_id=tablet.id)
    decided = OfflineDecision(clock.now, admission.ADMITTED, (), slot, tablet.public_id)
    stored = checkins.check_in(site, None, data, clock.now, decided).visit
    assert (stored.slot, state_of(stored.id).floor_state) == (slot, WAITING)


def test_open_booth_holds_it_and_opening_it_again_changes_nothing(site, officer, clock):
    booth = floor.open_booth(site, officer, 3, clock.now)
    assert (booth.number, booth.officer_id, booth.opened_at) == (3, officer.id, clock.now)
    assert floor.open_booth(site, officer, 3, clock.now).id == booth.id


def test_a_booth_another_officer_holds_cannot_be_taken(site, officer, make_user, clock):
    floor.open_booth(site, officer, 1, clock.now)
    with pytest.raises(BoothTaken) as refused:
        floor.open_booth(site, make_user("officer"), 1, clock.now)
    assert refused.value.booth == 1


def test_an_officer_holds_at_most_the_sites_booths_per_officer(site, officer, clock):
    for number in range(1, 6):
        floor.open_booth(site, officer, number, clock.now)
    with pytest.raises(BoothLimitReached) as refused:
        floor.open_booth(site, officer, 6, clock.now)
    assert refused.value.limit == 5
    floor.close_booth(site, officer, 1, clock.now)
    assert floor.open_booth(site, officer, 6, clock.now).officer_id == officer.id


@pytest.mark.parametrize("number", [0, 11, 99])
def test_a_booth_not_in_use_cannot_be_opened(site, officer, clock, number):
    with pytest.raises(UnknownBooth):
        floor.open_booth(site, officer, number, clock.now)


def test_booths_of_another_site_are_not_there(site, make_site, make_user, clock):
    other = make_site("MLG")
    floor.open_booth(other, make_user("officer", other), 1, clock.now)
    officer = make_user("officer")
    assert floor.open_booth(site, officer, 1, clock.now).site_id == site.id
    with pytest.raises(BoothNotYours):
        floor.call_next(other, officer, 2, clock.now)


def test_call_next_takes_the_lowest_waiting_number_of_today(
    site, make_site, officer, admitted, make_visit, clock
):
    make_visit(now=clock.now - timedelta(days=1))
    make_visit(site_=make_site("MLG"))
    first, second, third = admitted(3)
    checkins.void_visit(first, officer, "typo", clock.now)
    floor.open_booth(site, officer, 4, clock.now)
    clock.now += timedelta(minutes=7)
    called = floor.call_next(site, officer, 4, clock.now)
    assert (called.id, called.slot, called.floor_state) == (second.id, 2, CALLED)
    assert (called.booth.number, called.called_by_id, called.called_at, called.calls) == (
        4,
        officer.id,
        clock.now,
        1,
    )
    floor.open_booth(site, officer, 5, clock.now)
    assert floor.call_next(site, officer, 5, clock.now).id == third.id
    floor.open_booth(site, officer, 6, clock.now)
    with pytest.raises(NobodyWaiting):
        floor.call_next(site, officer, 6, clock.now)


def test_a_booth_calls_one_visitor_at_a_time(site, officer, admitted, clock):
    admitted(2)
    floor.open_booth(site, officer, 1, clock.now)
    first = floor.call_next(site, officer, 1, clock.now)
    with pytest.raises(BoothBusy) as refused:
        floor.call_next(site, officer, 1, clock.now)
    assert (refused.value.booth, refused.value.slot) == (1, first.slot)
    floor.start(site, officer, 1, first.id, clock.now)
    with pytest.raises(BoothBusy):
        floor.call_next(site, officer, 1, clock.now)
    floor.finish(site, officer, 1, first.id, clock.now)
    assert floor.call_next(site, officer, 1, clock.now).slot == 2


def test_only_the_officer_holding_a_booth_calls_to_it(site, officer, make_user, admitted, clock):
    admitted(1)
    with pytest.raises(BoothNotYours):
        floor.call_next(site, officer, 1, clock.now)
    floor.open_booth(site, make_user("officer"), 1, clock.now)
    with pytest.raises(BoothNotYours):
        floor.call_next(site, officer, 1, clock.now)
    with pytest.raises(UnknownBooth):
        floor.call_next(site, officer, 12, clock.now)
    assert state_of(1).floor_state == WAITING


def test_recall_keeps_the_number_and_counts_the_call(site, officer, admitted, clock):
    admitted(1)
    floor.open_booth(site, officer, 2, clock.now)
    called = floor.call_next(site, officer, 2, clock.now)
    clock.now += timedelta(minutes=3)
    recalled = floor.recall(site, officer, 2, called.id, clock.now)
    assert (recalled.slot, recalled.calls, recalled.called_at, recalled.floor_state) == (
        called.slot,
        2,
        clock.now,
        CALLED,
    )


def test_a_visit_goes_called_serving_done_with_each_time_kept(site, officer, admitted, clock):
    admitted(1)
    floor.open_booth(site, officer, 1, clock.now)
    called = floor.call_next(site, officer, 1, clock.now)
    started_at = clock.now + timedelta(minutes=2)
    floor.start(site, officer, 1, called.id, started_at)
    done_at = started_at + timedelta(minutes=12)
    done = floor.finish(site, officer, 1, called.id, done_at)
    assert (done.floor_state, done.serving_at, done.finished_at, done.booth_id) == (
        DONE,
        started_at,
        done_at,
        called.booth_id,
    )


def test_no_show_after_a_recall_frees_the_booth(site, officer, admitted, clock):
    admitted(2)
    floor.open_booth(site, officer, 1, clock.now)
    called = floor.call_next(site, officer, 1, clock.now)
    floor.recall(site, officer, 1, called.id, clock.now + timedelta(minutes=2))
    gone = floor.no_show(site, officer, 1, called.id, clock.now + timedelta(minutes=5))
    assert (gone.floor_state, gone.calls, gone.finished_at) == (
        NO_SHOW,
        2,
        clock.now + timedelta(minutes=5),
    )
    assert floor.call_next(site, officer, 1, clock.now).slot == 2


def test_no_show_after_the_first_call_is_refused_until_a_recall(site, officer, admitted, clock):
    admitted(1)
    floor.open_booth(site, officer, 1, clock.now)
    called = floor.call_next(site, officer, 1, clock.now)
    with pytest.raises(RecallFirst):
        floor.no_show(site, officer, 1, called.id, clock.now + timedelta(minutes=5))
    assert (state_of(called.id).floor_state, state_of(called.id).calls) == (CALLED, 1)
    floor.recall(site, officer, 1, called.id, clock.now + timedelta(minutes=5))
    gone = floor.no_show(site, officer, 1, called.id, clock.now + timedelta(minutes=8))
    assert gone.floor_state == NO_SHOW


def put_in_state(visit: Visit, state: str | None, booth: Booth, calls: int = 2) -> None:
    db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id)
        .values(floor_state=state, booth_id=booth.id, calls=calls)
    )
    db.session.commit()


@pytest.mark.parametrize("step", list(calling.STEPS))
@pytest.mark.parametrize("state", [*FLOOR_STATES, None])
def test_each_step_is_taken_only_from_its_states(site, officer, admitted, clock, step, state):
    (visit,) = admitted(1)
    booth = floor.open_booth(site, officer, 1, clock.now)
    put_in_state(visit, state, booth)
    if calling.allowed(step, state, calls=2):
        moved = STEP_FUNCTIONS[step](site, officer, 1, visit.id, clock.now)
        assert moved.floor_state == calling.STEPS[step].to_state
    else:
        with pytest.raises(WrongFloorState):
            STEP_FUNCTIONS[step](site, officer, 1, visit.id, clock.now)
        assert state_of(visit.id).floor_state == state


@pytest.mark.parametrize("step", list(calling.STEPS))
def test_a_step_on_another_booths_visitor_is_refused(site, officer, admitted, clock, step):
    admitted(1)
    floor.open_booth(site, officer, 1, clock.now)
    floor.open_booth(site, officer, 2, clock.now)
    called = floor.call_next(site, officer, 1, clock.now)
    with pytest.raises(WrongFloorState):
        STEP_FUNCTIONS[step](site, officer, 2, called.id, clock.now)
    with pytest.raises(BoothNotYours):
        STEP_FUNCTIONS[step](site, officer, 3, called.id, clock.now)
    assert state_of(called.id).floor_state == CALLED


def test_closing_a_booth_with_a_visitor_at_it_is_refused(site, officer, admitted, clock):
    admitted(1)
    floor.open_booth(site, officer, 1, clock.now)
    called = floor.call_next(site, officer, 1, clock.now)
    with pytest.raises(BoothBusy):
        floor.close_booth(site, officer, 1, clock.now)
    floor.recall(site, officer, 1, called.id, clock.now)
    floor.no_show(site, officer, 1, called.id, clock.now)
    floor.close_booth(site, officer, 1, clock.now)
    booth = db.session.scalar(
        sa.select(Booth)
        .where(Booth.site_id == site.id, Booth.number == 1)
        .execution_options(populate_existing=True)
    )
    assert (booth.officer_id, booth.opened_at) == (None, None)
    with pytest.raises(BoothNotYours):
        floor.close_booth(site, officer, 1, clock.now)


@pytest.mark.parametrize("state", [WAITING, CALLED, SERVING])
def test_voiding_takes_a_visitor_off_the_floor_and_frees_their_booth(
    site, officer, manager_user, admitted, clock, state
):
    visit, later = admitted(2)
    booth = floor.open_booth(site, officer, 1, clock.now)
    put_in_state(visit, state, booth)
    checkins.void_visit(visit, manager_user, "wrong visitor", clock.now)
    assert state_of(visit.id).floor_state is None
    assert floor.call_next(site, officer, 1, clock.now).id == later.id


@pytest.mark.parametrize("state", [DONE, NO_SHOW])
def test_voiding_keeps_how_a_visit_on_the_floor_ended(
    site, officer, manager_user, admitted, clock, state
):
    (visit,) = admitted(1)
    put_in_state(visit, state, floor.open_booth(site, officer, 1, clock.now))
    checkins.void_visit(visit, manager_user, "wrong visitor", clock.now)
    assert state_of(visit.id).floor_state == state


def test_inside_now_and_the_queue_count_todays_visitors_on_the_floor(
    site, officer, manager_user, admitted, make_visit, clock
):
    start = clock.now
    make_visit(now=start - timedelta(days=1))
    make_visit(mask=False)
    visits = admitted(6)
    clock.now = start + timedelta(minutes=25)
    admitted(1)
    checkins.void_visit(visits[5], manager_user, "twice", clock.now)
    for number in (1, 2, 3):
        floor.open_booth(site, officer, number, clock.now)
    done = floor.call_next(site, officer, 1, clock.now)
    floor.start(site, officer, 1, done.id, clock.now)
    floor.finish(site, officer, 1, done.id, clock.now)
    gone = floor.call_next(site, officer, 2, clock.now)
    floor.recall(site, officer, 2, gone.id, clock.now)
    floor.no_show(site, officer, 2, gone.id, clock.now)
    floor.call_next(site, officer, 3, clock.now)
    assert floor.inside_now(site, clock.now) == 7 - 1 - 1 - 1
    assert floor.queue(site, clock.now) == floor.Queue(waiting=3, longest_wait_minutes=25)
    clock.now += timedelta(days=1)
    assert floor.inside_now(site, clock.now) == 0
    assert floor.queue(site, clock.now) == floor.Queue(0, None)


def test_booth_states_show_each_booth_with_its_officer_and_visitor(site, officer, admitted, clock):
    admitted(2)
    floor.open_booth(site, officer, 2, clock.now)
    floor.open_booth(site, officer, 3, clock.now)
    called = floor.call_next(site, officer, 2, clock.now)
    states = {state.booth.number: state for state in floor.booth_states(site)}
    assert sorted(states) == list(range(1, 11))
    assert (states[2].officer.id, states[2].visit.id) == (officer.id, called.id)
    assert (states[3].officer.id, states[3].visit) == (officer.id, None)
    assert (states[1].officer, states[1].visit) == (None, None)


def test_the_manager_sets_booths_labels_and_booths_per_officer(site, manager_user, clock):
    wanted = booths.FloorSettings(4, ("Loket A", "Loket B", "", "Prioritas"), 2)
    booths.update_floor_settings(site, wanted, manager_user, clock.now)
    assert booths.floor_settings(site) == wanted
    assert site.booths_per_officer == 2
    booths.update_floor_settings(site, booths.FloorSettings(12, (), 2), manager_user, clock.now)
    assert [b.number for b in booths.booths_in_use(site)] == list(range(1, 13))
    assert booths.floor_settings(site).labels == ("",) * 12


def test_booths_an_officer_holds_cannot_be_taken_out_of_use(site, officer, manager_user, clock):
    floor.open_booth(site, officer, 9, clock.now)
    with pytest.raises(BoothsStillOpen) as refused:
        booths.update_floor_settings(site, booths.FloorSettings(5, (), 5), manager_user, clock.now)
    assert refused.value.booths == (9,)
    assert len(booths.booths_in_use(site)) == 10


@pytest.mark.parametrize(
    ("count", "per_officer", "error"),
    [
        (0, 5, BoothCountOutOfRange),
        (100, 5, BoothCountOutOfRange),
        (10, 0, BoothsPerOfficerOutOfRange),
        (10, 11, BoothsPerOfficerOutOfRange),
    ],
)
def test_floor_settings_out_of_range_are_refused(
    site, manager_user, clock, count, per_officer, error
):
    with pytest.raises(error):
        booths.update_floor_settings(
            site, booths.FloorSettings(count, (), per_officer), manager_user, clock.now
        )
    assert (len(booths.booths_in_use(site)), site.booths_per_officer) == (10, 5)
