"""What `make run` writes and prints: a private secret key, and addresses a browser reaches."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import PRIVATE, mode_of
from tests.serving import PROJECT_ROOT


def make(folder: Path, *arguments: str) -> str:
    """Run a target of the project's Makefile in ``folder``; return what it printed."""
    return subprocess.run(
        [
            *("make", "--silent", "-C", str(folder), "-f", str(PROJECT_ROOT / "Makefile")),
            *(f"VENV={PROJECT_ROOT / '.venv'}", *arguments),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_make_run_writes_the_secret_key_private_from_the_start(tmp_path, usual_umask):
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    recipe = makefile.split("\ninstance/config.py:\n", 1)[1].split("\n\n", 1)[0]
    assert "chmod" not in recipe
    make(tmp_path, "instance/config.py")
    config = tmp_path / "instance" / "config.py"
    assert config.read_text().startswith("SECRET_KEY = '")
    assert (mode_of(config), mode_of(config.parent)) == (PRIVATE, 0o700)


def ipv4_network_addresses() -> list[str]:
    """Return this machine's IPv4 network addresses, as `hostname -I` lists them."""
    listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return [address for address in listed if ":" not in address]


@pytest.mark.parametrize(
    ("host", "local"),
    [("0.0.0.0", "127.0.0.1"), ("127.0.0.1", "127.0.0.1"), ("10.1.2.3", "10.1.2.3")],
)
def test_make_run_prints_addresses_a_browser_reaches(tmp_path, host, local):
    printed = make(tmp_path, "addresses", f"HOST={host}", "PORT=5077").splitlines()
    network = ipv4_network_addresses() if host == "0.0.0.0" else []
    assert printed == [
        f"checkin is at http://{local}:5077/  (Ctrl+C stops it)",
        *(f"From a tablet on this network: http://{address}:5077/" for address in network),
    ]
