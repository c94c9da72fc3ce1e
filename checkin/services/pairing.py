"""Paired door tablets: pairing codes, the tablet's credential, staff PINs and PIN login, and
supervisors' PINs.

A manager makes a pairing code (8 characters of 32, valid 10 minutes, used once); the tablet
that enters it becomes a door device of the site with a long-lived credential. Only hashes of
codes, credentials and PINs are stored. Code guesses are throttled per client address and PIN
guesses per (tablet, account), by the same windows as passwords: 10 guesses per address and
window against 32^8 (10^12) codes leaves a live code out of reach.

A supervisor (an account that may admit past the quota) sets a PIN of their own, which opens no
session: on a paired tablet of their site it admits one visitor past the full quota in their
name (``checkin.web.door``). It is checked with the same windows as a door PIN.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from checkin.domain import limits
from checkin.domain.errors import (
    InvalidPin,
    NotDoorStaff,
    NotSupervisor,
    PairingCodeExpired,
    PairingCodeUsed,
    PairingLocked,
    UnknownAccount,
    UnknownSupervisor,
    WrongPairingCode,
)
from checkin.domain.roles import Capability, Role
from checkin.extensions import db
from checkin.models import Device, PairingCode, Site, User, hash_token
from checkin.services import accounts, audit, leases, logins
from checkin.services.logins import LoginResult

CODE_VALID = timedelta(minutes=10)
CODE_GUESSES = 10
PIN_GUESSES = logins.LOCKOUT_AFTER
# Wrong guesses at one account's PIN on all the site's tablets together: a few tablets must not
# each give a guesser a window of their own at a 4-6 digit PIN (a supervisor's admits past the
# quota). Twice one tablet's, so that one tablet in the wrong hands cannot lock it everywhere.
PIN_GUESSES_ON_EVERY_TABLET = 2 * PIN_GUESSES
_EVERY_TABLET = "every tablet"
# A tablet is seen on every request; writing that down once a minute is enough for the list.
LAST_SEEN_EVERY = timedelta(minutes=1)
_PAIRING = "pair:"
SUPERVISOR_ROLES = tuple(role for role in Role if role.may(Capability.ADMIT_PAST_QUOTA))


@dataclass(frozen=True)
class NewCode:
    """A pairing code to show once, and when it stops working."""

    code: str
    expires_at: datetime


@dataclass(frozen=True)
class Paired:
    """The tablet just paired and its credential, which only the tablet's cookie keeps."""

    device: Device
    credential: str


def new_code(site: Site, by: User, now: datetime) -> NewCode:
    """Make a pairing code for one tablet of ``site``, valid for CODE_VALID."""
    code = "".join(
        secrets.choice(limits.PAIRING_CODE_ALPHABET) for _ in range(limits.PAIRING_CODE_LENGTH)
    )
    expires_at = now + CODE_VALID
    db.session.add(
        PairingCode(
            site_id=site.id,
            code_hash=hash_token(code),
            created_by_id=by.id,
            created_at=now,
            expires_at=expires_at,
        )
    )
    return NewCode(code, expires_at)


def normalise_code(typed: str) -> str:
    """Return a typed code as it was made: capitals, without the spaces and dashes shown."""
    return re.sub(r"[\s-]", "", typed).upper()


def take_guess(address: str, now: datetime) -> None:
    """Count a guess at a pairing code from the client ``address``; PairingLocked once its
    window is full, so that codes cannot be tried in bulk.

    The entry point commits the guess in a transaction of its own before :func:`pair` looks at
    the code: a wrong code is refused with an error, which rolls back the pairing's transaction,
    and the guess must count all the same.
    """
    refused_until = logins.take_attempt(_guesses_from(address), now)
    if refused_until is not None:
        raise PairingLocked(logins.minutes_until(refused_until, now))


def _guesses_from(address: str) -> logins.Keys:
    """Return the throttle's key for pairing guesses from a client address, and its limit."""
    return {(logins.digest(_PAIRING), logins.digest(address)): CODE_GUESSES}


def pair(typed_code: str, name: str, address: str, now: datetime) -> Paired:
    """Pair a tablet with a pairing code: a new door device of the code's site, credential issued.

    The guess is counted first (:func:`take_guess`), and given back here when it pairs. The
    code is marked used by a conditional UPDATE: of two tablets racing with one code, one is
    paired.
    """
    found = db.session.scalar(
        sa.select(PairingCode).where(
            PairingCode.code_hash == hash_token(normalise_code(typed_code))
        )
    )
    if found is None:
        raise WrongPairingCode()
    if found.used_at is not None:
        raise PairingCodeUsed()
    if now >= found.expires_at:
        raise PairingCodeExpired()
    taken = db.session.execute(
        sa.update(PairingCode)
        .where(PairingCode.id == found.id, PairingCode.used_at.is_(None))
        .values(used_at=now)
        .returning(PairingCode.id)
    ).first()
    if taken is None:
        raise PairingCodeUsed()
    device = leases.new_device(found.site, str(uuid.uuid4()), name, now)
    credential = secrets.token_urlsafe(32)
    device.credential_hash = hash_token(credential)
    device.paired_at = now
    db.session.flush()
    found.device_id = device.id
    creator = db.session.get(User, found.created_by_id) if found.created_by_id else None
    audit.record(found.site, creator, now, "tablet_paired", {"device": device.label})
    logins.give_back_attempt(_guesses_from(address), now)
    return Paired(device, credential)


def tablet_for(credential: str) -> Device | None:
    """Return the paired tablet holding ``credential``, or None."""
    device = holder_of(credential)
    return device if device is not None and device.paired else None


def due_to_be_seen(device: Device, now: datetime) -> bool:
    """Tell whether a request of the tablet at ``now`` is to be noted (:func:`note_seen`): once
    a minute at most, so that its polls do not write."""
    return now - device.last_seen_at >= LAST_SEEN_EVERY


def note_seen(device: Device, now: datetime) -> None:
    """Note that the tablet was seen at ``now``, for the manager's list of tablets."""
    device.last_seen_at = now


def holder_of(credential: str) -> Device | None:
    """Return the tablet ``credential`` was given to, paired still or not, or None.

    An unpaired tablet's credential opens nothing; it still proves which tablet speaks when it
    gives back the slots it held (``checkin.services.leases.give_back``).
    """
    return db.session.scalar(
        sa.select(Device)
        .options(joinedload(Device.site))
        .where(Device.credential_hash == hash_token(credential))
    )


def unpair(device: Device, by: User | None, now: datetime) -> Device:
    """Unpair a tablet: its next request finds it unpaired and every session on it ended.

    Its credential now only gives back the slots it still holds: online, the tablet does so at
    once; out of reach, they stay held until it does or a manager releases them.
    """
    device.unpaired_at = now
    audit.record(device.site, by, now, "tablet_unpaired", {"device": device.label})
    return device


def door_staff(site: Site) -> list[User]:
    """Return the site's active door accounts, by name, for the manager to give PINs."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(User.site_id == site.id, User.role == Role.DOOR, User.active.is_(True))
            .order_by(User.username)
        )
    )


def staff_with_pin(site: Site) -> list[User]:
    """Return the site's door staff who can log in on a paired tablet with a PIN."""
    return [user for user in door_staff(site) if user.pin_hash is not None]


def set_pin(site: Site, user_id: int, pin: str, by: User, now: datetime) -> User:
    """Give a door account of ``site`` a new PIN; its sessions end and its PIN failures go."""
    user = door_account(site, user_id)
    if re.fullmatch(limits.PIN_PATTERN, pin) is None:
        raise InvalidPin()
    user.set_pin(pin)
    accounts.end_sessions(user)
    logins.forget_pin_guesses(user.id)
    audit.record(site, by, now, "account", {"account": user.username, "change": "pin_set"})
    return user


def pin_log_in(device: Device, user_id: int, pin: str, now: datetime) -> LoginResult:
    """Check a door PIN on a paired tablet if the windows allow it, as passwords are checked.

    Only door staff of the tablet's own site log in so: a PIN never opens a manager's pages.
    """
    return check_pin(device, door_account(device.site, user_id), pin, now)


def supervisor_pin(device: Device, user_id: int, pin: str, now: datetime) -> LoginResult:
    """Check a supervisor's PIN typed on a paired tablet, by the windows of :func:`check_pin`;
    the supervisor is one of the tablet's site (:func:`supervisor_account`)."""
    return check_pin(device, supervisor_account(device.site, user_id), pin, now)


def check_pin(device: Device, user: User, pin: str, now: datetime) -> LoginResult:
    """Check ``user``'s PIN typed on a paired tablet if the windows allow it.

    Wrong PINs are counted per (tablet, account) and for all accounts per tablet, as password
    failures are per (account, address) and per address, and per account on every tablet. A
    wrong PIN is an answer, not an error: the entry point commits the failure counted with it.
    """
    if re.fullmatch(limits.PIN_PATTERN, pin) is None:
        raise InvalidPin()
    tablet = logins.digest(f"tablet:{device.id}")
    keys = {
        (logins.pin_key(user.id), tablet): PIN_GUESSES,
        (logins.pin_key(user.id), logins.digest(_EVERY_TABLET)): PIN_GUESSES_ON_EVERY_TABLET,
        (logins.EVERY_ACCOUNT, tablet): logins.ADDRESS_LIMIT,
    }
    refused_until = logins.take_attempt(keys, now)
    if refused_until is not None:
        return LoginResult(None, refused_until)
    if user.check_pin(pin):
        logins.give_back_attempt(keys, now)
        return LoginResult(user)
    return LoginResult(None, logins.locked_until(keys, now))


def door_account(site: Site, user_id: int) -> User:
    """Return an active door account of ``site``, or raise why it is not one."""
    user = db.session.get(User, user_id) if 1 <= user_id <= limits.MAX_ID else None
    if user is None or user.site_id != site.id:
        raise UnknownAccount(str(user_id))
    if user.role != Role.DOOR or not user.active:
        raise NotDoorStaff(user.username)
    return user


def supervisors_with_pin(site: Site) -> list[User]:
    """Return the site's active supervisors who have a PIN, by name: a paired tablet lists them
    to admit a visitor past the full quota."""
    return list(
        db.session.scalars(
            sa.select(User)
            .where(
                User.site_id == site.id,
                User.role.in_(SUPERVISOR_ROLES),
                User.active.is_(True),
                User.pin_hash.is_not(None),
            )
            .order_by(User.username)
        )
    )


def supervisor_account(site: Site, user_id: int) -> User:
    """Return one of :func:`supervisors_with_pin`, or raise UnknownSupervisor."""
    user = db.session.get(User, user_id) if 1 <= user_id <= limits.MAX_ID else None
    if (
        user is None
        or user.site_id != site.id
        or user.role not in SUPERVISOR_ROLES
        or not user.active
        or user.pin_hash is None
    ):
        raise UnknownSupervisor()
    return user


def set_supervisor_pin(user: User, pin: str, now: datetime) -> User:
    """Give a supervisor a new PIN of their own; its past failures go.

    Only its holder sets it, so that no one admits past the quota in another's name. It opens
    no session, so the account's sessions go on.
    """
    if user.role not in SUPERVISOR_ROLES:
        raise NotSupervisor()
    if re.fullmatch(limits.PIN_PATTERN, pin) is None:
        raise InvalidPin()
    user.set_pin(pin)
    logins.forget_pin_guesses(user.id)
    detail = {"account": user.username, "change": "supervisor_pin_set"}
    audit.record(user.site, user, now, "account", detail)
    return user
