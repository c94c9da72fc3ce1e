"""In-process cost of one check-in through the Flask test client, to catch regressions.

Run with `python -m pytest bench/test_checkin_speed.py` (`make test` does not collect bench/).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from bench.databases import bench_app
from bench.throughput import UNLIMITED_QUOTA
from checkin.extensions import db
from checkin.models import utcnow
from checkin.services import accounts, sites, transaction

PASSING = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}
REFUSED = PASSING | {"mask": False}


@pytest.fixture
def client_and_headers(tmp_path: Path) -> Iterator[tuple[FlaskClient, dict[str, str]]]:
    """Return a test client of a fresh SQLite app and the bearer headers of a door account."""
    app = bench_app(f"sqlite:///{tmp_path / 'speed.db'}", TESTING=True)
    with app.app_context():
        db.create_all()
        with transaction.owned():
            site = sites.add_site("SPEED", "Kantor Cabang Speed", daily_quota=UNLIMITED_QUOTA)
            door = accounts.add_user(
                "speed-door", "door", "speed-password-1", site, by=None, now=utcnow()
            )
            token = accounts.issue_token(door, "pytest-benchmark")
    yield app.test_client(), {"Authorization": f"Bearer {token}"}
    with app.app_context():
        db.engine.dispose()


@pytest.mark.parametrize(
    ("body", "status"), [(PASSING, "admitted"), (REFUSED, "refused")], ids=["admitted", "refused"]
)
def test_one_check_in(benchmark, client_and_headers, body: dict, status: str) -> None:
    client, headers = client_and_headers

    def post() -> dict:
        response = client.post("/api/v1/checkins", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json

    assert benchmark(post)["status"] == status
