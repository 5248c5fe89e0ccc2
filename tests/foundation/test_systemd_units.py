"""The systemd units verify with `systemd-analyze` and carry the promised supervision and hardening.

`systemd-analyze verify` refuses a unit whose ExecStart binary does not exist, so
each unit is rendered into a temporary folder with the install path
(/opt/lobby-kiosk/.venv/bin/) replaced by this virtual environment's bin folder,
where `pip install -e .` put the same console scripts. verify exits 0 even on
an unknown directive or a value it cannot parse (it only warns), so a unit
passes only with exit code 0 and not one complaint about it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from devices import settings as devices_settings

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
INSTALL_BIN = "/opt/lobby-kiosk/.venv/bin/"
VENV_BIN = Path(sys.executable).parent
STATE_DIR = "/var/lib/lobby-kiosk"
CONFIG = "/etc/lobby-kiosk/kiosk.toml"
UNITS = ("lobby-kiosk.service", "lobby-sync.service", "lobby-serial-bridge@.service")
CONTRACT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> values (a key may repeat), without comments or continuation lines."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"directive outside a section: {line}"
        assert not line.endswith("\\"), f"continuation lines make the units hard to read: {line}"
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def render(unit: str, dest: Path, text: str | None = None) -> Path:
    """Write `unit` into `dest` with the install path pointing at this venv's console scripts."""
    text = (SYSTEMD / unit).read_text(encoding="utf-8") if text is None else text
    assert INSTALL_BIN in text, f"{unit} does not run from {INSTALL_BIN}"
    out = dest / unit
    out.write_text(text.replace(INSTALL_BIN, f"{VENV_BIN}/"), encoding="utf-8")
    return out


def verify_problems(path: Path) -> list[str]:
    """What `systemd-analyze verify` has to say about our unit; empty means it passes."""
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(path)],
        capture_output=True, text=True, timeout=60, cwd=path.parent,
    )
    stem = path.name.split("@")[0].removesuffix(".service")
    # Lines about other units (for example system units pulled in by ordering)
    # are not ours to judge; every line about this unit is a problem.
    problems = [line for line in (result.stdout + result.stderr).splitlines() if stem in line]
    if result.returncode != 0:
        problems.append(f"exit code {result.returncode}: {result.stderr.strip()}")
    return problems


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    path = shutil.which("systemd-analyze")
    if not path:
        pytest.fail("systemd-analyze is not installed (scripts/bootstrap.sh installs the systemd package)")
    return path


@pytest.mark.parametrize("unit", UNITS)
def test_unit_verifies(systemd_analyze, tmp_path, unit):
    rendered = render(unit, tmp_path)
    for line in rendered.read_text().splitlines():
        if line.startswith(("ExecStart=", "ExecStartPre=")):
            binary = line.split("=", 1)[1].split()[0]
            assert Path(binary).is_file(), f"{unit}: {binary} missing from this venv"
    assert verify_problems(rendered) == []


def test_verify_check_catches_a_bad_unit(systemd_analyze, tmp_path):
    """The check above can fail: a misspelt value and a missing program are both reported."""
    text = (SYSTEMD / "lobby-sync.service").read_text(encoding="utf-8")
    text = text.replace("ProtectSystem=strict", "ProtectSystem=strcit")
    assert "ProtectSystem=strcit" in text
    problems = verify_problems(render("lobby-sync.service", tmp_path, text))
    assert any("protect system" in p.lower() and "strcit" in p for p in problems), problems

    text = (SYSTEMD / "lobby-sync.service").read_text(encoding="utf-8").replace("lobby-sync run", "lobby-sink run")
    (tmp_path / "missing").mkdir()
    problems = verify_problems(render("lobby-sync.service", tmp_path / "missing", text))
    assert any("lobby-sink" in p and "not executable" in p for p in problems), problems


def _units() -> dict[str, dict[str, dict[str, list[str]]]]:
    return {unit: parse_unit((SYSTEMD / unit).read_text(encoding="utf-8")) for unit in UNITS}


def _one(unit: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = unit.get(section, {}).get(key, [])
    assert len(values) == 1, f"[{section}] {key}= should be set exactly once, found {values}"
    return values[0]


@pytest.mark.parametrize("name", UNITS)
def test_supervision_and_hardening(name):
    unit = _units()[name]
    assert _one(unit, "Service", "Restart") == "on-failure"
    assert int(_one(unit, "Unit", "StartLimitIntervalSec")) > 0
    assert int(_one(unit, "Unit", "StartLimitBurst")) > 0
    assert _one(unit, "Service", "User") == "lobby-kiosk"
    assert _one(unit, "Service", "Group") == "lobby-kiosk"
    assert _one(unit, "Service", "SyslogIdentifier").startswith("lobby-")
    assert _one(unit, "Service", "NoNewPrivileges") == "yes"
    assert _one(unit, "Service", "ProtectSystem") == "strict"
    assert _one(unit, "Service", "ProtectHome") == "yes"
    assert _one(unit, "Service", "PrivateTmp") == "yes"
    assert unit["Service"]["ReadWritePaths"] == [STATE_DIR]
    assert _one(unit, "Service", "StateDirectory") == "lobby-kiosk"
    assert _one(unit, "Service", "CapabilityBoundingSet") == ""
    for key in unit["Service"]:  # nothing else made writable behind ReadWritePaths' back
        assert key not in ("LogsDirectory", "CacheDirectory", "RuntimeDirectory", "BindPaths"), key
    assert _one(unit, "Install", "WantedBy") == "multi-user.target"


def test_kiosk_unit_is_watched_and_can_reach_the_display():
    unit = _units()["lobby-kiosk.service"]
    assert _one(unit, "Service", "Type") == "notify"
    assert _one(unit, "Service", "NotifyAccess") == "main"
    assert 5 <= int(_one(unit, "Service", "WatchdogSec")) <= 120
    assert set(_one(unit, "Service", "SupplementaryGroups").split()) >= {"video", "input", "audio", "render"}
    env = dict(e.split("=", 1) for e in unit["Service"]["Environment"])
    assert env["SDL_VIDEODRIVER"] == "kmsdrm" and env["KIVY_WINDOW"] == "sdl2"
    assert env["KIVY_NO_ARGS"] == "1"  # or Kivy would swallow --config
    assert env["KIVY_HOME"].startswith(STATE_DIR + "/")  # Kivy's config lives in the writable place
    assert "PrivateDevices" not in unit["Service"]  # the panel, touchscreen and microphone are devices
    assert _one(unit, "Service", "ExecStart") == f"{INSTALL_BIN}lobby-kiosk --config {CONFIG} run"
    assert _one(unit, "Service", "ExecStartPre") == f"{INSTALL_BIN}lobby-kiosk check-config {CONFIG}"
    assert "lobby-sync.service" in _one(unit, "Unit", "Wants").split()


def test_sync_unit_runs_the_agent_without_devices():
    unit = _units()["lobby-sync.service"]
    assert _one(unit, "Service", "ExecStart") == f"{INSTALL_BIN}lobby-sync run --config {CONFIG}"
    assert _one(unit, "Service", "PrivateDevices") == "yes"
    assert _one(unit, "Service", "MemoryDenyWriteExecute") == "yes"


def test_serial_bridge_template():
    unit = _units()["lobby-serial-bridge@.service"]
    assert _one(unit, "Service", "EnvironmentFile") == "/etc/lobby-kiosk/serial-%i.env"
    assert _one(unit, "Service", "ExecStart") == (
        f"{INSTALL_BIN}lobby-devices serial-bridge --config /etc/lobby-kiosk/serial-%i.toml"
        " --device ${DEVICE} --protocol ${PROTOCOL} --kind ${KIND} --id ${ID}"
    )
    assert "dialout" in _one(unit, "Service", "SupplementaryGroups").split()
    assert _one(unit, "Service", "DevicePolicy") == "closed"
    assert "char-ttyUSB rw" in unit["Service"]["DeviceAllow"]


def example_env() -> dict[str, str]:
    """KEY=value pairs of systemd/serial-example.env."""
    env = {}
    for line in (SYSTEMD / "serial-example.env").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            assert " " not in value, f"{key}: EnvironmentFile values here must not contain spaces"
            env[key] = value
    return env


def test_serial_example_env_fills_every_variable_of_the_template():
    env = example_env()
    assert set(env) == {"DEVICE", "PROTOCOL", "KIND", "ID"}
    assert env["DEVICE"].startswith("serial:///dev/")
    assert env["KIND"] in ("door", "locker", "health") and CONTRACT_ID.match(env["ID"])


def test_serial_bridge_example_config_is_valid_and_uses_the_device_account(tmp_path):
    """serial-example.toml passes the devices subsystem's own validation (its files made in tmp)."""
    env = example_env()
    text = (SYSTEMD / "serial-example.toml").read_text(encoding="utf-8")
    for name in re.findall(r'"/etc/lobby-kiosk/([^"/]+)"', text):
        (tmp_path / name).write_text("secret\n")
    doc = tomllib.loads(text.replace("/etc/lobby-kiosk/", f"{tmp_path}/"))
    settings = devices_settings.from_document(doc)
    assert settings.broker.username == f"{env['KIND']}/{env['ID']}"
    assert settings.broker.tls and settings.broker.port == 8883
    acl = (SYSTEMD / "mosquitto" / "lobby-building.acl").read_text(encoding="utf-8")
    assert f"pattern write lobby/v1/{settings.building_id}/%u/state" in acl


@pytest.mark.parametrize("unit", UNITS)
def test_execstart_options_are_known_to_the_commands(run_cli, unit):
    """Each command line of the unit names a real subcommand, and its options appear in --help."""
    modules = {"lobby-kiosk": "kiosk", "lobby-sync": "sync", "lobby-devices": "devices"}
    service = _units()[unit]["Service"]
    for line in service.get("ExecStartPre", []) + service["ExecStart"]:
        program, *args = line.split()
        module = modules[Path(program).name]
        subcommand = next(a for a in args if not a.startswith(("-", "/", "$")))
        helps = run_cli(module, "--help").stdout + run_cli(module, subcommand, "--help").stdout
        assert f" {subcommand} " in helps, f"{unit}: {subcommand}"
        for option in (a for a in args if a.startswith("--")):
            assert option in helps, f"{unit}: {program} {subcommand} has no {option}"


@pytest.mark.parametrize("unit", UNITS)
def test_exposure_score_stays_low(systemd_analyze, tmp_path, unit):
    """systemd's own hardening score (0 safe .. 10 unsafe) stays at or below 3.0 ("OK")."""
    rendered = render(unit, tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--threshold=30", "--no-pager", str(rendered)],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    summary = [line for line in result.stdout.splitlines() if "Overall exposure level" in line]
    assert result.returncode == 0 and summary, result.stdout[-2000:] + result.stderr


def test_sysusers_file_creates_the_user_the_units_run_as(systemd_analyze, tmp_path):
    """systemd-sysusers, run into an empty root, makes the system user and group of the units."""
    (tmp_path / "etc").mkdir()
    result = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(SYSTEMD / "lobby-kiosk.sysusers")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    users = {line.split(":")[0]: line.split(":") for line in (tmp_path / "etc" / "passwd").read_text().splitlines()}
    name, _pw, uid, gid, _gecos, home, shell = users["lobby-kiosk"]
    assert int(uid) < 1000 and home == STATE_DIR and shell.endswith("nologin")
    groups = {line.split(":")[0]: line.split(":")[2] for line in (tmp_path / "etc" / "group").read_text().splitlines()}
    assert groups["lobby-kiosk"] == gid
    for unit in _units().values():
        assert _one(unit, "Service", "User") == name


def _doc_dropins() -> dict[str, str]:
    """The `systemctl edit lobby-kiosk` overrides docs/deployment.md gives, as drop-in files."""
    doc = (REPO / "docs" / "deployment.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```ini\n(.*?)```", doc, re.S) if b.startswith("[Service]")]
    envs = sorted(set(re.findall(r"Environment=(?:KCFG_GRAPHICS_ROTATION=\d+|SDL_TOUCH_MOUSE_EVENTS=0)", doc)))
    assert blocks and len(envs) == 2, "the doc's overrides moved; update this test"
    dropins = {f"doc-{i}.conf": block for i, block in enumerate(blocks)}
    dropins["doc-env.conf"] = "[Service]\n" + "\n".join(envs) + "\n"
    return dropins


def test_the_docs_overrides_of_the_kiosk_unit_verify(systemd_analyze, tmp_path):
    """Drop-ins from docs/deployment.md (X instead of KMS/DRM, rotation, touch) load without a complaint."""
    render("lobby-kiosk.service", tmp_path)
    render("lobby-sync.service", tmp_path)  # wanted by the kiosk unit
    dropin_dir = tmp_path / "lobby-kiosk.service.d"
    dropin_dir.mkdir()
    for name, text in _doc_dropins().items():
        (dropin_dir / name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "lobby-kiosk.service"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_UNIT_PATH": f"{tmp_path}:"})
    output = result.stdout + result.stderr
    assert "lobby-kiosk.service.d" not in output and result.returncode == 0, output
    # ...and the check would see a broken drop-in.
    (dropin_dir / "broken.conf").write_text("[Service]\nTTYReset=maybe\n")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", "lobby-kiosk.service"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "SYSTEMD_UNIT_PATH": f"{tmp_path}:"})
    assert "broken.conf" in result.stdout + result.stderr
