"""The agency's load model runs: a few branches' screens and doors for a few seconds (CI)."""

from __future__ import annotations

import pytest

from bench import agency
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="the agency runs on PostgreSQL"),
]


def test_the_agency_s_smoke_run_answers_every_kind_of_request_without_an_error() -> None:
    table = agency.run(smoke=True)

    header, _rule, row = table.splitlines()
    names, values = (
        [cell.strip() for cell in line.strip(" |").split("|")] for line in (header, row)
    )
    cells = dict(zip(names, values, strict=True))
    assert int(cells["branches"]) == agency.SMOKE_BRANCHES
    assert float(cells["workers' CPU (cores of 2)"]) > 0
    assert int(cells["errors"]) == 0
    polled = ("quota poll", "display poll", "console poll")
    assert all(cells[f"{kind} p50/p99 ms"] != "-" for kind in polled), cells
