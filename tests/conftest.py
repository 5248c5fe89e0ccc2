"""Shared fixtures: a headless environment for Kivy and a real mosquitto on loopback.

Subsystem fixtures live in tests/<subsystem>/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

# Kivy reads these at import time; set them before any test module imports it.
_KIVY_HOME = tempfile.mkdtemp(prefix="lobby-kivy-")
for _key, _value in {
    "KIVY_NO_ARGS": "1",
    "KIVY_NO_CONFIG": "1",
    "KIVY_NO_FILELOG": "1",
    "KIVY_LOG_MODE": "PYTHON",
    "KIVY_WINDOW": "sdl2",
    "KIVY_HOME": _KIVY_HOME,
    "XDG_CACHE_HOME": _KIVY_HOME,
    "SDL_VIDEODRIVER": "offscreen",
    "SDL_AUDIODRIVER": "dummy",
}.items():
    os.environ.setdefault(_key, _value)

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 5.0) -> None:
    """Block until something accepts connections on 127.0.0.1:port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@dataclass
class Broker:
    """A mosquitto process on a loopback port; `restart()` keeps the port."""

    host: str
    port: int
    conf: Path
    proc: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


def write_mosquitto_conf(path: Path, port: int, extra: str = "") -> Path:
    """A minimal broker config: loopback listener, anonymous, no persistence, Nagle off."""
    path.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n{extra}"
    )
    return path


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Broker]:
    """A fresh mosquitto broker for one test."""
    if not shutil.which("mosquitto"):
        pytest.fail("mosquitto is not installed (make test installs it)")
    port = free_port()
    broker = Broker("127.0.0.1", port, write_mosquitto_conf(tmp_path / "mosquitto.conf", port))
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def run_cli():
    """Run one of the project's console scripts as a subprocess of this venv's Python."""

    def _run(module: str, *args: str, input: str | None = None, timeout: float = 60, env: dict | None = None):
        return subprocess.run(
            [sys.executable, "-m", module, *args], input=input, capture_output=True, text=True,
            timeout=timeout, env={**os.environ, **(env or {})}, cwd=REPO,
        )

    return _run
