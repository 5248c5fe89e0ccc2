"""Ctrl-C (SIGINT) or SIGTERM stops the demo and everything it started."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.demo_run import REPO, headless_env, processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_demo_and_all_it_started(tmp_path, sig):
    out = tmp_path / "demo-out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "demo", "--headless", "--out", str(out)],
        cwd=REPO, env=headless_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        for line in proc.stdout:  # the building is up once the staff page is announced
            lines.append(line)
            if "staff page" in line:
                break
        assert any("staff page" in line for line in lines), "".join(lines)
        running = processes_mentioning(str(out))
        assert len(running) >= 4, running  # broker, simulators, central, agent (and the demo)
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 if sig == signal.SIGINT else proc.returncode == 143
    deadline = time.monotonic() + 5
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(out)) == []


def test_with_a_display_the_kiosk_opens_in_a_window_until_ctrl_c(tmp_path):
    out = tmp_path / "demo-out"
    env = {**headless_env(), "DISPLAY": ":99", "SDL_VIDEODRIVER": "offscreen"}  # a "display" SDL can draw on
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "demo", "--out", str(out)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if "open in a window" in line:
                break
        assert any("open in a window" in line for line in lines), "".join(lines)
        time.sleep(2)  # the app is running
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not list(out.glob("*.png")) and not (out / "summary.json").exists()  # no tour in a window
    deadline = time.monotonic() + 5
    while processes_mentioning(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_mentioning(str(out)) == []


def test_an_unusable_out_folder_is_refused_in_one_line_before_anything_starts(tmp_path, run_cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = run_cli("kiosk", "demo", "--headless", "--out", str(blocker / "demo-out"), env=headless_env())
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"lobby-kiosk demo: cannot write to --out {blocker / 'demo-out'}: Not a directory"]
    assert "staff page" not in result.stdout
