"""The offline door against a model: random interleavings of tablets being paired and unpaired,
leasing, going offline, admitting, uploading (sometimes twice), giving slots back (a message
sometimes lost and sent again), made-up tablets, revocations, releases of a lost tablet's slots,
quota changes, closing and reopening the day and midnight, with booked visitors beside the
walk-ins (booking, cancelling, coming to the door early, on time or twice, online or at an
offline tablet that admits them by the list of today's bookings it keeps, the release of
unclaimed places) never exceed the quota or a session's places, never give a slot twice, admit a
booking at most once, store every acknowledged check exactly once, keep the counters equal to
the rows and every reader of the day's limit and of the booked channel in agreement."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from checkin.domain import admission, booking_rules
from checkin.domain.errors import (
    AlreadyClosed,
    QuotaBelowAdmitted,
    ServiceError,
    UnknownClosedDay,
)
from checkin.extensions import db
from checkin.models import (
    AuditEntry,
    Booking,
    BookingSession,
    ClosedDay,
    DayQuota,
    Device,
    FreeSlot,
    LeasedSlot,
    LoginWindow,
    PairingCode,
    SessionDay,
    Site,
    UploadConflict,
    User,
    Visit,
)
from checkin.services import (
    bookings,
    calendar,
    checkins,
    day_counter,
    headoffice,
    leases,
    pairing,
    reports,
    transaction,
)
from checkin.services import sites as site_settings
from checkin.services.bookings import BookingData
from checkin.services.checkins import CheckInData, OfflineDecision
from tests.conftest import PASSING, counters_of, counters_of_rows

TABLETS = 3
KINDS = {
    "passing": {},
    "no_mask": {"mask": False},
    "fever": {"temperature_dc": 380},
}
# The default sessions' starts (08:00, 10:00, 13:00) and a few visitors who book.
SESSIONS = (time(8), time(10), time(13))
BOOKERS = 4
# Why an offline admission to a booked place may be kept for the manager.
BOOKED_KEPT_FOR = {
    "booking_already_admitted",
    checkins.BOOKING_NOT_AS_BOOKED,
    checkins.NOT_THIS_TABLET,
}


@dataclass
class Tablet:
    """What one door tablet knows: its credential, its lease as last heard, the checks it has
    not sent, the slots it dropped and has not yet heard the server take back, and today's
    bookings as last heard with its lease (each code's status; a booking it admitted offline
    is admitted here)."""

    device: Device | None = None
    credential: str | None = None
    online: bool = True
    lease_day: date | None = None
    slots: list[int] = field(default_factory=list)
    outbox: list[tuple[CheckInData, OfflineDecision]] = field(default_factory=list)
    giving_back: list[tuple[date, list[int]]] = field(default_factory=list)
    bookings: dict[str, str] = field(default_factory=dict)
    bookings_day: date | None = None


def offline_machine(
    app: Flask, site: Site, manager: User, token: str, start: datetime
) -> type[RuleBasedStateMachine]:
    """Return a state machine for ``site``, starting each run from an empty day at ``start``."""

    class OfflineDoor(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            db.session.execute(sa.update(Booking).values(visit_id=None))
            for model in (
                AuditEntry,
                UploadConflict,
                Booking,
                Visit,
                LeasedSlot,
                FreeSlot,
                PairingCode,
                Device,
                DayQuota,
                SessionDay,
                BookingSession,
                ClosedDay,
                LoginWindow,
            ):
                db.session.execute(sa.delete(model))
            db.session.commit()
            self.now = start
            self.tablets = [Tablet() for _ in range(TABLETS)]
            # Every check a tablet or the server acknowledged: its reference.
            self.acknowledged: set[str] = set()
            # Devices whose slots a manager released: their tablets may give a slot twice.
            self.released: set[int] = set()
            # Each booker's code of the day they booked for, as long as they keep it.
            self.codes: dict[tuple[int, date], str] = {}

        def today(self) -> date:
            return site.local_day(self.now)

        def hear_lease(self, tablet: Tablet, lease: leases.Lease) -> None:
            """The tablet keeps the lease the server answered, but what its outbox used; told
            it is stopped for the day, it gives back what it holds."""
            if lease.stopped:
                self.give_back_all(tablet, lost=False)
            used = {decided.slot for _data, decided in tablet.outbox}
            tablet.lease_day = lease.day
            tablet.slots = [slot for slot in lease.slots if slot not in used]
            # The list of today's bookings comes with the lease; what the tablet admitted
            # offline and has not sent stays admitted in it.
            listed = bookings.door_list(site, self.now)
            tablet.bookings_day = listed.day
            tablet.bookings = {booking.code: booking.status for booking in listed.bookings}
            for data, decided in tablet.outbox:
                if checkins.as_booked_offline(data, decided):
                    tablet.bookings[data.booking_code] = booking_rules.ADMITTED

        @initialize()
        def pair_the_first_tablet(self) -> None:
            self.pair(0)

        @rule(number=st.integers(0, TABLETS - 1))
        def pair(self, number: int) -> None:
            """A manager pairs the tablet (again: a new device, its old checks still queued)."""
            tablet = self.tablets[number]
            if tablet.device is not None and tablet.device.paired:
                return
            with transaction.owned():
                code = pairing.new_code(site, manager, self.now).code
                paired = pairing.pair(code, f"Pintu {number}", f"192.0.2.{number}", self.now)
            tablet.device, tablet.credential = paired.device, paired.credential
            tablet.lease_day, tablet.slots = None, []

        @rule(number=st.integers(0, TABLETS - 1))
        def unpair(self, number: int) -> None:
            """A manager unpairs it; online, the tablet gives back what it holds at once."""
            tablet = self.tablets[number]
            if tablet.device is None or not tablet.device.paired:
                return
            with transaction.owned():
                pairing.unpair(tablet.device, manager, self.now)
            if tablet.online:
                self.give_back_all(tablet, lost=False)

        @rule()
        def a_made_up_tablet_asks_for_slots(self) -> None:
            client = app.test_client()
            response = client.post(
                "/api/v1/leases",
                json={"device_id": str(uuid.uuid4())},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 404

        @rule(number=st.integers(0, TABLETS - 1))
        def take_lease(self, number: int) -> None:
            tablet = self.tablets[number]
            if tablet.online and tablet.device is not None and tablet.device.paired:
                with transaction.owned():
                    lease = leases.top_up(tablet.device, self.now)
                self.hear_lease(tablet, lease)

        @rule(number=st.integers(0, TABLETS - 1), twice=st.booleans())
        def connection_returns(self, number: int, twice: bool) -> None:
            tablet = self.tablets[number]
            tablet.online = True
            paired = tablet.device is not None and tablet.device.paired
            if not paired:
                return  # its checks wait until it is paired again
            for data, decided in tablet.outbox:
                data = CheckInData(**(vars(data) | {"tablet_id": tablet.device.id}))
                result = self.check_in(data, decided)
                self.acknowledged.add(data.client_ref)
                if checkins.as_booked_offline(data, decided) and result.visit is None:
                    # Kept only when another check took the booking first, it no longer gave
                    # its place then, or another tablet uploads it.
                    assert result.conflict.cause in BOOKED_KEPT_FOR, result.conflict.cause
                if twice:
                    again = self.check_in(data, decided)
                    assert not again.created
                    assert (again.visit and again.visit.id) == (result.visit and result.visit.id)
            tablet.outbox.clear()
            self.poll(number, lost=False)
            if tablet.device.paired:
                self.hear_lease(tablet, leases.lease_of(tablet.device, self.now))

        @rule(number=st.integers(0, TABLETS - 1), lost=st.booleans())
        def poll(self, number: int, lost: bool) -> None:
            """The door polls the quota: asked to, it gives back what it holds (the message
            may be lost on the way: it is sent again until heard)."""
            tablet = self.tablets[number]
            if not tablet.online or tablet.device is None:
                return
            quota = day_counter.quota_today(site, self.now)
            if quota.return_held or not tablet.device.paired or tablet.giving_back:
                self.give_back_all(tablet, lost)

        def give_back_all(self, tablet: Tablet, lost: bool) -> None:
            """The tablet drops its slots first, then tells the server, until it hears back."""
            if tablet.slots:
                tablet.giving_back.append((tablet.lease_day, tablet.slots))
                tablet.slots = []
            if lost:
                return
            for day, slots in tablet.giving_back:
                with transaction.owned():
                    leases.give_back(tablet.device, day, slots, self.now)
            tablet.giving_back.clear()

        @rule(number=st.integers(0, TABLETS - 1), kind=st.sampled_from(sorted(KINDS)))
        def check_offline(self, number: int, kind: str) -> None:
            tablet = self.tablets[number]
            if tablet.device is None or tablet.lease_day is None:
                return  # never leased: no rules to decide by, it checks online only
            tablet.online = False  # the connection dropped, or had already
            data = CheckInData(**(PASSING | KINDS[kind]), client_ref=str(uuid.uuid4()))
            screening = self.screen_offline(data)
            slot = None
            if screening.passed:
                if tablet.lease_day == self.today() and tablet.slots:
                    slot = tablet.slots.pop(0)
                else:
                    screening = admission.offline_refusal()
            decided = OfflineDecision(
                self.now, screening.status, screening.reasons, slot, tablet.device.public_id
            )
            tablet.outbox.append((data, decided))

        @rule(
            booker=st.integers(0, BOOKERS - 1),
            number=st.integers(0, TABLETS - 1),
            kind=st.sampled_from(sorted(KINDS)),
            on_time=st.booleans(),
            starts=st.sampled_from(SESSIONS),
            elsewhere=st.sampled_from((None, "online", "offline")),
            sent=st.sampled_from((None, False, True)),
        )
        def a_booked_visitor_comes_to_an_offline_tablet(
            self,
            booker: int,
            number: int,
            kind: str,
            on_time: bool,
            starts: time,
            elsewhere: str | None,
            sent: bool | None,
        ) -> None:
            """The tablet finds the booking in the list it keeps and decides as the server
            would: on time, the booked place without a walk-in slot; else the walk-in rules.
            The visitor may have booked just before; the same booking may be admitted
            ``elsewhere`` before this tablet's upload (online, or on the next tablet, offline
            too); the connection may return at once (``sent``: None stays offline, else the
            upload is sent once or twice)."""
            tablet = self.tablets[number]
            if (booker, self.today()) not in self.codes:
                self.a_visitor_books(booker, starts, tomorrow=False)
            if tablet.online:
                self.take_lease(number)  # the door tops up and hears the list before it drops
            code = self.codes.get((booker, self.today()))
            if tablet.device is None or tablet.lease_day is None or code not in tablet.bookings:
                return
            if tablet.bookings_day != self.today():
                return
            tablet.online = False
            booking = bookings.booking_coded(site, code)
            if on_time:
                arrives = datetime.combine(self.today(), booking.session.starts, site.zone)
                self.now = max(self.now, arrives + timedelta(minutes=5))
            door = booking_rules.door_channel(
                tablet.bookings[code], booking.day, booking.session.times, site.zone, self.now
            )
            if door.channel == booking_rules.ALREADY_ADMITTED:
                return  # as online: a booking admits once, and nothing is kept
            data = CheckInData(
                **(PASSING | KINDS[kind]), client_ref=str(uuid.uuid4()), booking_code=code
            )
            screening = self.screen_offline(data)
            slot = None
            if screening.passed and door.booked:
                tablet.bookings[code] = booking_rules.ADMITTED
            elif screening.passed and tablet.lease_day == self.today() and tablet.slots:
                slot = tablet.slots.pop(0)
            elif screening.passed:
                screening = admission.offline_refusal()
            decided = OfflineDecision(
                self.now, screening.status, screening.reasons, slot, tablet.device.public_id
            )
            tablet.outbox.append((data, decided))
            if elsewhere == "online":
                self.admit_online(code, None, "passing", on_time)
            elif elsewhere == "offline":
                other = (number + 1) % TABLETS
                self.pair(other)
                self.a_booked_visitor_comes_to_an_offline_tablet(
                    booker, other, "passing", on_time, starts, None, True
                )
            if sent is not None:
                self.connection_returns(number, twice=sent)

        def screen_offline(self, data: CheckInData) -> admission.Screening:
            """The tablet's own rules: the same pure screening the server runs."""
            return admission.screen(
                admission.Reading(
                    data.temperature_dc, data.hand_sanitiser, data.mask, data.distancing
                ),
                admission.Policy(site.fever_cutoff_dc),
            )

        @rule(number=st.integers(-1, TABLETS - 1), kind=st.sampled_from(sorted(KINDS)))
        def check_online(self, number: int, kind: str) -> None:
            tablet = self.tablets[number] if number >= 0 else None
            if tablet is not None and not tablet.online:
                return
            paired = tablet is not None and tablet.device is not None and tablet.device.paired
            data = CheckInData(
                **(PASSING | KINDS[kind]),
                client_ref=str(uuid.uuid4()),
                tablet_id=tablet.device.id if paired else None,
            )
            result = self.check_in(data)
            self.acknowledged.add(data.client_ref)
            if paired and result.visit.slot in tablet.slots:
                tablet.slots.remove(result.visit.slot)  # the door drops the slot it was told
            assert self.check_in(data).visit.id == result.visit.id

        def check_in(
            self, data: CheckInData, decided: OfflineDecision | None = None
        ) -> checkins.CheckInResult:
            """Post a check as the door and the API do, in a transaction of its own."""
            return transaction.owned_after_race(
                lambda: checkins.check_in(site, None, data, self.now, decided),
                lambda lost: checkins.after_lost_race(site, None, data, self.now, decided, lost),
            )

        @rule(
            booker=st.integers(0, BOOKERS - 1),
            starts=st.sampled_from(SESSIONS),
            tomorrow=st.booleans(),
        )
        def a_visitor_books(self, booker: int, starts: time, tomorrow: bool) -> None:
            day = self.today() + timedelta(days=int(tomorrow))
            wanted = BookingData(day, starts, f"Pemesan {booker}", f"0812{booker:07d}", "4321")
            try:
                with transaction.owned():
                    booking = bookings.book(site, wanted, self.now).booking
            except ServiceError:
                return  # full, over, closed, or booked already that day
            self.codes[booker, day] = booking.code

        @rule(booker=st.integers(0, BOOKERS - 1), tomorrow=st.booleans())
        def a_visitor_cancels(self, booker: int, tomorrow: bool) -> None:
            code = self.codes.get((booker, self.today() + timedelta(days=int(tomorrow))))
            if code is None:
                return
            with contextlib.suppress(ServiceError), transaction.owned():
                bookings.cancel(site, code, self.now)  # unless used, released, or of a day gone

        @rule(
            booker=st.integers(0, BOOKERS - 1),
            number=st.integers(-1, TABLETS - 1),
            kind=st.sampled_from(sorted(KINDS)),
            on_time=st.booleans(),
        )
        def a_booked_visitor_comes_to_the_door(
            self, booker: int, number: int, kind: str, on_time: bool
        ) -> None:
            today = sorted(code for (_, day), code in self.codes.items() if day == self.today())
            tablet = self.tablets[number] if number >= 0 else None
            if not today or (tablet is not None and not tablet.online):
                return
            self.admit_online(today[booker % len(today)], tablet, kind, on_time)

        def admit_online(self, code: str, tablet: Tablet | None, kind: str, on_time: bool) -> None:
            """The visitor with the booking ``code`` is checked online (on ``tablet``, if one)."""
            if on_time:  # the time passes until a few minutes into their session
                starts = bookings.booking_coded(site, code).session.starts
                arrives = datetime.combine(self.today(), starts, site.zone) + timedelta(minutes=5)
                self.now = max(self.now, arrives)
            paired = tablet is not None and tablet.device is not None and tablet.device.paired
            data = CheckInData(
                **(PASSING | KINDS[kind]),
                client_ref=str(uuid.uuid4()),
                tablet_id=tablet.device.id if paired else None,
                booking_code=code,
            )
            try:
                result = self.check_in(data)
            except ServiceError:
                return  # admitted already: a booking admits once
            self.acknowledged.add(data.client_ref)
            if paired and result.visit.slot in tablet.slots:
                tablet.slots.remove(result.visit.slot)

        @rule()
        def the_release_runs(self) -> None:
            with contextlib.suppress(ServiceError), transaction.owned():
                bookings.release_unclaimed(site, manager, self.now)  # unless before its hour

        @rule(number=st.integers(0, TABLETS - 1))
        def a_manager_stops_a_tablet(self, number: int) -> None:
            device = self.tablets[number].device
            if device is not None:
                with transaction.owned():
                    leases.revoke(device, manager, self.now)

        @rule(number=st.integers(0, TABLETS - 1))
        def a_manager_releases_a_lost_tablet_s_slots(self, number: int) -> None:
            device = self.tablets[number].device
            if device is None:
                return
            with transaction.owned():
                released = leases.release(device, manager, self.now)
            if released:
                self.released.add(device.id)

        @rule(change=st.integers(-20, 20))
        def manager_changes_the_quota(self, change: int) -> None:
            limit = max(site.daily_quota + change, 0)
            changed = site_settings.SiteSettings(
                limit, site.fever_cutoff_dc, site.online_service_url
            )
            with contextlib.suppress(QuotaBelowAdmitted), transaction.owned():
                site_settings.update_site_settings(site, changed, manager, self.now)

        @rule(close=st.booleans())
        def manager_closes_or_reopens_today(self, close: bool) -> None:
            with contextlib.suppress(AlreadyClosed, UnknownClosedDay), transaction.owned():
                if close:
                    calendar.add_closed_day(site, self.today(), "Banjir", manager, self.now)
                else:
                    calendar.remove_closed_day(site, self.today(), manager, self.now)

        @rule(minutes=st.integers(1, 90))
        def time_passes(self, minutes: int) -> None:
            self.now += timedelta(minutes=minutes)

        @precondition(lambda self: self.now - start < timedelta(days=3))
        @rule()
        def midnight_passes(self) -> None:
            local = self.now.astimezone(site.zone)
            midnight = datetime.combine(
                local.date() + timedelta(days=1), local.time().min, site.zone
            )
            self.now = midnight + timedelta(minutes=1)

        @invariant()
        def the_quota_holds_and_counters_equal_rows(self) -> None:
            for row in db.session.scalars(sa.select(DayQuota)):
                assert row.admitted <= row.used <= row.limit, row.day
                assert counters_of(row) == counters_of_rows(site.id, row.day), row.day

        @invariant()
        def each_session_counts_its_bookings_and_holds_its_places(self) -> None:
            for row in db.session.scalars(sa.select(SessionDay)):
                statuses = db.session.scalars(
                    sa.select(Booking.status).where(
                        Booking.site_id == row.site_id,
                        Booking.day == row.day,
                        Booking.session_id == row.session_id,
                    )
                ).all()
                held = sum(status in booking_rules.HOLDING for status in statuses)
                admitted = statuses.count(booking_rules.ADMITTED)
                no_shows = statuses.count(booking_rules.RELEASED)
                assert (row.booked, row.admitted, row.no_shows) == (held, admitted, no_shows)
                assert row.admitted <= row.booked <= row.capacity

        @invariant()
        def a_booking_is_admitted_once_and_names_its_visit(self) -> None:
            admitted = db.session.scalars(
                sa.select(Booking).where(Booking.status == booking_rules.ADMITTED)
            ).all()
            for booking in admitted:
                visit = db.session.get(Visit, booking.visit_id)
                assert visit.booking_id == booking.id and visit.status == "admitted"
            took = db.session.scalars(
                sa.select(Visit.id).join(Booking, Booking.visit_id == Visit.id)
            ).all()
            assert len(took) == len(set(took)) == len(admitted)

        @invariant()
        def a_second_admission_of_a_booking_is_kept_for_the_manager(self) -> None:
            kept = db.session.scalars(
                sa.select(UploadConflict).where(UploadConflict.cause == "booking_already_admitted")
            ).all()
            for conflict in kept:
                booking = bookings.booking_coded(site, conflict.detail["booking_code"])
                assert booking.status == booking_rules.ADMITTED
                assert db.session.get(Visit, booking.visit_id).client_ref != conflict.client_ref

        @invariant()
        def only_paired_tablets_hold_slots(self) -> None:
            leased = db.session.execute(
                sa.select(LeasedSlot.leased_at, Device.paired_at, Device.unpaired_at).join(
                    Device, LeasedSlot.device_id == Device.id
                )
            ).all()
            for leased_at, paired_at, unpaired_at in leased:
                assert paired_at is not None and paired_at <= leased_at
                assert unpaired_at is None or leased_at <= unpaired_at

        @invariant()
        def each_slot_is_given_once_a_day(self) -> None:
            given = db.session.execute(
                sa.select(Visit.day, Visit.slot).where(Visit.slot.is_not(None))
            ).all()
            assert len(given) == len(set(given))

        @invariant()
        def a_tablet_holds_only_slots_no_one_else_can_be_given(self) -> None:
            for tablet in self.tablets:
                if tablet.device is None or tablet.device.id in self.released:
                    continue
                day = tablet.lease_day
                if day is None or not tablet.slots:
                    continue
                held = db.session.scalars(
                    sa.select(LeasedSlot.slot).where(
                        LeasedSlot.device_id == tablet.device.id,
                        LeasedSlot.day == day,
                        LeasedSlot.used_at.is_(None),
                        LeasedSlot.returned_at.is_(None),
                        LeasedSlot.released_at.is_(None),
                    )
                ).all()
                assert set(tablet.slots) <= set(held), (tablet.slots, held)

        @invariant()
        def every_acknowledged_check_is_stored_exactly_once(self) -> None:
            stored = db.session.scalars(sa.select(Visit.client_ref)).all()
            kept = db.session.scalars(sa.select(UploadConflict.client_ref)).all()
            everything = [*stored, *kept]
            assert len(everything) == len(set(everything))
            assert self.acknowledged <= set(everything)

        @invariant()
        def every_reader_of_the_limit_gives_the_same_number(self) -> None:
            day = self.today()
            door = day_counter.quota_today(site, self.now)
            (report,) = reports.daily_report(site, day, day, day)
            (head_office,) = headoffice.today_by_site(self.now)
            assert door.limit == report.quota == head_office.limit, (door, report, head_office)
            assert (door.used, door.left) == (head_office.used, head_office.left)
            if door.closed:
                assert door.left == 0
            (national,) = reports.national_summary(day, day, day)
            statuses = db.session.scalars(sa.select(Booking.status).where(Booking.day == day)).all()
            made = len(statuses) - statuses.count(booking_rules.CANCELLED)
            came = statuses.count(booking_rules.ADMITTED)
            assert (report.booked, report.came) == (national.booked, national.came) == (made, came)

    return OfflineDoor


def test_the_offline_door_keeps_its_promises_in_any_interleaving(
    app, site, manager_user, door_user, auth_headers, clock
):
    token = auth_headers(door_user)["Authorization"].removeprefix("Bearer ")
    machine = offline_machine(app, site, manager_user, token, clock.now)
    machine.TestCase.settings = settings(
        max_examples=60,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
