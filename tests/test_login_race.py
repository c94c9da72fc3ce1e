"""Guesses in parallel against real gunicorn workers: the throttle still checks at most five."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from checkin.services import logins
from tests.conftest import PASSWORD
from tests.serving import PASSWORD_LOG_VARIABLE, Server, gunicorn

GUESSES = 64
THREADS = 32
RIGHT_GUESS = 13


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def guess(server: Server, username: str, password: str) -> int:
    """Post one login form; return the status (a 302 logs in)."""
    form = urlencode({"username": username, "password": password})
    status, _answer = server.request("POST", "/login", form, FORM)
    return status


def test_thirty_two_parallel_guessers_get_at_most_five_passwords_checked(
    database_url, door_user, tmp_path
):
    checks = tmp_path / "checks"
    checks.touch()
    env = {
        "CHECKIN_DATABASE_URL": database_url,
        "CHECKIN_SECRET_KEY": "race",
        "CHECKIN_WTF_CSRF_ENABLED": "false",
        PASSWORD_LOG_VARIABLE: str(checks),
    }
    passwords = [
        PASSWORD if number == RIGHT_GUESS else f"guess-{number}" for number in range(GUESSES)
    ]
    with (
        gunicorn("tests.serving:password_counting_app()", env) as server,
        ThreadPoolExecutor(max_workers=THREADS) as pool,
    ):
        statuses = list(
            pool.map(lambda password: guess(server, door_user.username, password), passwords)
        )
    checked = Counter(checks.read_text().split())
    assert checked["wrong"] <= logins.LOCKOUT_AFTER, (checked, Counter(statuses))
    assert checked["wrong"] + checked["right"] <= logins.LOCKOUT_AFTER
    assert set(statuses) <= {302, 401, 429}
    assert statuses.count(302) == checked["right"]
    assert statuses.count(429) >= GUESSES - logins.LOCKOUT_AFTER
