"""A manager stopping a tablet while the tablet tops its lease up, at the same moment, on
PostgreSQL (whose rows a transaction may not see until the other commits): in either order the
tablet ends with no slot it may still give out."""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest
import sqlalchemy as sa

from checkin.extensions import db
from checkin.models import Device, LeasedSlot
from checkin.services import leases

TRIES = 100
# Inside each transaction, after its first write: without the tablet's row written first by
# both, the other transaction's statements interleave here.
WIDENED = 0.005


@pytest.fixture
def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite lets one writer in at a time: the race cannot happen there")


def test_a_stop_racing_a_top_up_leaves_the_tablet_no_usable_slot(
    app, postgresql_only, site, manager_user, pair_tablet, clock
):
    @sa.event.listens_for(db.engine, "after_cursor_execute")
    def widen(_connection, _cursor, statement, *_args) -> None:
        if statement.startswith(("UPDATE device", "UPDATE day_quota")):
            time.sleep(WIDENED)

    orders = Counter()
    try:
        for _try in range(TRIES):
            device_id = pair_tablet().device.id
            finished = race(
                app,
                device_id,
                {
                    "top-up": lambda device: leases.top_up(device, clock.now),
                    "stop": lambda device: leases.revoke(device, manager_user, clock.now),
                },
            )
            orders[min(finished, key=finished.get)] += 1
            db.session.expire_all()
            device = db.session.get(Device, device_id)
            assert leases.lease_of(device, clock.now).slots == []
            usable = db.session.scalar(
                sa.select(sa.func.count()).where(
                    LeasedSlot.device_id == device_id,
                    LeasedSlot.used_at.is_(None),
                    LeasedSlot.revoked_at.is_(None),
                )
            )
            assert usable == 0
    finally:
        sa.event.remove(db.engine, "after_cursor_execute", widen)
    # Both orders happened: the test saw the race both ways.
    assert set(orders) == {"top-up", "stop"}, orders


def race(app, device_id: int, works: dict) -> dict[str, float]:
    """Run each work on the tablet in its own thread and session, started together; return
    when each finished."""
    start = threading.Barrier(len(works))
    finished: dict[str, float] = {}

    def run(name: str) -> None:
        with app.app_context():
            device = db.session.get(Device, device_id)
            start.wait()
            works[name](device)
            finished[name] = time.monotonic()
            db.session.remove()

    racers = [threading.Thread(target=run, args=(name,)) for name in works]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=30)
    return finished
