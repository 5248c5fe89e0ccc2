"""scripts/bootstrap.sh as a non-root user with a package missing: stops with the exact apt-get line.

The script is copied unchanged into a folder an unprivileged user can read and
run there as `nobody` (setpriv), or as the current user when that is not root.
`LOBBY_EXTRA_APT_PACKAGES` adds a package that surely is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ABSENT = "lobby-kiosk-test-absent-package"
LINE = re.compile(r"^\s*apt-get update && apt-get install -y (?P<pkgs>[a-z0-9+. -]+)$")


@pytest.fixture
def script() -> Iterator[Path]:
    """A copy of bootstrap.sh in a world-readable folder (pytest's tmp_path is private to root)."""
    top = Path(tempfile.mkdtemp(prefix="lobby-bootstrap-"))
    try:
        (top / "scripts").mkdir()
        shutil.copy2(REPO / "scripts" / "bootstrap.sh", top / "scripts" / "bootstrap.sh")
        shutil.copy2(REPO / "Makefile", top / "Makefile")
        for path in (top, top / "scripts", top / "scripts" / "bootstrap.sh", top / "Makefile"):
            path.chmod(0o755)
        yield top / "scripts" / "bootstrap.sh"
    finally:
        shutil.rmtree(top)


def run_unprivileged(script: Path, extra: str, *command: str) -> subprocess.CompletedProcess[str]:
    """Run `bash script` (or `command` in the copy's top folder) as nobody, or as this non-root user."""
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LOBBY_EXTRA_APT_PACKAGES": extra}
    return subprocess.run([*prefix, *(command or ("bash", str(script)))], capture_output=True, text=True,
                          timeout=60, env=env, cwd=script.parent.parent)


def installed(pkg: str) -> bool:
    result = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg], capture_output=True, text=True)
    return "install ok installed" in result.stdout


def test_non_root_with_a_package_missing_prints_the_apt_get_line(script):
    result = run_unprivileged(script, ABSENT)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "lobby-kiosk: missing Debian packages. As root, run:"
    match = LINE.match(lines[1])
    assert match, lines
    pkgs = match["pkgs"].split()
    assert pkgs[-1] == ABSENT
    # Exactly what is missing: nothing installed is listed again.
    assert [p for p in pkgs if installed(p)] == []
    assert result.stdout == ""
    assert not (script.parent.parent / ".venv").exists()  # stopped before touching anything


def test_a_bad_package_name_is_refused_in_one_line(script):
    result = run_unprivileged(script, "mosquitto;reboot")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "lobby-kiosk: LOBBY_EXTRA_APT_PACKAGES: not a Debian package name: mosquitto;reboot"
    ]


@pytest.mark.parametrize("target", ["test", "demo"])
def test_the_readme_commands_stop_the_same_way(script, target):
    """`make test` / `make demo` run the bootstrap first and stop there, before pytest or the app."""
    if not shutil.which("make"):
        pytest.fail("make is not installed (the README's commands need it)")
    result = run_unprivileged(script, ABSENT, "make", "--no-print-directory", target)
    assert result.returncode != 0
    assert any(LINE.match(line) and line.endswith(f" {ABSENT}") for line in result.stderr.splitlines()), result.stderr
    assert "pytest" not in result.stdout and "kiosk demo" not in result.stdout
