"""The app's SQL alone: a minimal Flask app admitting with the three statements of a check-in.

Served beside the floor (one INSERT) it measures how close the app's own SQL lets any app on
this stack come to the floor; the app's distance from it is the layering around that SQL.
"""

from __future__ import annotations

import os
from datetime import date

import sqlalchemy as sa
from flask import Flask, jsonify, request

from bench.floor_app import make_engine, minimal_app
from checkin.models import ApiToken, DayQuota, User, Visit, hash_token, utcnow

_TOKENS, _USERS = ApiToken.__table__, User.__table__
_DAYS, _VISITS = DayQuota.__table__, Visit.__table__

TOKEN_USER = (
    sa.select(_USERS.c.id, _USERS.c.site_id)
    .join_from(_TOKENS, _USERS, _TOKENS.c.user_id == _USERS.c.id)
    .where(
        _TOKENS.c.token_hash == sa.bindparam("token_hash"),
        _TOKENS.c.revoked_at.is_(None),
        _USERS.c.active.is_(True),
    )
)
CLAIM_SLOT = (
    sa.update(_DAYS)
    .where(
        _DAYS.c.site_id == sa.bindparam("row_site"),
        _DAYS.c.day == sa.bindparam("row_day"),
        _DAYS.c.used < _DAYS.c.quota_limit,
    )
    .values(used=_DAYS.c.used + 1, issued=_DAYS.c.issued + 1, checks=_DAYS.c.checks + 1)
    .returning(_DAYS.c.used, _DAYS.c.issued)
)
INSERT_VISIT = sa.insert(_VISITS)


def create_app(database_url: str | None = None, day: date | None = None) -> Flask:
    """Return an app that admits each POST on ``day``, whose counter row must already exist."""
    # gunicorn calls this without arguments: URL and day then come from the environment.
    app = minimal_app()
    engine = make_engine(database_url or os.environ["BARE_DATABASE_URL"])
    day = day or date.fromisoformat(os.environ["BARE_DAY"])

    @app.post("/api/v1/checkins")
    def check_in():
        body = request.get_json()
        token = request.headers["Authorization"].removeprefix("Bearer ")
        with engine.begin() as connection:
            user = connection.execute(TOKEN_USER, {"token_hash": hash_token(token)}).one()
            counted = connection.execute(
                CLAIM_SLOT, {"row_site": user.site_id, "row_day": day}
            ).one()
            connection.execute(
                INSERT_VISIT,
                {
                    "site_id": user.site_id,
                    "day": day,
                    "local_hour": 9,  # no site clock here: the hour costs the same either way
                    "checked_at": utcnow(),
                    "recorded_by_id": user.id,
                    "purpose": body["purpose"],
                    "temperature_dc": round(body["temperature_c"] * 10),
                    "hand_sanitiser": body["hand_sanitiser"],
                    "mask": body["mask"],
                    "distancing": body["distancing"],
                    "status": "admitted",
                    "reasons": "",
                    "slot": counted.issued,
                },
            )
        return jsonify(slot=counted.issued, used=counted.used), 201

    return app
