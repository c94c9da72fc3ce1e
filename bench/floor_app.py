"""The floor: the least a check-in POST can cost on this stack (Flask, gunicorn, one INSERT)."""

from __future__ import annotations

import os
from typing import Any

import sqlalchemy as sa
from flask import Flask, jsonify, request

FLOOR_TABLE = """
CREATE TABLE floor_visit (
    id {primary_key},
    temperature_dc SMALLINT NOT NULL,
    hand_sanitiser BOOLEAN NOT NULL,
    mask BOOLEAN NOT NULL,
    distancing BOOLEAN NOT NULL
)
"""
PRIMARY_KEY = {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "SERIAL PRIMARY KEY"}


def floor_table_sql(dialect: str) -> str:
    """Return the CREATE TABLE statement of the floor's one table for ``dialect``."""
    return FLOOR_TABLE.format(primary_key=PRIMARY_KEY[dialect])


def make_engine(url: str) -> sa.Engine:
    """Return an engine tuned like the app's: SQLite in WAL with the same sync and busy timeout."""
    if not url.startswith("sqlite"):
        return sa.create_engine(url, pool_size=5)
    engine = sa.create_engine(url, connect_args={"timeout": 30})

    @sa.event.listens_for(engine, "connect")
    def tune(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def minimal_app() -> Flask:
    """Return a plain Flask app answering ``/healthz``, which the benchmark's server waits for."""
    app = Flask(__name__)

    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    return app


def create_app(database_url: str | None = None) -> Flask:
    """Return an app that stores each posted reading with one INSERT and answers 201."""
    # gunicorn calls this without arguments: the URL then comes from the environment.
    app = minimal_app()
    engine = make_engine(database_url or os.environ["FLOOR_DATABASE_URL"])
    insert = sa.text(
        "INSERT INTO floor_visit (temperature_dc, hand_sanitiser, mask, distancing) "
        "VALUES (:temperature_dc, :hand_sanitiser, :mask, :distancing)"
    )

    @app.post("/api/v1/checkins")
    def check_in():
        body = request.get_json()
        reading = {
            "temperature_dc": round(body["temperature_c"] * 10),
            "hand_sanitiser": body["hand_sanitiser"],
            "mask": body["mask"],
            "distancing": body["distancing"],
        }
        with engine.begin() as connection:
            connection.execute(insert, reading)
        return jsonify(reading), 201

    return app
