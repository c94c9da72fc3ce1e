"""Who may do what: the one table of staff roles and the capabilities each holds.

A guard asks for a capability, never for a role; a role's name is written here only (the
accounts table stores it, and its CHECK constraint lists these values).
"""

from __future__ import annotations

from enum import StrEnum


class Capability(StrEnum):
    """Something a staff account may do; a page or an API call asks for one."""

    # The door's pages: check a visitor in there, re-test, mark left; read today's quota and
    # a tablet's lease.
    STAFF_DOOR = "staff_door"
    # Check in through the API: a door tablet or a thermal scanner acting for the site's door.
    CHECK_IN = "check_in"
    # Top up a paired tablet's lease of the day's slots.
    LEASE = "lease"
    # The floor: open booths, call the next visitor, serve them.
    CALL_VISITORS = "call_visitors"
    # Run one site: settings, tablets, displays, voids, exports, the API's reads.
    MANAGE_SITE = "manage_site"
    # Admit a visitor past a full walk-in quota, with a reason: counted apart, audited.
    ADMIT_PAST_QUOTA = "admit_past_quota"
    # Search a site's visits for contacts: personal health data of a whole site.
    TRACE_CONTACTS = "trace_contacts"
    # Read a site's entry log, reports and day summary.
    READ_REPORTS = "read_reports"
    # Read every site's figures side by side.
    READ_EVERY_SITE = "read_every_site"
    # Belong to no site and choose the one to read (head office): audited as another office's.
    CHOOSE_SITE = "choose_site"
    # Keep sites and accounts.
    ADMINISTER = "administer"


class Role(StrEnum):
    """A staff account's role; the values are what the accounts table stores."""

    # In the order of the accounts table's CHECK constraint, which lists the values as migrated.
    DOOR = "door"
    OFFICER = "officer"
    MANAGER = "manager"
    HEAD_OFFICE = "head_office"
    ADMIN = "admin"

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Return what an account of this role may do."""
        return CAPABILITIES[self]

    def may(self, capability: Capability) -> bool:
        """Tell whether an account of this role may do ``capability``."""
        return capability in CAPABILITIES[self]


_C = Capability
CAPABILITIES: dict[Role, frozenset[Capability]] = {
    # Door staff check visitors in, at the door's pages or on a paired tablet.
    Role.DOOR: frozenset({_C.STAFF_DOOR, _C.CHECK_IN, _C.LEASE}),
    # Officers call visitors to booths.
    Role.OFFICER: frozenset({_C.CALL_VISITORS}),
    # Managers run one site and may stand in at its door and on its floor.
    Role.MANAGER: frozenset(
        {
            _C.STAFF_DOOR,
            _C.CHECK_IN,
            _C.LEASE,
            _C.CALL_VISITORS,
            _C.MANAGE_SITE,
            _C.ADMIT_PAST_QUOTA,
            _C.TRACE_CONTACTS,
            _C.READ_REPORTS,
        }
    ),
    # Head office reads every site and belongs to none: it chooses the site it reads.
    Role.HEAD_OFFICE: frozenset({_C.READ_REPORTS, _C.READ_EVERY_SITE, _C.CHOOSE_SITE}),
    # Administrators keep sites and accounts, and run the site they belong to, if any. They
    # check in at the door's pages only: the API's check-ins are a door's own.
    Role.ADMIN: frozenset(
        {
            _C.STAFF_DOOR,
            _C.MANAGE_SITE,
            _C.TRACE_CONTACTS,
            _C.READ_REPORTS,
            _C.READ_EVERY_SITE,
            _C.ADMINISTER,
        }
    ),
}
