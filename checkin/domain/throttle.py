"""Pure rule of the login throttle: how many passwords a window lets through, and for how long.

A window opens at the first attempt and lets ``limit`` attempts through; a full window refuses
until it ends. A window that ended full makes the next one twice as long (15 minutes, then 30,
an hour ... up to 16 hours), so an attacker's guesses slow down while staff who mistype a few
times wait at most the first 15 minutes. A window idle for as long as it lasted is forgotten.
No database and no clock here: the service stores windows and passes the time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

WINDOW = timedelta(minutes=15)
MAX_DOUBLINGS = 6


@dataclass(frozen=True)
class Window:
    """The attempts taken from one key (an account typed from an address, or an address)."""

    started_at: datetime | None = None
    attempts: int = 0
    full_windows: int = 0

    @property
    def length(self) -> timedelta:
        """Return how long this window lasts: longer after each window that ended full."""
        return WINDOW * 2 ** min(self.full_windows, MAX_DOUBLINGS)

    @property
    def ends_at(self) -> datetime | None:
        """Return when this window ends, or None before its first attempt."""
        return None if self.started_at is None else self.started_at + self.length

    def take(self, limit: int, now: datetime) -> Window | None:
        """Return this window with one more attempt taken, or None while it is full."""
        if self.started_at is None or now >= self.ends_at:
            ended_full = self.started_at is not None and self.attempts >= limit
            recently = self.started_at is not None and now < self.ends_at + self.length
            full_windows = self.full_windows + 1 if ended_full and recently else 0
            return Window(now, 1, full_windows)
        if self.attempts >= limit:
            return None
        return replace(self, attempts=self.attempts + 1)

    def give_back(self) -> Window:
        """Return this window without a correct password's attempt, the longer wait forgiven."""
        return replace(self, attempts=max(self.attempts - 1, 0), full_windows=0)

    def locked_until(self, limit: int, now: datetime) -> datetime | None:
        """Return when a full window lets attempts through again, or None if it does now."""
        if self.started_at is None or self.attempts < limit or now >= self.ends_at:
            return None
        return self.ends_at
