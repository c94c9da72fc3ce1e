"""Where a check-in's CPU goes: the endpoint built up layer by layer, beside two floors.

Every row is a passing POST through a Flask test client on SQLite, timed in process CPU; the
rows take turns, round after round, so a change of machine speed hits them all alike.

- floor: ``bench/floor_app.py``, one INSERT per POST;
- the app's SQL, bare: ``bench/bare_app.py``, a minimal Flask app sending the three statements a
  check-in needs (token lookup, counter UPDATE, visit INSERT) through SQLAlchemy Core;
- the app, one layer more per row: its Flask stack answering an empty 201; + the JSON body and the
  marshmallow schema; + the bearer-token login; + the check-in service; the real endpoint.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, jsonify
from flask.testing import FlaskClient

from bench.bare_app import create_app as create_bare_app
from bench.databases import bench_app
from bench.floor_app import create_app as create_floor_app
from bench.throughput import prepare_app_database, prepare_bare_database, prepare_floor_database
from checkin.domain.roles import Capability
from checkin.extensions import csrf
from checkin.services import checkins, transaction
from checkin.web import api
from checkin.web.common import acting_user, current_site, now, requires

BODY = {
    "temperature_c": 36.6,
    "hand_sanitiser": True,
    "mask": True,
    "distancing": True,
    "purpose": "jht_claim",
}
ROUNDS = 7
POSTS_PER_ROUND = 300


@dataclass(frozen=True)
class Layer:
    """The median CPU per POST of one row."""

    name: str
    ms: float


def layered_app(url: str) -> Flask:
    """Return the app with four extra routes, each one layer further towards a check-in."""
    app = bench_app(url, WTF_CSRF_ENABLED=True)

    def stack():
        return jsonify({}), 201

    def schema():
        api.load(api.CHECK_IN, api.json_body())
        return jsonify({}), 201

    @requires(Capability.CHECK_IN)
    def login():
        api.load(api.CHECK_IN, api.json_body())
        return jsonify({}), 201

    @requires(Capability.CHECK_IN)
    def service():
        data, decided = api.load(api.CHECK_IN, api.json_body())
        with transaction.owned():
            checkins.check_in(current_site(), acting_user(), data, now(), decided)
        return jsonify({}), 201

    for view in (stack, schema, login, service):
        # Under /api/: only there does a bearer token log in.
        app.add_url_rule(f"/api/bench/{view.__name__}", view.__name__, view, methods=["POST"])
        csrf.exempt(view)
    return app


def cpu_ms_per_post(post: Callable[[], object], posts: int) -> float:
    """Return the process CPU milliseconds one call of ``post`` costs, averaged over ``posts``."""
    began = time.process_time()
    for _ in range(posts):
        post()
    return (time.process_time() - began) * 1000 / posts


def poster(client: FlaskClient, path: str, headers: dict[str, str]) -> Callable[[], object]:
    """Return a function that posts the passing body to ``path`` and insists on 201."""

    def post() -> object:
        response = client.post(path, json=BODY, headers=headers)
        if response.status_code != 201:
            raise RuntimeError(f"{path} answered {response.status_code}: {response.text[:200]}")
        return response

    return post


def run(directory: Path, rounds: int = ROUNDS, posts: int = POSTS_PER_ROUND) -> list[Layer]:
    """Measure every row on fresh SQLite files in ``directory``; return them in table order."""
    # One file each: a write from another connection would make the next reader reload pages.
    app_url, bare_url, floor_url = (
        f"sqlite:///{directory / name}.db" for name in ("app", "bare", "floor")
    )
    headers = {"Authorization": f"Bearer {prepare_app_database(app_url)}"}
    bare_token, day = prepare_bare_database(bare_url)
    bare_headers = {"Authorization": f"Bearer {bare_token}"}
    prepare_floor_database(floor_url)
    app_client = layered_app(app_url).test_client()
    rows = {
        "floor: one INSERT": poster(
            create_floor_app(floor_url).test_client(), "/api/v1/checkins", {}
        ),
        "the app's SQL, bare (3 statements)": poster(
            create_bare_app(bare_url, day).test_client(), "/api/v1/checkins", bare_headers
        ),
        "app: Flask stack, empty 201": poster(app_client, "/api/bench/stack", headers),
        "+ JSON body and schema": poster(app_client, "/api/bench/schema", headers),
        "+ bearer-token login": poster(app_client, "/api/bench/login", headers),
        "+ check-in service": poster(app_client, "/api/bench/service", headers),
        "app: the real endpoint": poster(app_client, "/api/v1/checkins", headers),
    }
    samples: dict[str, list[float]] = {name: [] for name in rows}
    for post in rows.values():
        cpu_ms_per_post(post, posts // 3)  # warm-up: caches, compiled statements, pool
    for _ in range(rounds):
        for name, post in rows.items():
            samples[name].append(cpu_ms_per_post(post, posts))
    return [Layer(name, statistics.median(values)) for name, values in samples.items()]


def table(layers: list[Layer]) -> str:
    """Return the rows as a Markdown table with each layer's share and its ratio to the floor."""
    floor_ms = layers[0].ms
    lines = [
        "| row | CPU ms per POST | added by the row | x floor |",
        "|---|---|---|---|",
    ]
    previous = None
    for layer in layers:
        added = f"{layer.ms - previous:+.3f}" if previous is not None else ""
        lines.append(f"| {layer.name} | {layer.ms:.3f} | {added} | {layer.ms / floor_ms:.1f} |")
        previous = layer.ms if layer.name.startswith(("app", "+")) else None
    return "\n".join(lines)
