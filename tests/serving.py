"""Run a real server on 127.0.0.1 and send it many requests at once from several threads."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 60.0


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], workers: int = 4) -> Iterator[Server]:
    """Serve ``app_spec`` with gunicorn sync workers on 127.0.0.1 until the block ends."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            app_spec,
        ],
        cwd=PROJECT_ROOT,
        env=os.environ | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    server = Server(port, process)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class Server:
    """A server process listening on 127.0.0.1:``port``."""

    def __init__(self, port: int, process: subprocess.Popen) -> None:
        self.port = port
        self.process = process

    def wait_ready(self) -> None:
        """Wait until the server answers /healthz, or fail with its error output."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()}")
            try:
                status, _body = self.request("GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not start in time")

    def request(
        self, method: str, path: str, body: dict | None = None, headers: dict | None = None
    ) -> tuple[int, dict]:
        """Send one request on a new connection and return the status and JSON body."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            payload = json.dumps(body) if body is not None else None
            all_headers = {"Content-Type": "application/json"} | (headers or {})
            connection.request(method, path, payload, all_headers)
            response = connection.getresponse()
            raw = response.read()
            try:
                return response.status, json.loads(raw) if raw else {}
            except ValueError:
                return response.status, {"raw": raw.decode(errors="replace")}
        finally:
            connection.close()

    def post_all(
        self, path: str, bodies: list[dict], headers: dict, threads: int
    ) -> list[tuple[int, dict]]:
        """Post every body from ``threads`` threads at once, each on its own connections."""
        with ThreadPoolExecutor(max_workers=threads) as pool:
            return list(pool.map(lambda body: self.request("POST", path, body, headers), bodies))

    def stop(self) -> None:
        """Stop the server and its workers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stderr.close()
