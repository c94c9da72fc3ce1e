"""The wheel an office installs: whole, and serving in Indonesian outside the checkout.

The wheel is built from a copy of what git holds (so no catalogue compiled by `make run` can
slip in), installed into a fresh venv in a folder outside the checkout, and run there as README
"New office" says, with the repository's deploy/gunicorn.conf.py.
"""

from __future__ import annotations

import http.cookiejar
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PRIVATE, mode_of
from tests.serving import PROJECT_ROOT, serve

SITE = ("MLG", "Kantor Cabang Malang")
DOOR = ("satpam1", "pintu-malang-1")
# Built, installed and served: about 40 s on 2 cores, most of it pip installing the dependencies.
pytestmark = pytest.mark.slow


def source_files() -> list[str]:
    """Return the checkout's files git holds or would add: no .venv, no compiled catalogue."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [name for name in listed.split("\0") if name and (PROJECT_ROOT / name).is_file()]


def build_wheel(source: Path, dist: Path) -> Path:
    """Build the wheel of ``source`` as `pip wheel` does for an office; return its path."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, source],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("checkin-*.whl")
    return wheel


def expected_in_wheel(files: list[str]) -> set[str]:
    """Return what the wheel must hold, from the source's files.

    Every module of every subpackage (migrations and their versions too), the migrations'
    templates, a compiled catalogue for each translation, and templates/ and static/ inside
    the package.
    """
    expected = set()
    for name in files:
        path = Path(name)
        if path.parts[0] == "checkin" and path.suffix == ".py":
            expected.add(name)
        elif path.parts[0] in ("templates", "static"):
            expected.add(f"checkin/{name}")
        elif path.name == "messages.po":
            expected.add(str(path.with_suffix(".mo")))
    return expected | {"checkin/migrations/alembic.ini", "checkin/migrations/script.py.mako"}


def run(office: Path, environment: dict[str, str], *command: str) -> str:
    """Run a program of the office's venv in the office's folder; return what it printed."""
    finished = subprocess.run(
        [str(office / ".venv" / "bin" / command[0]), *command[1:]],
        cwd=office,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    return finished.stdout


def fetch(opener: urllib.request.OpenerDirector, url: str, form: dict | None = None):
    """Return the status, content type and body of a GET (or a POST of ``form``)."""
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    with opener.open(url, data=data, timeout=30) as response:
        return response.status, response.headers.get_content_type(), response.read()


def test_the_wheel_installs_outside_the_checkout_and_serves_in_indonesian(tmp_path):
    files = source_files()
    source = tmp_path / "source"
    for name in files:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes((PROJECT_ROOT / name).read_bytes())
    assert not list(source.rglob("*.mo"))  # the build has to compile them

    wheel = build_wheel(source, tmp_path / "dist")
    held = set(zipfile.ZipFile(wheel).namelist())
    assert sorted(expected_in_wheel(files) - held) == []

    office = tmp_path / "office"
    office.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", office / ".venv"], check=True)
    python = office / ".venv" / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet"]
    subprocess.run([*pip, wheel], check=True, capture_output=True)

    environment = {
        "PATH": f"{office / '.venv' / 'bin'}:/usr/bin:/bin",
        "HOME": str(office),
        "LANG": "C.UTF-8",
        "CHECKIN_SECRET_KEY": "an office's own secret key",
        "CHECKIN_DATABASE_URL": f"sqlite:///{office / 'checkin.db'}",
    }
    imported = run(office, environment, "python", "-c", "import checkin; print(checkin.__file__)")
    assert imported.startswith(str(office / ".venv")), imported  # the wheel, not the checkout
    assert "Database ready" in run(office, environment, "flask", "--app", "checkin", "init-db")
    # The instance folder is where the office runs it, not inside the venv, and private.
    assert (mode_of(office / "instance"), mode_of(office / "checkin.db")) == (0o700, PRIVATE)
    code, name = SITE
    run(office, environment, "flask", "--app", "checkin", "site", "add", code, "--name", name)
    username, password = DOOR
    run(
        office,
        *(environment, "flask", "--app", "checkin", "user", "add", username),
        *("--role", "door", "--site", code, "--password", password),
    )

    gunicorn = [str(office / ".venv" / "bin" / "gunicorn")]
    settings = [
        "--config",
        str(PROJECT_ROOT / "deploy" / "gunicorn.conf.py"),
        "checkin:create_app()",
    ]
    with serve(gunicorn, settings, environment, office) as server:
        address = f"http://127.0.0.1:{server.port}"
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        status, _, login = fetch(opener, f"{address}/login")
        assert status == 200
        assert "Kata sandi" in login.decode() and "Nama pengguna" in login.decode()
        assert "Password" in fetch(opener, f"{address}/login?lang=en")[2].decode()  # the control

        status, kind, body = fetch(opener, f"{address}/static/door.js")
        assert (status, "javascript" in kind) == (200, True)
        assert body == (PROJECT_ROOT / "static" / "door.js").read_bytes()
        clip = "static/voice/id/silakan-ke-monitor.ogg"
        status, kind, body = fetch(opener, f"{address}/{clip}")
        assert (status, kind, body) == (200, "audio/ogg", (PROJECT_ROOT / clip).read_bytes())

        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login.decode())[1]
        form = {"csrf_token": token, "username": username, "password": password}
        status, _, door = fetch(opener, f"{address}/login", form)
        assert status == 200 and name in door.decode() and 'id="counter"' in door.decode()
