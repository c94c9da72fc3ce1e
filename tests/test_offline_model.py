"""The offline door against a model: random interleavings of tablets leasing, going offline,
admitting, uploading (sometimes twice), revoking, quota changes and midnight never exceed the
quota, never give a slot twice, and store every acknowledged check exactly once."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from checkin import admission
from checkin.extensions import db
from checkin.models import DayQuota, Device, LeasedSlot, Site, UploadConflict, User, Visit
from checkin.services import checkins, leases, sites, uploads
from checkin.services.checkins import CheckInData
from checkin.services.errors import QuotaBelowAdmitted
from checkin.services.uploads import OfflineDecision
from tests.conftest import PASSING, counters_of, counters_of_rows

TABLETS = 3
KINDS = {
    "passing": {},
    "no_mask": {"mask": False},
    "fever": {"temperature_dc": 380},
}


@dataclass
class Tablet:
    """What one door tablet knows: its lease as last heard, and the checks it has not sent."""

    public_id: str
    online: bool = True
    lease_day: date | None = None
    slots: list[int] = field(default_factory=list)
    outbox: list[tuple[CheckInData, OfflineDecision]] = field(default_factory=list)


def offline_machine(site: Site, manager: User, start: datetime) -> type[RuleBasedStateMachine]:
    """Return a state machine for ``site``, starting each run from an empty day at ``start``."""

    class OfflineDoor(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            for model in (UploadConflict, Visit, LeasedSlot, Device, DayQuota):
                db.session.execute(sa.delete(model))
            db.session.commit()
            self.now = start
            self.tablets = [Tablet(str(uuid.uuid4())) for _ in range(TABLETS)]
            # Every check a tablet or the server acknowledged: its reference.
            self.acknowledged: set[str] = set()

        def today(self) -> date:
            return site.local_day(self.now)

        def refresh(self, tablet: Tablet) -> None:
            lease = leases.lease_of(leases.device_of(site, tablet.public_id), self.now)
            tablet.lease_day, tablet.slots = lease.day, list(lease.slots)

        @initialize()
        def open_the_door_pages(self) -> None:
            """Each door page takes a lease when it loads."""
            for number in range(TABLETS):
                self.take_lease(number)

        @rule(number=st.integers(0, TABLETS - 1))
        def take_lease(self, number: int) -> None:
            tablet = self.tablets[number]
            if tablet.online:
                lease = leases.take(site, tablet.public_id, self.now)
                tablet.lease_day, tablet.slots = lease.day, list(lease.slots)

        @rule(number=st.integers(0, TABLETS - 1), twice=st.booleans())
        def connection_returns(self, number: int, twice: bool) -> None:
            tablet = self.tablets[number]
            tablet.online = True
            for data, decided in tablet.outbox:
                result = uploads.upload(site, None, data, decided, self.now)
                self.acknowledged.add(data.client_ref)
                if twice:
                    again = uploads.upload(site, None, data, decided, self.now)
                    assert not again.created
                    assert (again.visit and again.visit.id) == (result.visit and result.visit.id)
            tablet.outbox.clear()
            if tablet.lease_day is not None:
                self.refresh(tablet)

        @rule(number=st.integers(0, TABLETS - 1), kind=st.sampled_from(sorted(KINDS)))
        def check_offline(self, number: int, kind: str) -> None:
            tablet = self.tablets[number]
            tablet.online = False  # the connection dropped, or had already
            data = CheckInData(
                **(PASSING | KINDS[kind]),
                client_ref=str(uuid.uuid4()),
                device_id=tablet.public_id,
            )
            # The tablet's own rules: the same pure screening the server runs.
            screening = admission.screen(
                admission.Reading(
                    data.temperature_dc, data.hand_sanitiser, data.mask, data.distancing
                ),
                admission.Policy(site.fever_cutoff_dc),
            )
            slot = None
            if screening.passed:
                if tablet.lease_day == self.today() and tablet.slots:
                    slot = tablet.slots.pop(0)
                else:
                    screening = admission.offline_refusal()
            decided = OfflineDecision(self.now, screening.status, screening.reasons, slot)
            tablet.outbox.append((data, decided))

        @rule(number=st.integers(-1, TABLETS - 1), kind=st.sampled_from(sorted(KINDS)))
        def check_online(self, number: int, kind: str) -> None:
            tablet = self.tablets[number] if number >= 0 else None
            if tablet is not None and not tablet.online:
                return
            data = CheckInData(
                **(PASSING | KINDS[kind]),
                client_ref=str(uuid.uuid4()),
                device_id=tablet.public_id if tablet and tablet.lease_day else None,
            )
            result = checkins.check_in(site, None, data, self.now)
            self.acknowledged.add(data.client_ref)
            if tablet is not None and tablet.lease_day is not None:
                self.refresh(tablet)  # the door page reads its lease again after each answer
            assert checkins.check_in(site, None, data, self.now).visit.id == result.visit.id

        @rule(number=st.integers(0, TABLETS - 1))
        def revoke_a_lost_tablet(self, number: int) -> None:
            device = db.session.scalar(
                sa.select(Device).where(Device.public_id == self.tablets[number].public_id)
            )
            if device is not None:
                leases.revoke(device, manager, self.now)

        @rule(change=st.integers(-20, 20))
        def manager_changes_the_quota(self, change: int) -> None:
            limit = max(site.daily_quota + change, 0)
            settings_ = sites.SiteSettings(limit, site.fever_cutoff_dc, site.online_service_url)
            with contextlib.suppress(QuotaBelowAdmitted):
                sites.update_site_settings(site, settings_, manager, self.now)

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
        def each_slot_is_given_once_a_day(self) -> None:
            given = db.session.execute(
                sa.select(Visit.day, Visit.slot).where(Visit.slot.is_not(None))
            ).all()
            assert len(given) == len(set(given))

        @invariant()
        def every_acknowledged_check_is_stored_exactly_once(self) -> None:
            stored = db.session.scalars(sa.select(Visit.client_ref)).all()
            kept = db.session.scalars(sa.select(UploadConflict.client_ref)).all()
            everything = [*stored, *kept]
            assert len(everything) == len(set(everything))
            assert self.acknowledged <= set(everything)

    return OfflineDoor


def test_the_offline_door_keeps_its_promises_in_any_interleaving(site, manager_user, clock):
    machine = offline_machine(site, manager_user, clock.now)
    machine.TestCase.settings = settings(
        max_examples=60,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    machine.TestCase().runTest()
