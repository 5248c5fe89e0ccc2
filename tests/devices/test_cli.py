"""`lobby-devices` as a technician uses it: status, cmd, help and wrong arguments."""

import json

import pytest

from tests.conftest import free_port
from tests.devices.conftest import BUILDING


@pytest.mark.parametrize("sub", ["simulate", "status", "cmd", "serial-bridge"])
def test_every_subcommand_has_help(run_cli, sub):
    result = run_cli("devices", sub, "--help")
    assert result.returncode == 0 and "--broker" in result.stdout and "usage: lobby-devices" in result.stdout


@pytest.mark.parametrize("args, reason", [
    (["simulate", "--codes", "12,34"], "six digits"),
    (["simulate", "--fault", "locker-1"], "DEVICE-ID=FAULT"),
    (["cmd", "elevator", "e1", "status"], "invalid choice"),
    (["serial-bridge", "--device", "loop://", "--protocol", "visomat", "--kind", "locker", "--id", "x"], "visomat"),
    (["frobnicate"], "invalid choice"),
])
def test_wrong_arguments_exit_non_zero_with_a_reason(run_cli, args, reason):
    result = run_cli("devices", *args)
    assert result.returncode == 2 and reason in result.stderr and "Traceback" not in result.stderr


def test_unreachable_broker_is_one_line(run_cli):
    result = run_cli("devices", "status", "--broker", f"127.0.0.1:{free_port()}", "--timeout", "1")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()] and "not reachable" in result.stderr


def test_status_json_lists_devices_and_kiosks(mosquitto, sim_process, make_link, run_cli):
    sim_process("--doors", "1", "--lockers", "1", "--health", "1", "--fault", "health-1=jam")
    make_link()  # a kiosk of the building
    result = run_cli("devices", "status", "--broker", mosquitto.address, "--building", BUILDING, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert all(set(r) == {"kind", "id", "availability", "fault", "last_seen"} for r in rows)
    by_id = {r["id"]: r for r in rows}
    assert by_id["door-1"]["availability"] == "online" and by_id["door-1"]["fault"] is None
    assert by_id["health-1"]["fault"] == "jammed"
    assert by_id["kiosk-1"] == {**by_id["kiosk-1"], "kind": "kiosk", "availability": "online"}
    table = run_cli("devices", "status", "--broker", mosquitto.address, "--building", BUILDING)
    assert "locker-1" in table.stdout and "jammed" in table.stdout


def test_cmd_sends_one_command_and_prints_the_reply(mosquitto, sim_process, run_cli):
    sim_process("--doors", "1", "--lockers", "1", "--health", "0", "--codes", "424242",
                "--fault", "door-1=offline")
    base = ["--broker", mosquitto.address, "--building", BUILDING]
    ok = run_cli("devices", "cmd", *base, "locker", "locker-1", "pickup", '{"code": "424242"}')
    assert ok.returncode == 0 and json.loads(ok.stdout) == {"ok": True, "result": {"compartment": "A01"}}
    bad = run_cli("devices", "cmd", *base, "locker", "locker-1", "open", '{"compartment": "Z99"}')
    assert bad.returncode == 1 and json.loads(bad.stdout)["error"]["code"] == "not_found"
    offline = run_cli("devices", "cmd", *base, "door", "door-1", "unlock", '{"seconds": 2}')
    assert offline.returncode == 1 and "door-1 is offline" in offline.stderr
    broken = run_cli("devices", "cmd", *base, "door", "door-1", "unlock", "{seconds")
    assert broken.returncode == 2 and "not valid JSON" in broken.stderr
