"""`lobby-kiosk screenshot` and `lobby-kiosk run` as a resident's screen would get them: real
processes, headless."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def test_screenshot_renders_home_and_technician_and_refuses_bad_arguments(run_cli, tmp_path):
    out = tmp_path / "tech.png"
    r = run_cli("kiosk", "screenshot", "--screen", "technician", "--out", str(out), "--large-text",
                "--lang", "en", "--size", "540x960")
    assert r.returncode == 0, r.stderr[-600:]
    assert png_size(out) == (540, 960)
    bad = run_cli("kiosk", "screenshot", "--screen", "home", "--out", str(tmp_path / "x.png"), "--size", "10x10")
    assert bad.returncode == 1 and "--size must be WIDTHxHEIGHT" in bad.stderr
    nowhere = run_cli("kiosk", "screenshot", "--screen", "home", "--out", str(tmp_path / "no" / "x.png"))
    assert nowhere.returncode == 1 and "folder does not exist" in nowhere.stderr


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)],
                         ids=["sigterm-0", "ctrl-c-130"])
def test_run_starts_sends_ready_and_stops_cleanly_on_a_signal(tmp_path, signum, status):
    """systemd's stop (SIGTERM) exits 0; Ctrl-C (SIGINT) exits 130 by the shell's convention;
    both stop the subsystems and tell systemd STOPPING=1."""
    conf = tmp_path / "kiosk.toml"
    conf.write_text(f'[site]\nstate_dir = "{tmp_path / "state"}"\n[broker]\nport = 1\n'
                    '[ui]\nfullscreen = false\nsize = "540x960"\ndiagonal_in = 10.75\n')
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(60)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify")}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "--config", str(conf), "run"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert sock.recv(64) == b"READY=1"  # home is up even with no broker and no voice model
        proc.send_signal(signum)
        start = time.monotonic()
        assert proc.wait(30) == status
        assert time.monotonic() - start < 30
        messages = []
        sock.settimeout(0.5)
        try:
            while True:
                messages.append(sock.recv(64))
        except TimeoutError:
            pass
        assert b"STOPPING=1" in messages
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
