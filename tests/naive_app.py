"""Deliberately wrong claims, the controls for the race tests; never production code.

The quota: count admitted rows, then insert. Call next: read the lowest waiting visit, then
update it without the condition that it still waits.
"""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from flask import Flask, jsonify

QUOTA = 60
engine = sa.create_engine(os.environ["NAIVE_DATABASE_URL"], isolation_level="AUTOCOMMIT")


def create_app() -> Flask:
    """Return an app that admits while a count says a slot is left, and calls visitors racily."""
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/api/v1/checkins")
    def check_in():
        with engine.connect() as connection:
            used = connection.scalar(sa.text("SELECT count(*) FROM naive_visit"))
            # Between its check and its insert an app does work; 20 ms makes the workers overlap
            # on every run (with 5 ms, one run in six happened to admit exactly 60).
            time.sleep(0.02)
            if used >= QUOTA:
                return jsonify(status="refused", slot=None), 201
            connection.execute(
                sa.text("INSERT INTO naive_visit (slot) VALUES (:slot)"), {"slot": used + 1}
            )
        return jsonify(status="admitted", slot=used + 1), 201

    @app.post("/booths/<int:booth_id>/call")
    def call_next(booth_id: int):
        with engine.connect() as connection:
            visit_id = connection.scalar(
                sa.text("SELECT id FROM visit WHERE floor_state = 'waiting' ORDER BY slot LIMIT 1")
            )
            if visit_id is None:
                return jsonify(called=None), 409
            # The same 20 ms of work between reading and writing as the quota's.
            time.sleep(0.02)
            connection.execute(
                sa.text(
                    "UPDATE visit SET floor_state = 'called', booth_id = :booth, "
                    "calls = calls + 1 WHERE id = :visit"
                ),
                {"booth": booth_id, "visit": visit_id},
            )
        return jsonify(called=visit_id), 201

    return app
