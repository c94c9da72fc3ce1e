"""A deliberately wrong "call next": read the lowest waiting visit, then update it without the
condition that it still waits. The control for the calling race test; never production code."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from flask import Flask, jsonify

engine = sa.create_engine(os.environ["NAIVE_DATABASE_URL"], isolation_level="AUTOCOMMIT")


def create_app() -> Flask:
    """Return an app whose POST calls the lowest waiting visit to a booth, racily."""
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.post("/booths/<int:booth_id>/call")
    def call_next(booth_id: int):
        with engine.connect() as connection:
            visit_id = connection.scalar(
                sa.text("SELECT id FROM visit WHERE floor_state = 'waiting' ORDER BY slot LIMIT 1")
            )
            if visit_id is None:
                return jsonify(called=None), 409
            # The same 20 ms of work between reading and writing as the quota's control.
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
