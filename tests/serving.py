"""Run a real server on 127.0.0.1, send it many requests at once, and kill it on purpose."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event

from checkin import create_app
from checkin.extensions import db
from checkin.models import accounts as account_models
from checkin.models import utcnow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0
# No connection, or the connection died before an answer: the server was killed mid-request.
NO_ANSWER = 0
TEST_NOW_HEADER = "X-Test-Now"
# Seconds a served test app sleeps after each day-counter UPDATE (see widen_races).
CLAIM_DELAY_VARIABLE = "CHECKIN_TEST_CLAIM_DELAY"
# A folder where a served test app's worker keeps a file named by its pid while it sleeps in
# the claim delay (widen_races): a test kills a worker that is inside a transaction.
CLAIMING_FOLDER_VARIABLE = "CHECKIN_TEST_CLAIMING_FOLDER"
# Seconds a served test app sleeps after each UPDATE of a visit's floor state (floor_race_app).
CALL_DELAY_VARIABLE = "CHECKIN_TEST_CALL_DELAY"
# Where a served test app writes a line for each password it checks (password_counting_app).
PASSWORD_LOG_VARIABLE = "CHECKIN_TEST_PASSWORD_LOG"


def header_clock() -> datetime:
    """Return the instant a test put in the X-Test-Now header, else the real time."""
    if has_request_context() and TEST_NOW_HEADER in request.headers:
        return datetime.fromisoformat(request.headers[TEST_NOW_HEADER])
    return utcnow()


def sleep_after(
    app: Flask, statement_start: str, delay: float, sleeping_in: Path | None = None
) -> Flask:
    """Make ``app`` sleep ``delay`` seconds after each statement that starts so (none if 0),
    keeping a file named by the worker's pid in ``sleeping_in`` while it sleeps."""
    if delay:
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "after_cursor_execute")
        def sleep_after_statement(_connection, _cursor, statement, *_args) -> None:
            if not statement.startswith(statement_start):
                return
            if sleeping_in is None:
                time.sleep(delay)
                return
            marker = sleeping_in / str(os.getpid())
            marker.touch()
            try:
                time.sleep(delay)
            finally:
                marker.unlink()

    return app


def widen_races(app: Flask) -> Flask:
    """Make ``app`` sleep after each day-counter UPDATE when CHECKIN_TEST_CLAIM_DELAY is set.

    The sleep falls between claiming a slot and storing the visit, inside the transaction: it
    widens the window in which a weaker design would over-admit, and makes a kill -9 land
    mid-transaction (CHECKIN_TEST_CLAIMING_FOLDER says which workers are in it). The
    production code has no such hook; tests add it from outside.
    """
    folder = os.environ.get(CLAIMING_FOLDER_VARIABLE)
    return sleep_after(
        app,
        "UPDATE day_quota",
        float(os.environ.get(CLAIM_DELAY_VARIABLE, "0")),
        Path(folder) if folder else None,
    )


def floor_race_app() -> Flask:
    """Build the app sleeping after each UPDATE of a visit's floor state (CHECKIN_TEST_CALL_DELAY).

    The sleep falls inside the transaction that claims (or moves) a visitor, holding its row:
    officers pressing at the same moment meet the claim and must lose the race cleanly.
    """
    delay = float(os.environ.get(CALL_DELAY_VARIABLE, "0"))
    return sleep_after(create_app(), "UPDATE visit SET floor_state", delay)


def password_counting_app() -> Flask:
    """Build the app so that every password check appends a line to CHECKIN_TEST_PASSWORD_LOG.

    Each worker process appends to the same file (O_APPEND keeps lines whole), so a test can
    count how many passwords the whole server checked, wrong ones and the decoy hash included.
    """
    log = Path(os.environ[PASSWORD_LOG_VARIABLE])
    checked = account_models.check_password_hash

    def check_and_count(password_hash: str, password: str) -> bool:
        matches = checked(password_hash, password)
        with log.open("a") as lines:
            lines.write(f"{'right' if matches else 'wrong'}\n")
        return matches

    account_models.check_password_hash = check_and_count
    return create_app()


def slowed_app() -> Flask:
    """Build the app with the race window of :func:`widen_races`."""
    return widen_races(create_app())


def header_clock_app() -> Flask:
    """Build the app with a clock each request sets through a header, to simulate many days.

    It lives under tests/ on purpose: no production entry point can load it by accident.
    """
    return widen_races(create_app({"CLOCK": header_clock}))


@contextmanager
def gunicorn(
    app_spec: str, env: dict[str, str], workers: int = 4, options: Sequence[str] = ()
) -> Iterator[Server]:
    """Serve ``app_spec`` with gunicorn sync workers on 127.0.0.1 until the block ends."""
    arguments = [
        "--workers",
        str(workers),
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        *options,
        app_spec,
    ]
    program = [sys.executable, "-m", "gunicorn"]
    with serve(program, arguments, os.environ | env, PROJECT_ROOT) as server:
        yield server


@contextmanager
def serve(
    program: Sequence[str], arguments: Sequence[str], env: dict[str, str], cwd: Path
) -> Iterator[Server]:
    """Run gunicorn (``program``) on a port of 127.0.0.1 bound here, until the block ends.

    The port is bound here and handed over, rather than found free and bound later: tests run
    in parallel processes (pytest-xdist), and another could take the port in between.
    """
    listener = socket.create_server(("127.0.0.1", 0))
    listener.set_inheritable(True)
    port = listener.getsockname()[1]
    # A file, not a pipe: a full pipe would block a server that logs every request.
    with tempfile.NamedTemporaryFile(prefix="gunicorn-", suffix=".log") as log:
        process = subprocess.Popen(
            [
                *program,
                "--bind",
                f"fd://{listener.fileno()}",
                # The default control socket is one path per user: parallel servers would share it.
                "--no-control-socket",
                *arguments,
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=(listener.fileno(),),
        )
        # Only the server holds the port now: once it is killed, connecting is refused.
        listener.close()
        server = Server(port, process, Path(log.name))
        try:
            server.wait_ready()
            yield server
        finally:
            server.stop()


class Server:
    """A gunicorn master listening on 127.0.0.1:``port``, its workers and its log."""

    def __init__(self, port: int, process: subprocess.Popen, log_path: Path) -> None:
        self.port = port
        self.process = process
        self.log_path = log_path

    def log(self) -> str:
        """Return everything the server has logged so far."""
        return self.log_path.read_text(errors="replace")

    def wait_ready(self) -> None:
        """Wait until the server answers /healthz, or fail with its log."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log()}")
            if self.request("GET", "/healthz")[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError(f"server did not start in time: {self.log()}")

    def request(
        self, method: str, path: str, body: Any = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        """Send one request on a new connection; return the status (NO_ANSWER if cut) and JSON.

        A ``body`` given as text is sent as it is (say its Content-Type in ``headers``); any
        other is sent as JSON.
        """
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            payload = body if isinstance(body, str) or body is None else json.dumps(body)
            all_headers = {"Content-Type": "application/json"} | (headers or {})
            connection.request(method, path, payload, all_headers)
            response = connection.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            return NO_ANSWER, {"error": repr(exc)}
        finally:
            connection.close()
        try:
            return response.status, json.loads(raw) if raw else {}
        except ValueError:
            return response.status, {"raw": raw.decode(errors="replace")}

    def post_each(
        self, path: str, requests: Sequence[tuple[Any, dict]], threads: int
    ) -> list[tuple[int, dict]]:
        """Post every (body, headers) pair from ``threads`` threads at once, answers in order."""
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(lambda pair: self.request("POST", path, *pair), requests))

    def post_all(
        self, path: str, bodies: list[dict], headers: dict, threads: int
    ) -> list[tuple[int, dict]]:
        """Post every body with the same headers from ``threads`` threads at once."""
        return self.post_each(path, [(body, headers) for body in bodies], threads)

    def worker_pids(self) -> list[int]:
        """Return the process ids of the master's workers."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                # The command name is in parentheses and may hold spaces; the ppid follows it.
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def kill_worker(self, claiming_in: Path) -> int:
        """Kill with SIGKILL, as the OOM killer would, a worker that is inside a check-in's
        transaction (its pid's file is in ``claiming_in``, see widen_races); return its pid.

        A worker picked blindly may be between two requests when a loaded machine's clients
        are slow to send the next: nothing would be cut.
        """
        deadline = time.monotonic() + 30
        while True:
            claiming = [int(marker.name) for marker in claiming_in.iterdir()]
            if claiming:
                os.kill(claiming[0], signal.SIGKILL)
                return claiming[0]
            assert time.monotonic() < deadline, "no worker was inside a transaction"
            time.sleep(0.001)

    def kill_all(self) -> None:
        """Kill the master and every worker with SIGKILL at once, as a power cut would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """Stop the server and its workers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill_all()
