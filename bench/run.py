"""Run the benchmarks and print their figures as Markdown (also saved under bench/out/).

python bench/run.py --quick           # under 5 minutes: `make bench`
python bench/run.py --full            # adds the 18 M-row PostgreSQL reports, 10 s wrk runs
python bench/run.py --only throughput --seconds 10
python bench/run.py --smoke           # every part once with tiny sizes: CI's check that each runs
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Run as a script, Python puts bench/ on the path; the helpers import as packages from the root.
sys.path.insert(0, str(PROJECT_ROOT))

from bench import (  # noqa: E402
    breakdown,
    databases,
    display_poll,
    instructions,
    mixed_load,
    offline_upload,
    page_weight,
    report_scale,
    throughput,
)

OUT = PROJECT_ROOT / "bench" / "out"
QUICK_PARTS = (
    "throughput",
    "breakdown",
    "speed",
    "reports-sqlite",
    "pages",
    "offline-upload",
    "display-poll",
)
ALL_PARTS = (*QUICK_PARTS, "reports-postgres", "instructions", "mixed-load")
POSTGRES_BENCH_DATABASE = "checkin_bench"
SQLITE_YEARS_DAYS = 5 * 365 + 1
NATIONAL_SITES = 325


def machine() -> str:
    """Return the CPU model, core count and software versions of this machine."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in subprocess.run(
                ["lscpu"], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}"


def load_average() -> str:
    """Return the 1, 5 and 15 minute load averages."""
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def run_throughput(options: argparse.Namespace) -> str:
    """Measure app and floor under gunicorn with wrk."""
    measurements = throughput.run(options.seconds)
    return (
        f"wrk {options.seconds} s per run, 2 wrk threads, all posts passing "
        f"(quota {throughput.UNLIMITED_QUOTA:,}, so every post claims a slot)\n\n"
        + throughput.table(measurements)
    )


def run_breakdown(_options: argparse.Namespace) -> str:
    """Build a check-in up layer by layer in process, beside the floor and the bare SQL."""
    rounds, posts = breakdown.ROUNDS, breakdown.POSTS_PER_ROUND
    with tempfile.TemporaryDirectory(prefix="checkin-breakdown-") as directory:
        layers = breakdown.run(Path(directory), rounds, posts)
    return (
        f"Flask test client, SQLite, process CPU, median of {rounds} rounds of "
        f"{posts} posts per row, rows interleaved\n\n" + breakdown.table(layers)
    )


def run_instructions(_options: argparse.Namespace) -> str:
    """Count one check-in's instructions under callgrind."""
    return (
        "valgrind callgrind, Flask test client, SQLite, PYTHONHASHSEED=0 "
        f"({instructions.LONG} minus {instructions.SHORT} posts)\n\n" + instructions.run()
    )


def run_speed(options: argparse.Namespace) -> str:
    """Run the pytest-benchmark of one in-process check-in."""
    OUT.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench/test_checkin_speed.py",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--benchmark-min-rounds={options.speed_rounds}",
            "--benchmark-columns=min,median,mean,max,rounds",
            f"--benchmark-json={OUT / 'checkin_speed.json'}",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the speed benchmark failed:\n{completed.stdout}{completed.stderr}")
    table = [
        line
        for line in completed.stdout.splitlines()
        if "test_one_check_in" in line or line.startswith("Name (time")
    ]
    return "pytest-benchmark, Flask test client, SQLite (ms per check-in)\n\n" + "\n".join(
        f"    {line}" for line in table
    )


def run_reports(engine: str, sites: int, days: int, keep: bool) -> str:
    """Generate a dataset on ``engine`` and time the report queries on it."""
    load_before = os.getloadavg()[0]
    if engine == "sqlite":
        with databases.fresh_database("sqlite", "checkin_bench_reports") as url:
            dataset = report_scale.generate(databases.bench_app(url), sites, days)
            timings = report_scale.time_reports(url)
    else:
        url = databases.recreate_postgres_database(POSTGRES_BENCH_DATABASE)
        try:
            dataset = report_scale.generate(databases.bench_app(url), sites, days)
            timings = report_scale.time_reports(url)
        finally:
            if not keep:
                databases.drop_postgres_database(POSTGRES_BENCH_DATABASE)
    table = report_scale.table(dataset, timings, (load_before, os.getloadavg()[0]))
    plans = "\n\n".join(f"{timing.name}:\n\n{indent(timing.plan)}" for timing in timings)
    return f"{table}\n\nQuery plans ({engine}):\n\n{plans}"


def indent(text: str) -> str:
    """Indent ``text`` as a Markdown code block."""
    return "\n".join(f"    {line}" for line in text.splitlines())


def run_pages(_options: argparse.Namespace) -> str:
    """Weigh the door and report pages in headless Chromium."""
    weights = page_weight.run()
    shots = ", ".join(
        str(path.relative_to(PROJECT_ROOT)) for path in page_weight.screenshot_paths()
    )
    return f"{page_weight.table(weights)}\n\nScreenshots: {shots}"


PARTS: dict[str, Callable[[argparse.Namespace], str]] = {
    "throughput": run_throughput,
    "breakdown": run_breakdown,
    "instructions": run_instructions,
    "speed": run_speed,
    "reports-sqlite": lambda options: run_reports("sqlite", 1, options.sqlite_days, False),
    "reports-postgres": lambda options: run_reports(
        "postgresql", options.sites, options.postgres_days, options.keep_postgres
    ),
    "pages": run_pages,
    "offline-upload": lambda options: offline_upload.run(),
    "display-poll": lambda options: display_poll.run(),
    "mixed-load": lambda options: mixed_load.run(options.seconds),
}


# What --smoke shrinks: sizes each part reads from its module when it runs. The figures of such a
# run mean nothing; it shows that every part still runs and prints its table.
SMOKE_SIZES = {
    breakdown: {"ROUNDS": 1, "POSTS_PER_ROUND": 6},
    throughput: {"WORKER_COUNTS": (2,), "CONNECTIONS": (8,)},
    instructions: {"SHORT": 2, "LONG": 4},
    report_scale: {"VISITS_PER_DAY": 5, "RUNS": 1},
    offline_upload: {"CHECKS": 4, "ROUNDS": 1},
    display_poll: {
        "VISITORS": 6,
        "CALLED": 4,
        "ROUNDS": 1,
        "NOT_CHANGED_PER_ROUND": 10,
        "FULL_PER_ROUND": 10,
    },
    mixed_load: {"ROUNDS": 1},
}
SMOKE_OPTIONS = {"seconds": 1, "sites": 2, "sqlite_days": 3, "postgres_days": 3, "speed_rounds": 5}


def shrink_for_smoke(options: argparse.Namespace) -> None:
    """Give every part the tiny sizes of a smoke run."""
    for module, sizes in SMOKE_SIZES.items():
        for name, value in sizes.items():
            assert hasattr(module, name), f"{module.__name__} has no {name}"
            setattr(module, name, value)
    vars(options).update(SMOKE_OPTIONS)


def parse_args() -> argparse.Namespace:
    """Read the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--quick", action="store_true", help=f"run {', '.join(QUICK_PARTS)}")
    scope.add_argument("--full", action="store_true", help="run every part")
    scope.add_argument("--only", nargs="+", choices=ALL_PARTS, help="run these parts")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes (1 s wrk cells, a few posts): does each part run? (figures not saved)",
    )
    parser.add_argument("--seconds", type=int, help="wrk duration (quick 4, full 10)")
    parser.add_argument(
        "--sites", type=int, default=NATIONAL_SITES, help="sites in the PostgreSQL dataset"
    )
    parser.add_argument(
        "--keep-postgres",
        action="store_true",
        help=f"keep the {POSTGRES_BENCH_DATABASE} database for inspection",
    )
    options = parser.parse_args()
    options.parts = options.only or (ALL_PARTS if options.full else QUICK_PARTS)
    options.seconds = options.seconds or (10 if options.full else 4)
    options.sqlite_days, options.postgres_days = SQLITE_YEARS_DAYS, 365
    options.speed_rounds = 200
    if options.smoke:
        options.parts = options.only or ALL_PARTS
        shrink_for_smoke(options)
    return options


def main() -> None:
    """Run the chosen parts one after the other and print and save their figures."""
    options = parse_args()
    started = datetime.now(UTC)
    sections = [
        f"# Benchmark run {started:%Y-%m-%d %H:%M} UTC",
        f"Machine: {machine()}",
        f"Command: {' '.join(['python', *sys.argv])}",
    ]
    print("\n\n".join(sections), flush=True)
    for part in options.parts:
        began = time.perf_counter()
        section = (
            f"## {part}\n\nLoad before (1/5/15 min): {load_average()}\n\n"
            + PARTS[part](options)
            + f"\n\nLoad after: {load_average()}; took {time.perf_counter() - began:.0f} s"
        )
        print(f"\n{section}", flush=True)
        sections.append(section)
    if options.smoke:
        return
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"results-{started:%Y%m%dT%H%M}.md"
    path.write_text("\n\n".join(sections) + "\n")
    print(f"\nSaved to {path.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
