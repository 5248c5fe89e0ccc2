"""kiosk.building: the parts of SimulatedBuilding that need no other subsystem."""

from __future__ import annotations

import os
import time
import tomllib
import wave

from kiosk import config
from kiosk.building import ManagedProcess, render_config, synthesize_speech


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    return state != "Z"


def test_stopping_a_process_also_stops_what_it_started(tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    proc = ManagedProcess("sh", ["sh", "-c", f"sleep 300 & echo $! > {pidfile}; echo started; wait"],
                          tmp_path / "sh.log")
    proc.start(cwd=tmp_path)
    deadline = time.monotonic() + 10
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    grandchild = int(pidfile.read_text())
    assert proc.alive() and _alive(grandchild)
    proc.stop()
    assert not proc.alive()
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _alive(grandchild)
    assert "started" in (tmp_path / "sh.log").read_text()


def test_a_process_that_dies_is_reported_with_its_log(tmp_path):
    proc = ManagedProcess("failing", ["sh", "-c", "echo cannot bind the port >&2; exit 3"], tmp_path / "f.log")
    proc.start(cwd=tmp_path)
    proc.proc.wait(10)
    try:
        proc.check()
    except RuntimeError as err:
        assert "exited with code 3" in str(err) and "cannot bind the port" in str(err)
    else:
        raise AssertionError("check() did not report the exit")


def test_rendered_config_is_valid_toml_that_kiosk_config_accepts(tmp_path):
    text = render_config({
        "site": {"building_id": "demo", "kiosk_id": "lobby-demo", "building_name": "示范小区 \"7\"号楼",
                 "state_dir": str(tmp_path)},
        "broker": {"port": 18830, "tls": False, "command_timeout_s": 2.5},
        "voice": {"model_path": None},
        "ui": {"fullscreen": False, "size": "540x960", "diagonal_in": 10.75},
    })
    doc = tomllib.loads(text)
    assert "model_path" not in doc["voice"]
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    cfg = config.load(str(path))
    assert cfg.building_name == '示范小区 "7"号楼'
    assert cfg.devices.broker.port == 18830 and cfg.ui.fullscreen is False


def test_spoken_request_is_a_16khz_mono_16bit_wav(tmp_path):
    path = synthesize_speech("我家厨房的灯坏了", tmp_path / "spoken.wav")
    assert path is not None
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.getnframes() > 16000 * 0.8  # about two seconds of speech
    assert not list(tmp_path.glob("*.raw.wav"))


def test_a_running_building_carries_a_request_from_the_outbox_to_the_staff(tmp_path):
    from kiosk.building import BuildingError, BuildingPlan, SimulatedBuilding
    from sync.outbox import Outbox

    with SimulatedBuilding(BuildingPlan(doors=1, health=0, pickup_codes=("123456",)), run_dir=tmp_path) as b:
        cfg = config.load(str(b.config_path))
        assert cfg.devices.broker.port == b.broker_port and cfg.sync.central.url == b.central_url
        outbox = Outbox.open(cfg.sync)
        try:
            queued = outbox.enqueue({"channel": "touch", "category": "public_facility", "urgency": "high",
                                     "summary": "电梯坏了", "transcript": None, "location": None,
                                     "contact": {"room": None, "phone": None}, "tags": []})
        finally:
            outbox.close()
        deadline = time.monotonic() + 30
        pool: list = []
        while time.monotonic() < deadline and not pool:
            pool = [r for r in b.staff_request("GET", "/staff/v1/requests")["requests"] if r["id"] == queued.id]
            time.sleep(0.2)
        assert pool and pool[0]["summary"] == "电梯坏了"
        started = list(b.processes)
        assert [p.name for p in started] == ["mosquitto", "devices", "central", "agent"]
        assert b.staff_set_status(queued.id, "done")["status"] == "done"
        agent = next(p for p in b.processes if p.name == "agent")
        agent.proc.kill()
        agent.proc.wait(10)
        try:
            b.check()
        except BuildingError as err:
            assert "agent exited" in str(err)
        else:
            raise AssertionError("a dead agent was not reported")
    assert [p.name for p in started if p.alive()] == []
