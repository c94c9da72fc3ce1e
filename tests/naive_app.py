"""A deliberately wrong quota: count admitted rows, then insert. The control for the race test."""

from __future__ import annotations

import os
import time

import sqlalchemy as sa
from flask import Flask, jsonify

QUOTA = 60
engine = sa.create_engine(os.environ["NAIVE_DATABASE_URL"], isolation_level="AUTOCOMMIT")


def create_app() -> Flask:
    """Return an app whose POST admits while a count says a slot is left."""
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

    return app
