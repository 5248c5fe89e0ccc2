"""`lobby-sync` as a user runs it: real processes, real files, real HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from sync.outbox import Outbox
from sync.settings import load
from tests.conftest import REPO
from tests.sync.conftest import body, wait_until


def write_config(tmp_path: Path, url: str = "http://127.0.0.1:9", token_file: Path | None = None) -> Path:
    token = f'token_file = "{token_file}"\n' if token_file else ""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f"""[site]
building_id = "b1"
kiosk_id = "k1"
state_dir = "{tmp_path / 'state'}"

[central]
url = "{url}"
{token}backoff_base_s = 0.02
backoff_cap_s = 0.2
poll_interval_s = 0.05
pull_interval_s = 0.2
heartbeat_interval_s = 1
""")
    return cfg


@pytest.mark.parametrize("command", ["enqueue", "run", "status", "central"])
def test_every_command_has_help(run_cli, command):
    result = run_cli("sync", command, "--help")
    assert result.returncode == 0 and "--config" in result.stdout and "--state-dir" in result.stdout


@pytest.mark.parametrize("args, reason", [
    ([], "required: COMMAND"),
    (["status", "--kiosk-id", "Kiosk 1"], "--kiosk-id must match"),
    (["status", "--central", "ftp://x"], "--central must start with http"),
    (["status", "--token-file", "/nonexistent/token"], "--token-file: file not found"),
    (["status", "--config", "/nonexistent/kiosk.toml"], "file not found"),
    (["central", "--db", "x.db", "--staff-token-file", "s", "--token-file", "/etc/hostname", "--cert", "c"],
     "--cert and --key go together"),
])
def test_wrong_arguments_exit_2_with_one_line(run_cli, tmp_path, args, reason):
    result = run_cli("sync", *args)
    assert result.returncode == 2 and reason in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("lobby-sync") or "usage" in result.stderr


def test_enqueue_prints_uuid_and_local_ticket_once_durable(run_cli, tmp_path):
    cfg = write_config(tmp_path)
    result = run_cli("sync", "enqueue", "--config", str(cfg), input=json.dumps(body()))
    assert result.returncode == 0, result.stderr
    rid, ticket = result.stdout.split()
    assert ticket == "K-0001"
    box = Outbox.open(load(cfg))
    assert box.request(rid).summary == "厨房的灯坏了"
    box.close()
    result = run_cli("sync", "enqueue", "--config", str(cfg), "--json", input=json.dumps(body()))
    assert json.loads(result.stdout)["local_ticket"] == "K-0002"


def test_enqueue_overrides_and_bad_input(run_cli, tmp_path):
    cfg = write_config(tmp_path)
    other = tmp_path / "other-state"
    result = run_cli("sync", "enqueue", "--config", str(cfg), "--state-dir", str(other), "--kiosk-id", "k9",
                     input=json.dumps(body()))
    assert result.returncode == 0 and (other / "outbox.sqlite3").exists()
    assert not (tmp_path / "state" / "outbox.sqlite3").exists()
    result = run_cli("sync", "enqueue", "--config", str(cfg), input="{not json")
    assert result.returncode == 2 and "stdin is not valid JSON" in result.stderr
    result = run_cli("sync", "enqueue", "--config", str(cfg), input=json.dumps(body(urgency="asap")))
    assert result.returncode == 1 and "invalid request: urgency" in result.stderr
    assert not (tmp_path / "state" / "outbox.sqlite3").exists() or Outbox.open(load(cfg)).health().rows == 0


def test_status_human_and_json(run_cli, tmp_path):
    cfg = write_config(tmp_path)
    for _ in range(2):
        run_cli("sync", "enqueue", "--config", str(cfg), input=json.dumps(body()))
    result = run_cli("sync", "status", "--config", str(cfg), "--json")
    health = json.loads(result.stdout)
    assert result.returncode == 0 and health["depth"] == 2 and health["last_success"] is None
    assert set(health) >= {"depth", "oldest_pending_s", "last_success", "last_error", "cursor", "alarm",
                           "rejected", "capacity_warning"}
    result = run_cli("sync", "status", "--config", str(cfg))
    assert "queue depth:" in result.stdout and "last success:     never" in result.stdout


def test_run_delivers_and_stops_on_sigterm(run_cli, tmp_path, central):
    cfg = write_config(tmp_path, central.url, central.token_file)
    rid = run_cli("sync", "enqueue", "--config", str(cfg), input=json.dumps(body())).stdout.split()[0]
    proc = subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", str(cfg)], cwd=REPO,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        line = proc.stderr.readline()
        assert "sync agent started: kiosk k1" in line
        box = Outbox.open(load(cfg))
        wait_until(lambda: box.request(rid).delivery == "delivered", what="delivery")
        result = run_cli("sync", "status", "--config", str(cfg), "--json")
        assert json.loads(result.stdout)["depth"] == 0
        box.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert "sync agent stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_refuses_a_second_agent(run_cli, tmp_path, central):
    cfg = write_config(tmp_path, central.url, central.token_file)
    proc = subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", str(cfg)], cwd=REPO,
                            stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        assert "sync agent started" in proc.stderr.readline()
        result = run_cli("sync", "run", "--config", str(cfg))
        assert result.returncode == 1 and "another sync agent runs" in result.stderr
    finally:
        proc.kill()
        proc.wait()


def test_unusable_state_dir_is_one_line_exit_1(run_cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    for command in ("run", "status"):
        result = run_cli("sync", command, "--state-dir", str(blocker / "state"), "--central", "http://127.0.0.1:9")
        assert result.returncode == 1 and result.stderr.strip().startswith("lobby-sync: ")
        assert "Traceback" not in result.stderr
