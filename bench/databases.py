"""Fresh databases for benchmark runs, and an app bound to one of them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from checkin import create_app

POSTGRES_SERVER_URL = os.environ.get(
    "CHECKIN_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ENGINES = ("sqlite", "postgresql")


def postgres_url(database: str) -> str:
    """Return the URL of ``database`` on the benchmark PostgreSQL server."""
    url = sa.make_url(POSTGRES_SERVER_URL).set(database=database)
    return url.render_as_string(hide_password=False)


def recreate_postgres_database(name: str) -> str:
    """Drop and create the PostgreSQL database ``name``; return its URL."""
    _administer(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    return postgres_url(name)


def drop_postgres_database(name: str) -> None:
    """Drop the PostgreSQL database ``name`` even while connections remain."""
    _administer(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _administer(*statements: str) -> None:
    """Run server-level statements outside any transaction."""
    server = sa.create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))
    server.dispose()


@contextmanager
def fresh_database(engine: str, name: str) -> Iterator[str]:
    """Yield the URL of an empty database of ``engine``, removed when the block ends."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.db'}"
        return
    url = recreate_postgres_database(name)
    try:
        yield url
    finally:
        drop_postgres_database(name)


def bench_app(database_url: str, **config: object) -> Flask:
    """Return the checkin app on ``database_url`` with a fixed secret and no CSRF in tests."""
    return create_app(
        {"DATABASE_URL": database_url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False} | config
    )
