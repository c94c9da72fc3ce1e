"""Ten officers press "call next" at once against four gunicorn workers: each visitor is called
exactly once, no booth holds two, and the counts equal the rows; a naive select-then-update
under the same load calls visitors twice, so the race is real."""

from __future__ import annotations

import http.client
import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa

from checkin.domain.calling import DONE
from checkin.extensions import db
from checkin.models import Booth, Visit, utcnow
from checkin.services import floor, transaction
from tests.conftest import PASSWORD
from tests.serving import CALL_DELAY_VARIABLE, REQUEST_TIMEOUT, Server, gunicorn

pytestmark = pytest.mark.slow

OFFICERS = 10
VISITORS = 60
# Held inside the claiming transaction: presses that arrive together meet the claim.
CALL_DELAY = "0.02"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Officer:
    """One officer's browser: a session cookie, and the booth they hold."""

    def __init__(self, server: Server, username: str, booth: int) -> None:
        self.server = server
        self.username = username
        self.booth = booth
        self.cookie = ""

    def send(self, method: str, path: str, form: dict | None = None) -> tuple[int, str]:
        """Send one request with the session cookie; return the status and the body."""
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.server.port, timeout=REQUEST_TIMEOUT
        )
        try:
            headers = {"Cookie": self.cookie} | (FORM if form is not None else {})
            connection.request(method, path, urlencode(form) if form is not None else None, headers)
            response = connection.getresponse()
            body = response.read().decode()
            for header in response.headers.get_all("Set-Cookie") or []:
                if header.startswith("session="):
                    self.cookie = header.split(";", 1)[0]
            return response.status, body
        finally:
            connection.close()

    def log_in(self) -> None:
        """Log in through the form and land on the console."""
        status, _body = self.send(
            "POST", "/login", {"username": self.username, "password": PASSWORD}
        )
        assert status == 302

    def serve_until_nobody_waits(self) -> list[int]:
        """Call, start and finish visitors at the booth until nobody waits; return who came."""
        served = []
        booth = f"/floor/booths/{self.booth}"
        while True:
            status, body = self.send("POST", f"{booth}/call", {})
            if (
                status == 409 and "Tidak ada yang menunggu dipanggil" in body
            ):  # Indonesian, the default
                return served
            assert status == 303, (status, body[:300])
            _status, page = self.send("GET", "/floor/?lang=en")
            card = re.search(
                rf'id="booth-{self.booth}".*?name="visit" value="(\d+)"', page, re.DOTALL
            )
            visit = card.group(1)
            for step in ("start", "done"):
                status, body = self.send("POST", f"{booth}/{step}", {"visit": visit})
                assert status == 303, (step, status, body[:300])
            served.append(int(visit))


def test_ten_officers_calling_at_once_call_each_visitor_exactly_once(
    database_url, site, make_user, make_visit
):
    # The served app reads the real clock: the visitors wait today, by that clock.
    visits = [make_visit(now=utcnow()).visit.id for _ in range(VISITORS)]
    officers = [make_user("officer") for _ in range(OFFICERS)]
    with transaction.owned():
        for number, officer in enumerate(officers, start=1):
            floor.open_booth(site, officer, number, utcnow())
    env = {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "race",
        "CHECKIN_WTF_CSRF_ENABLED": "false",
        CALL_DELAY_VARIABLE: CALL_DELAY,
    }
    with gunicorn("tests.serving:floor_race_app()", env) as server:
        browsers = [
            Officer(server, officer.username, number)
            for number, officer in enumerate(officers, start=1)
        ]
        for browser in browsers:
            browser.log_in()
        with ThreadPoolExecutor(OFFICERS) as pool:
            served = list(pool.map(Officer.serve_until_nobody_waits, browsers))

    everyone = [visit for visits_of_one in served for visit in visits_of_one]
    assert sorted(everyone) == sorted(visits), "a visitor was called twice, or never"
    db.session.rollback()
    rows = list(db.session.scalars(sa.select(Visit).order_by(Visit.id)))
    assert Counter(visit.floor_state for visit in rows) == {DONE: VISITORS}
    assert sum(visit.calls for visit in rows) == VISITORS == len(rows)
    booths = {booth.id: booth.number for booth in db.session.scalars(sa.select(Booth))}
    officer_of_booth = {number: officer.id for number, officer in enumerate(officers, start=1)}
    for browser, visits_of_one in zip(browsers, served, strict=True):
        mine = [visit for visit in rows if visit.id in visits_of_one]
        assert {booths[visit.booth_id] for visit in mine} <= {browser.booth}
        assert {visit.called_by_id for visit in mine} <= {officer_of_booth[browser.booth]}
        # One visitor at a time: each was done before the booth called the next.
        timeline = sorted(mine, key=lambda visit: visit.called_at)
        for before, after in zip(timeline, timeline[1:], strict=False):
            assert before.finished_at <= after.called_at
    assert len([answer for answer in served if answer]) > 1, "one officer did all the work"


def test_naive_select_then_update_calls_a_visitor_twice(database_url, site, make_visit):
    """Show the race is real: the same presses against a select-then-update call visitors twice."""
    for _ in range(VISITORS):
        make_visit(now=utcnow())
    booth_ids = list(db.session.scalars(sa.select(Booth.id).order_by(Booth.number)))
    env = {"NAIVE_DATABASE_URL": database_url}

    def press_until_nobody_waits(server: Server, booth_id: int) -> int:
        presses = 0
        while server.request("POST", f"/booths/{booth_id}/call")[0] == 201:
            presses += 1
        return presses

    # Loaded before forking, every worker serves from the first request (see the quota's control).
    with (
        gunicorn("tests.naive_app:create_app()", env, options=["--preload"]) as server,
        ThreadPoolExecutor(OFFICERS) as pool,
    ):
        presses = sum(pool.map(lambda booth: press_until_nobody_waits(server, booth), booth_ids))
    db.session.rollback()
    calls = list(db.session.scalars(sa.select(Visit.calls)))
    assert sum(calls) == presses
    assert max(calls) > 1, "the control did not race; the calling test proves nothing"
