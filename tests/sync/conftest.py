"""Fixtures of the sync tests: settings with fast timings, an outbox on a real file, a real central."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sync.outbox import Outbox
from sync.settings import CentralSettings, SyncSettings
from tests.conftest import REPO

FAST = {"connect_timeout_s": 1.0, "read_timeout_s": 2.0, "backoff_base_s": 0.02, "backoff_cap_s": 0.2,
        "poll_interval_s": 0.02, "pull_interval_s": 0.2, "heartbeat_interval_s": 0.5}


def make_settings(state_dir: Path, url: str = "http://127.0.0.1:9", token_file: str | None = None,
                  **central: Any) -> SyncSettings:
    """SyncSettings for a test: its own state directory and small backoff caps."""
    return SyncSettings(building_id="b1", kiosk_id="k1", state_dir=str(state_dir),
                        central=CentralSettings(url=url, token_file=token_file, **{**FAST, **central}))


def body(**over: Any) -> dict[str, Any]:
    """A valid request body as the kiosk builds it."""
    base = {"channel": "touch", "category": "repair", "urgency": "normal", "summary": "厨房的灯坏了",
            "transcript": None, "location": "厨房", "contact": {"room": "3-2-301", "phone": "13800000000"},
            "tags": ["light"]}
    return {**base, **over}


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox.open(make_settings(tmp_path / "state"))
    yield box
    box.close()


@dataclass
class Central:
    """A reference central server running as its own process (`lobby-sync central --port 0`)."""

    proc: subprocess.Popen
    url: str
    token_file: Path
    staff_token: str
    db: Path

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One HTTP call with the staff token by default; returns (status, parsed JSON or text)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.staff_token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def faults(self, **values: Any) -> None:
        status, answer = self.call("POST", "/staff/v1/faults", values)
        assert status == 200, answer

    def stats(self) -> dict[str, int]:
        status, answer = self.call("GET", "/staff/v1/stats")
        assert status == 200, answer
        return answer

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_central(tmp_path: Path, *args: str, port: int = 0) -> Central:
    """Start `lobby-sync central` (on a free port by default) and wait for its `listening on` line."""
    token_file = tmp_path / "kiosk.token"
    staff_file = tmp_path / "staff.token"
    token_file.write_text("kiosk-secret\n")
    staff_file.write_text("staff-secret\n")
    db = tmp_path / "central.sqlite3"
    proc = subprocess.Popen(
        [sys.executable, "-m", "sync", "central", "--port", str(port), "--db", str(db), "--token-file",
         str(token_file), "--staff-token-file", str(staff_file), *args],
        stdout=subprocess.PIPE, stderr=(tmp_path / "central.log").open("a"), text=True, cwd=REPO,
        env=os.environ.copy())
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "listening on" not in line:
        proc.kill()
        raise AssertionError(f"central did not start: {line!r}")
    return Central(proc, line.split("listening on", 1)[1].strip(), token_file, "staff-secret", db)


@pytest.fixture
def central(tmp_path: Path) -> Iterator[Central]:
    c = start_central(tmp_path)
    yield c
    c.stop()


def with_central(settings: SyncSettings, **central: Any) -> SyncSettings:
    return dataclasses.replace(settings, central=dataclasses.replace(settings.central, **central))


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.02, what: str = "condition") -> None:
    """Poll until `predicate()` is truthy; fail the test after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def agent_for():
    """Start real agents (each its own `sync-agent` thread) and stop them at the end of the test."""
    from sync.agent import Agent

    started: list[Agent] = []

    def _start(settings: SyncSettings, **kw: Any) -> Agent:
        agent = Agent(settings, **kw)
        agent.start()
        started.append(agent)
        return agent

    yield _start
    for agent in started:
        agent.stop()
