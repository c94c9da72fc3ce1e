"""Files that hold personal data or the secret key are their owner's only from the moment they
exist: made so, never chmod-ed afterwards, so no other user can open one in between.

The backups, restores and the database a restore replaced: tests/test_backups.py.
"""

from __future__ import annotations

import sqlalchemy as sa

from checkin import create_app
from checkin.extensions import db
from tests.conftest import PRIVATE, mode_of


def test_a_new_sqlite_database_and_its_write_ahead_log_are_private_from_the_start(tmp_path, chmods):
    path = tmp_path / "office" / "checkin.db"
    path.parent.mkdir()
    app = create_app({"TESTING": True, "SECRET_KEY": "t", "DATABASE_URL": f"sqlite:///{path}"})
    with app.app_context():
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        # The pooled connection keeps the -wal and -shm files in place.
        db.session.execute(
            sa.text(
                "INSERT INTO site (code, name, timezone, daily_quota, "
                "fever_cutoff_dc, recheck_minutes, online_service_url, "
                "created_at) VALUES ('MLG', 'Malang', 'Asia/Jakarta', 60, "
                "373, 5, '', '2026-01-01')"
            )
        )
        db.session.commit()
        modes = {file.name: mode_of(file) for file in path.parent.iterdir()}
        db.engine.dispose()
    assert modes == {"checkin.db": PRIVATE, "checkin.db-wal": PRIVATE, "checkin.db-shm": PRIVATE}
    assert chmods == []
