"""The files a branch's server runs (deploy/) pass their own tools' checks and agree with the
README: systemd-analyze verify for the units, nginx -t for the TLS proxy, who may read the
settings, which accounts a new office makes."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checkin.models import ROLES
from tests.serving import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
README = (PROJECT_ROOT / "README.md").read_text()
UNITS = (
    "checkin.service",
    "checkin-daily.service",
    "checkin-daily.timer",
    "checkin-release.service",
    "checkin-release.timer",
)


def tool(name: str, package: str) -> str:
    """Return the path of the program ``name``; skip without it, except in CI, which has it.

    .ci/run installs it from Debian's packages when it is missing.
    """
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing in CI: .ci/run installs {package}")
        pytest.skip(f"{name} is not installed here (apt-get install {package})")
    return path


def section(title: str) -> str:
    """Return the README's section under ``## title``, up to the next one."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_service_units_pass_systemd_analyze_verify(tmp_path):
    program = tool("systemd-analyze", "systemd")
    # The units name the paths of a branch's server; verify checks that the programs exist.
    programs = Path(sys.executable).parent
    settings = tmp_path / "checkin.env"
    settings.write_text("CHECKIN_SECRET_KEY=verify\n")
    for name in UNITS:
        text = (DEPLOY / name).read_text()
        text = text.replace("/srv/checkin/.venv/bin", str(programs))
        text = text.replace("/srv/checkin", str(PROJECT_ROOT))
        text = text.replace("/etc/checkin/checkin.env", str(settings))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        [program, "verify", *(str(tmp_path / name) for name in UNITS)],
        capture_output=True,
        text=True,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_tls_proxy_example_logs_paths_without_their_query():
    """A display link's secret and a search's terms are in the query: never in nginx's log."""
    example = (DEPLOY / "nginx-checkin.conf").read_text()
    formats = dict(re.findall(r"^log_format (\w+) '([^']*)';", example, flags=re.M))
    used = re.findall(r"^\s*access_log \S+ (\w+);", example, flags=re.M)
    assert len(used) == example.count("server {") and set(used) <= set(formats)
    for name in used:
        assert not re.search(
            r"\$(request|request_uri|args|query_string|arg_\w+|http_referer)\b", formats[name]
        )


def test_the_tls_proxy_example_passes_nginx_t(tmp_path):
    program = tool("nginx", "nginx")
    # A certificate of the example's name, where the office's would be.
    certificate, key = tmp_path / "fullchain.pem", tmp_path / "privkey.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=checkin.kantor.example", "-keyout", key, "-out", certificate),
        ],
        check=True,
        capture_output=True,
    )
    example = (DEPLOY / "nginx-checkin.conf").read_text()
    example = example.replace("/etc/ssl/checkin/fullchain.pem", str(certificate))
    example = example.replace("/etc/ssl/checkin/privkey.pem", str(key))
    example = example.replace("/var/log/nginx/access.log", str(tmp_path / "access.log"))
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-enabled" / "checkin").write_text(example)
    # Debian's nginx.conf includes sites-enabled/* inside http {}: the same, in a folder of ours.
    temporary = " ".join(
        f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi")
    )
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{ access_log off; {temporary} uwsgi_temp_path {tmp_path / 'uwsgi'}; "
        f"scgi_temp_path {tmp_path / 'scgi'}; include {tmp_path / 'sites-enabled'}/*; }}\n"
    )
    result = subprocess.run(
        [program, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr and "test is successful" in result.stderr


def test_the_settings_file_is_installed_as_its_header_says():
    header = (DEPLOY / "checkin.env.example").read_text().split("\n\n", 1)[0]
    installed = re.search(r"install -m (\d+) -g (\w+) \S*checkin\.env\.example", README)
    assert installed is not None
    mode, group = installed.groups()
    assert f"chmod {mode}" in header and f"group {group}" in header, header


def test_the_readme_names_every_role_and_a_new_office_makes_an_account_of_each():
    listed = re.search(r"user add NAME --role ([\w|]+)", section("Command line"))
    assert listed is not None
    assert sorted(listed[1].split("|")) == sorted(ROLES)
    new_office = section("New office")
    made = set(re.findall(r"user add \S+ --role (\w+)", new_office))
    assert made == set(ROLES)
    assert "/manage/displays" in new_office  # and the waiting-room display's link
