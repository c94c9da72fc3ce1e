"""The OpenAPI document states every limit the API checks: schemathesis, with every check it has,
finds nothing against a live server, for a door tablet's token and for a manager's."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from checkin.domain import limits
from checkin.web.schemas import OFFICE_DAY
from tests.serving import PROJECT_ROOT, gunicorn

SCHEMATHESIS = Path(sys.executable).with_name("st")
# Bounded: this many generated examples per operation and phase (under a minute a token).
EXAMPLES_PER_OPERATION = 20


@pytest.mark.parametrize(
    ("day", "stated"),
    [
        (date(1999, 12, 31), False),
        (limits.FIRST_OFFICE_DAY, True),
        (date(2026, 2, 28), True),
        (limits.LAST_OFFICE_DAY, True),
        (date(2100, 1, 1), False),
    ],
)
def test_the_documented_day_pattern_is_the_range_the_server_takes(day, stated):
    assert (re.fullmatch(OFFICE_DAY["pattern"], day.isoformat()) is not None) is stated
    assert (limits.FIRST_OFFICE_DAY <= day <= limits.LAST_OFFICE_DAY) is stated


@pytest.mark.slow
@pytest.mark.parametrize("role", ["door", "manager"])
def test_schemathesis_finds_nothing_against_the_document(
    database_url, make_user, auth_headers, role
):
    authorization = auth_headers(make_user(role=role))["Authorization"]
    env = {"CHECKIN_DATABASE_URL": database_url, "CHECKIN_SECRET_KEY": "schemathesis"}
    with gunicorn("checkin:create_app()", env, workers=2) as server:
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                f"http://127.0.0.1:{server.port}/api/v1/openapi.json",
                "--checks",
                "all",
                # Replaced by the hooks' version, which excuses only the rules listed there.
                "--exclude-checks",
                "positive_data_acceptance",
                "--max-examples",
                str(EXAMPLES_PER_OPERATION),
                "--seed",
                "18",
                "--workers",
                "2",
                "--header",
                f"Authorization: {authorization}",
            ],
            cwd=PROJECT_ROOT,
            env=os.environ | {"SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
