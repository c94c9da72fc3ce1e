"""Check-ins at the door: screen a visitor, claim a slot atomically, store the check.

One transaction records a check, whether it is decided here (online) or was decided by a paired
tablet while offline and is uploaded now: :func:`check_in` adds either to its entry point's, and
for an upload the same rules decide whether it is stored as the tablet made it or kept as an
upload conflict for the manager, never dropped. The same ``client_ref`` again stores nothing.

A booking's code is its own idempotent key: whichever admission of it is stored first, online
or uploaded, takes the booked place; an online check of it after that is refused, and an
upload of another tablet's offline admission of it is kept as a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from checkin.domain import admission, limits
from checkin.domain.calling import WAITING
from checkin.domain.errors import AlreadyRetested, AlreadyVoided, ServiceError, VoidReasonMissing
from checkin.extensions import db
from checkin.models import Device, Site, UploadConflict, User, Visit
from checkin.services import audit, bookings, day_counter, floor, leases, overrides, retests
from checkin.services.day_counter import Quota


@dataclass(frozen=True)
class CheckInData:
    """A validated check-in: the reading plus optional visitor details (NIK already cut to 4).

    ``client_ref`` is the id the form or tablet made for this check: sent again, the same
    check is returned, not stored twice. ``tablet_id`` is the paired tablet (a device row) the
    check was made on: an admission online takes a slot of its lease first, and the visit
    names it. A re-test names its first reading by id, or (when made offline, before the first
    had an id) by that reading's ``client_ref``. ``booking_code`` is the booking the visitor
    shows, as typed or scanned at the door.
    """

    temperature_dc: int
    hand_sanitiser: bool
    mask: bool
    distancing: bool
    visitor_name: str | None = None
    phone: str | None = None
    nik_last4: str | None = None
    purpose: str | None = None
    retest_of: int | None = None
    client_ref: str | None = None
    retest_of_ref: str | None = None
    tablet_id: int | None = None
    booking_code: str | None = None

    @property
    def is_retest(self) -> bool:
        """Tell whether this is the second reading of a visitor asked to rest."""
        return self.retest_of is not None or self.retest_of_ref is not None


def second_reading(
    first: Visit, temperature_dc: int, client_ref: str | None = None, tablet_id: int | None = None
) -> CheckInData:
    """Return the re-test of ``first``: a new temperature for the same visitor and ticks."""
    return CheckInData(
        temperature_dc=temperature_dc,
        hand_sanitiser=first.hand_sanitiser,
        mask=first.mask,
        distancing=first.distancing,
        visitor_name=first.visitor_name,
        phone=first.phone,
        nik_last4=first.nik_last4,
        purpose=first.purpose,
        retest_of=first.id,
        client_ref=client_ref,
        tablet_id=tablet_id,
        booking_code=first.booking.code if first.booking_id is not None else None,
    )


@dataclass(frozen=True)
class OfflineDecision:
    """What a tablet showed a visitor while offline, and when; ``device_id`` is the tablet the
    upload says decided it, which must be the paired tablet uploading it for a slot to count."""

    recorded_at: datetime
    status: str
    reasons: tuple[str, ...]
    slot: int | None
    device_id: str | None = None


@dataclass(frozen=True)
class CheckInResult:
    """The stored visit (or, for an upload, the conflict kept instead), the day's quota right
    after it, and whether it was stored just now."""

    visit: Visit | None
    quota: Quota
    created: bool = True
    conflict: UploadConflict | None = None


# A tablet's clock may run a little ahead of the server's, or behind.
CLOCK_SKEW = leases.CLOCK_SKEW
# Why an upload was kept for the manager instead of stored as the tablet decided, besides the
# slot's own causes (``leases.SLOT_*``) and a re-test's (``ServiceError.code``).
NOT_THIS_TABLET = "not_this_tablet"
RECORDED_BEFORE_TABLET = "recorded_before_tablet"
RECORDED_IN_THE_FUTURE = "recorded_in_the_future"
DECISION_DIFFERS = "decision_differs"
# A tablet admitted a booked visitor offline, but by the server's rules the booking did not give
# its place at the moment recorded: early, late, on another day, cancelled or released.
BOOKING_NOT_AS_BOOKED = "booking_not_as_booked"


def check_in(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    now: datetime,
    decided: OfflineDecision | None = None,
) -> CheckInResult:
    """Record one check in the caller's transaction: decided now, or as a tablet ``decided``
    offline.

    A check whose ``client_ref`` is stored already (or kept as a conflict) is returned as it
    was, and nothing new is stored. Online, the unique key finds it, so the first post of a
    check costs no extra look-up: the insert raises IntegrityError, and the entry point rolls
    back and answers with :func:`after_lost_race`. A re-test and an upload look first: a
    re-test's first reading, re-tested already, would refuse it, and an upload may have been
    kept as a conflict.
    """
    if decided is not None or data.is_retest:
        stored = _stored(site, data.client_ref, now)
        if stored is not None:
            return stored
    if decided is None:
        return record(site, recorder, data, now)
    return record_offline(site, recorder, data, decided, now)


def after_lost_race(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    now: datetime,
    decided: OfflineDecision | None,
    lost: IntegrityError,
) -> CheckInResult:
    """Answer, in a new transaction, a :func:`check_in` whose transaction a unique key refused.

    The same check stored meanwhile (the same ``client_ref`` posted twice) is returned as
    stored. A re-test decided now whose first reading another tablet re-tested meanwhile is
    refused; uploaded, it is decided again, which keeps it as a conflict.
    """
    stored = _stored(site, data.client_ref, now)
    if stored is not None:
        return stored
    if decided is None and data.is_retest:
        raise AlreadyRetested() from lost
    if decided is None:
        raise lost
    return record_offline(site, recorder, data, decided, now)


def record(site: Site, recorder: User | None, data: CheckInData, now: datetime) -> CheckInResult:
    """Add a check decided now to the caller's transaction, as :func:`check_in` does.

    A visitor with a booking whose window is open takes their booked place and the day's next
    queue number, never a walk-in slot; early, late, on another day, or with the booking
    cancelled or released, the walk-in rules decide. A refused visitor keeps their booking.
    """
    day = site.local_day(now)
    screening = screen(site, data, now)
    shown = None
    if data.booking_code is not None:
        shown = bookings.at_the_door(site, data.booking_code, now)
    # Everything is decided before the first write: on SQLite that write takes the lock all
    # tablets queue on, so the lock is held from the counter update to the commit only.
    quota = slot = None
    as_booked = screening.passed and shown is not None and shown.door.booked
    if as_booked:
        bookings.admit(site, shown.booking, now)
        numbered = day_counter.number_booked(site, day)
        quota, slot = numbered.quota, numbered.slot
    elif screening.passed and data.tablet_id is not None:
        slot = leases.use_next(site, data.tablet_id, day, now)
        if slot is not None:
            quota = day_counter.count_check(site, day, admission.ADMITTED, ())
    if screening.passed and quota is None:
        claimed = day_counter.claim_slot(site, day)
        if claimed is None:
            quota = day_counter.quota_today(site, now)
            screening = admission.closed_refusal() if quota.closed else admission.quota_refusal()
        else:
            quota, slot = claimed.quota, claimed.slot
    if not screening.passed:
        quota = day_counter.count_check(site, day, screening.status, screening.reasons)
    booking_id = None if shown is None else shown.booking.id
    visit = store(site, recorder, data, screening, now, slot, booking_id)
    if as_booked:
        bookings.name_visit(shown.booking, visit)
    return CheckInResult(visit, quota)


def expected(site: Site, data: CheckInData, decided: OfflineDecision) -> admission.Screening:
    """Return what the rules decide offline: a passing visitor without a slot is refused,
    unless the tablet admitted them to their booked place (checked against the booking apart)."""
    screening = screen(site, data, decided.recorded_at)
    if screening.passed and decided.slot is None and not as_booked_offline(data, decided):
        return admission.offline_refusal()
    return screening


def as_booked_offline(data: CheckInData, decided: OfflineDecision) -> bool:
    """Tell whether a tablet admitted a visitor offline to their booked place.

    Only a booking admits without a walk-in slot, so an admission carrying a booking code and
    no slot is one: the tablet has no queue number to give it (the day's numbers are one
    series with the walk-in slots and leases, which a booked visitor must not use), and the
    server gives it the next number when it is uploaded. The floor calls nobody it has not
    heard of, so that number is never later than the visitor's turn; the tablet shows the
    booking's code meanwhile, and its lists show the number once the check is sent.
    """
    admitted = decided.status == admission.ADMITTED
    return admitted and decided.slot is None and data.booking_code is not None


def record_offline(
    site: Site, recorder: User | None, data: CheckInData, decided: OfflineDecision, now: datetime
) -> CheckInResult:
    """Add a check a tablet decided offline to the caller's transaction: stored at the time it
    was recorded, as decided, if the same rules agree and the slot is one this tablet leased
    for that day and has not used (or, admitted as booked, the booking still gave its place at
    that time and no other check took it); anything else is kept as a conflict for the manager.
    """
    tablet = db.session.get(Device, data.tablet_id) if data.tablet_id is not None else None
    day = site.local_day(decided.recorded_at)
    shown: bookings.AtTheDoor | None = None
    try:
        # The booking is read first and claimed last, once nothing else stands in the way:
        # a check kept as a conflict leaves it as it was.
        if data.booking_code is not None:
            shown = bookings.at_the_door(site, data.booking_code, decided.recorded_at)
        cause = _upload_problem(site, data, decided, tablet, now)
        if cause is None and shown is not None:
            cause = _booked_problem(site, data, decided, shown)
    except ServiceError as refusal:  # a re-test's or the booking's, and the claim lost
        cause = refusal.code
    if cause is not None:
        if decided.slot is not None and tablet is not None:
            # The tablet gave that number to a visitor: whatever the server makes of the check,
            # the number is not offered to anyone else, though it stays counted.
            leases.keep_given(tablet, day, decided.slot, now)
        return _conflict(site, data, decided, tablet, now, cause)
    screening = expected(site, data, decided)
    slot = decided.slot
    if as_booked_offline(data, decided):
        numbered = day_counter.number_booked(site, day)
        counted, slot = numbered.quota, numbered.slot
    else:
        counted = day_counter.count_check(site, day, screening.status, screening.reasons)
    booking_id = None if shown is None else shown.booking.id
    visit = store(site, recorder, data, screening, decided.recorded_at, slot, booking_id)
    if as_booked_offline(data, decided):
        bookings.name_visit(shown.booking, visit)
    return CheckInResult(visit, counted)


def _upload_problem(
    site: Site, data: CheckInData, decided: OfflineDecision, tablet: Device | None, now: datetime
) -> str | None:
    """Return why an offline check cannot be stored as decided (taking its slot), or None.

    Only the paired tablet that decided a check may upload it: only it decides offline, and
    its pairing bounds the times it may claim.
    """
    if tablet is None or tablet.public_id != decided.device_id:
        return NOT_THIS_TABLET
    # A tablet's time is its own: the server takes it only between the tablet's pairing and
    # now, so that no upload reaches into closed days.
    if decided.recorded_at > now + CLOCK_SKEW:
        return RECORDED_IN_THE_FUTURE
    if decided.recorded_at < tablet.created_at - CLOCK_SKEW:
        return RECORDED_BEFORE_TABLET
    screening = expected(site, data, decided)
    if (screening.status, screening.reasons) != (decided.status, decided.reasons):
        return DECISION_DIFFERS
    if not screening.passed or as_booked_offline(data, decided):
        return None
    return leases.use(
        tablet, site.local_day(decided.recorded_at), decided.slot, decided.recorded_at, now
    )


def _booked_problem(
    site: Site, data: CheckInData, decided: OfflineDecision, shown: bookings.AtTheDoor
) -> str | None:
    """Return why an offline admission to a booked place cannot be stored, or None once the
    booking is claimed for it (in the caller's transaction).

    The claim is the booking's own conditional UPDATE (:func:`bookings.admit`): of two tablets
    admitting one booking, online or uploaded, racing or not, the first takes the place and the
    other's check is kept as a conflict. A check that met the walk-in rules took a slot of its
    tablet's lease instead, and the booking it showed stays as it is, as online.
    """
    if not as_booked_offline(data, decided):
        return None
    if not shown.door.booked:
        return BOOKING_NOT_AS_BOOKED
    bookings.admit(site, shown.booking, decided.recorded_at)
    return None


def _conflict(
    site: Site,
    data: CheckInData,
    decided: OfflineDecision,
    tablet: Device | None,
    now: datetime,
    cause: str,
) -> CheckInResult:
    """Keep a check that cannot be stored as decided, without the visitor's personal data."""
    conflict = UploadConflict(
        site_id=site.id,
        device_id=tablet.id if tablet is not None else None,
        client_ref=data.client_ref,
        recorded_at=decided.recorded_at,
        uploaded_at=now,
        cause=cause,
        detail={
            "status": decided.status,
            "reasons": list(decided.reasons),
            "slot": decided.slot,
            "temperature_dc": data.temperature_dc,
            "hand_sanitiser": data.hand_sanitiser,
            "mask": data.mask,
            "distancing": data.distancing,
            "booking_code": data.booking_code,
        },
    )
    db.session.add(conflict)
    db.session.flush()
    return CheckInResult(None, day_counter.quota_today(site, now), conflict=conflict)


def _stored(site: Site, client_ref: str | None, now: datetime) -> CheckInResult | None:
    """Return the check or the conflict stored for ``client_ref`` already, if any."""
    visit = stored_check(site, client_ref)
    conflict = None
    if visit is None and client_ref is not None:
        conflict = db.session.scalar(
            sa.select(UploadConflict).where(
                UploadConflict.site_id == site.id, UploadConflict.client_ref == client_ref
            )
        )
    if visit is None and conflict is None:
        return None
    return CheckInResult(visit, day_counter.quota_today(site, now), False, conflict)


def conflicts(site: Site, limit: int = 100) -> list[UploadConflict]:
    """Return the site's upload conflicts, newest first."""
    return list(
        db.session.scalars(
            sa.select(UploadConflict)
            .where(UploadConflict.site_id == site.id)
            .order_by(UploadConflict.uploaded_at.desc(), UploadConflict.id.desc())
            .limit(limit)
        )
    )


def screen(site: Site, data: CheckInData, checked_at: datetime) -> admission.Screening:
    """Screen a check by the site's rules; a re-test first has to be allowed at ``checked_at``."""
    if data.is_retest:
        refusal = retests.refusal(first_reading(site, data), site, checked_at)
        if refusal is not None:
            raise refusal
    return admission.screen(
        admission.Reading(
            temperature_dc=data.temperature_dc,
            hand_sanitiser=data.hand_sanitiser,
            mask=data.mask,
            distancing=data.distancing,
            is_retest=data.is_retest,
        ),
        site.policy,
    )


def first_reading(site: Site, data: CheckInData) -> Visit | None:
    """Return the site's visit a re-test names, by id or by its client reference."""
    if data.retest_of is not None:
        return site_visit(site, data.retest_of)
    return stored_check(site, data.retest_of_ref)


def store(
    site: Site,
    recorder: User | None,
    data: CheckInData,
    screening: admission.Screening,
    checked_at: datetime,
    slot: int | None,
    booking_id: int | None = None,
) -> Visit:
    """Insert the visit a check decided, in the caller's transaction."""
    first = first_reading(site, data) if data.retest_of_ref is not None else None
    return _insert(
        site_id=site.id,
        day=site.local_day(checked_at),
        local_hour=checked_at.astimezone(site.zone).hour,
        checked_at=checked_at,
        recorded_by_id=recorder.id if recorder else None,
        visitor_name=data.visitor_name,
        phone=data.phone,
        nik_last4=data.nik_last4,
        purpose=data.purpose,
        temperature_dc=data.temperature_dc,
        hand_sanitiser=data.hand_sanitiser,
        mask=data.mask,
        distancing=data.distancing,
        status=screening.status,
        reason_codes=",".join(screening.reasons),
        slot=slot if screening.passed else None,
        retest_of_id=first.id if first is not None else data.retest_of,
        client_ref=data.client_ref,
        device_id=data.tablet_id,
        # Every admitted visitor waits for a call to a booth; the others never enter the floor.
        floor_state=WAITING if screening.status == admission.ADMITTED else None,
        # Every attribute given, not left to defaults: the visit returned need not reload.
        voided_at=None,
        voided_by_id=None,
        void_reason=None,
        anonymised_at=None,
        left_at=None,
        booth_id=None,
        called_by_id=None,
        called_at=None,
        calls=0,
        serving_at=None,
        finished_at=None,
        booking_id=booking_id,
        override_reason=None,
        override_note=None,
    )


def stored_check(site: Site, client_ref: str | None) -> Visit | None:
    """Return the site's check stored under ``client_ref``, if any."""
    if client_ref is None:
        return None
    return db.session.scalar(
        sa.select(Visit).where(Visit.site_id == site.id, Visit.client_ref == client_ref)
    )


def void_visit(visit: Visit, by: User, reason: str, now: datetime) -> None:
    """Mark a mistaken check as void, uncount it, and free its slot in the same atomic way."""
    reason = reason.strip()
    if not reason:
        raise VoidReasonMissing()
    voided = db.session.execute(
        sa.update(Visit)
        .where(Visit.id == visit.id, Visit.voided_at.is_(None))
        .values(
            voided_at=now,
            voided_by_id=by.id,
            void_reason=reason[: limits.MAX_VOID_REASON],
            floor_state=floor.STATE_AFTER_VOID,
        ),
        execution_options={"synchronize_session": False},
    )
    if voided.rowcount != 1:
        raise AlreadyVoided()
    if visit.booking_id is not None and bookings.took_place(visit):
        # Its booking is open again; its number, not a walk-in slot, is never handed out again.
        bookings.give_back_admission(visit)
    elif visit.override_reason is not None:
        overrides.uncount(visit)
    else:
        moves = day_counter.steps(visit.status, visit.reasons, -1)
        if visit.status == admission.ADMITTED:
            # The slot is free again; ``issued`` stays, so its number is never handed out twice.
            moves["used"] = -1
        day_counter.add_to_day(visit.site_id, visit.day, moves)
    audit.record(visit.site, by, now, "void", {"status": visit.status, "slot": visit.slot}, visit)
    db.session.refresh(visit)


def recent_checks(site: Site, now: datetime, limit: int = 10) -> list[Visit]:
    """Return the site's latest checks of its local day, newest first, for the door screen."""
    return list(
        db.session.scalars(
            sa.select(Visit)
            .where(Visit.site_id == site.id, Visit.day == site.local_day(now))
            .order_by(Visit.checked_at.desc(), Visit.id.desc())
            .limit(limit)
        )
    )


def site_visit(site: Site, visit_id: int) -> Visit | None:
    """Return the visit ``visit_id`` only if it belongs to ``site``; other sites' stay hidden."""
    return db.session.scalar(sa.select(Visit).where(Visit.id == visit_id, Visit.site_id == site.id))


_INSERT_VISIT = sa.insert(Visit.__table__)
_VISITS = Visit.__mapper__.class_manager
# Core speaks column names, the model attribute names (``reason_codes`` is stored as ``reasons``).
_COLUMN_OF = {prop.key: prop.columns[0].name for prop in Visit.__mapper__.column_attrs}


def _insert(**values: Any) -> Visit:
    """Store a new visit with one INSERT, without a flush, and return it attached to the session.

    The visit is made as a query makes a loaded row, its attributes filled in place: built
    through the mapped constructor, each of its thirty attributes would fire change events
    that nothing listens to, which cost a check-in more than the INSERT.
    """
    # Only the columns given a value, so that the table's defaults fill the others; a column
    # set to None is left to the table too (NULL), which saves binding a dozen empty columns.
    row = {_COLUMN_OF[name]: value for name, value in values.items() if value is not None}
    inserted = db.session.connection().execute(_INSERT_VISIT, row)
    visit = _VISITS.new_instance()
    visit.__dict__.update(values, id=inserted.inserted_primary_key[0])
    make_transient_to_detached(visit)
    db.session.add(visit)
    return visit
