"""Instructions per check-in, counted by valgrind's callgrind: a figure that load cannot move.

Wall-clock runs on a shared two-core machine swing by several points from one run to the next;
the number of instructions one passing POST executes does not. The endpoint runs in process
(Flask test client, SQLite) ``SHORT`` and ``LONG`` times after a warm-up, each under callgrind
with a fixed hash seed, and the difference divided by ``LONG - SHORT`` is one check-in's cost,
start-up and warm-up cancelled out. Run it on two commits to compare a change to the check-in
path: ``python bench/run.py --only instructions`` in each checkout.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.databases import bench_app
from bench.throughput import prepare_app_database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHORT, LONG = 50, 250
WARM_UP = 20
BODY = {"temperature_c": 36.6, "hand_sanitiser": True, "mask": True, "distancing": True}


def post_check_ins(count: int) -> None:
    """Prepare a database, warm the endpoint up, then post ``count`` passing check-ins."""
    with tempfile.TemporaryDirectory(prefix="checkin-instructions-") as directory:
        url = f"sqlite:///{Path(directory) / 'bench.db'}"
        token = prepare_app_database(url)
        client = bench_app(url).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        for number in range(WARM_UP + count):
            response = client.post("/api/v1/checkins", json=BODY, headers=headers)
            if number < WARM_UP and response.status_code != 201:
                raise RuntimeError(f"the warm-up post failed: {response.status_code}")


def instructions(count: int) -> int:
    """Return the instructions callgrind counts for a whole run of ``count`` check-ins."""
    with tempfile.TemporaryDirectory(prefix="checkin-callgrind-") as directory:
        completed = subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                f"--callgrind-out-file={Path(directory) / 'callgrind.out'}",
                sys.executable,
                "-m",
                "bench.instructions",
                str(count),
            ],
            cwd=PROJECT_ROOT,
            env=os.environ | {"PYTHONHASHSEED": "0"},
            capture_output=True,
            text=True,
        )
    found = re.search(r"Collected : (\d+)", completed.stderr)
    if completed.returncode != 0 or found is None:
        raise RuntimeError(f"callgrind failed:\n{completed.stderr[-2000:]}")
    return int(found.group(1))


def run() -> str:
    """Return the instructions per check-in as a Markdown table row, or why none was counted."""
    if shutil.which("valgrind") is None:
        return "valgrind is not installed (Debian package valgrind): nothing counted."
    # Side by side: a count of instructions does not depend on what else the machine runs, and
    # each run spends most of its time starting Python and the app under callgrind.
    with ThreadPoolExecutor(max_workers=2) as pool:
        short, long = pool.map(instructions, (SHORT, LONG))
    per_check_in = (long - short) / (LONG - SHORT)
    return (
        "| posts | instructions | per check-in |\n|---|---|---|\n"
        f"| {SHORT} | {short:,} | |\n| {LONG} | {long:,} | {per_check_in:,.0f} |"
    )


if __name__ == "__main__":
    post_check_ins(int(sys.argv[1]))
