"""A whole simulated building on loopback, for the demo and the end-to-end tests.

`SimulatedBuilding` starts, each as its own subprocess with its output in a log
file of its run folder: mosquitto on a free loopback port, the device
simulators (`python -m devices simulate`), the reference central server with a
staff token (`python -m sync central`) and the sync agent (`python -m sync
run`). It writes the kiosk configuration that points at them (validated by
kiosk.config), waits for each part to be ready, and stops everything on exit,
on Ctrl-C and on SIGTERM. Children started from the main thread also get
SIGTERM from the kernel if this process dies without cleaning up
(PR_SET_PDEATHSIG), so nothing is left behind. `stop_part()`/`start_part()`
take one part down and bring it back (same port, same database).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from kiosk import config
from kiosk.pin import hash_pin

log = logging.getLogger(__name__)

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 5.0
_PR_SET_PDEATHSIG = 1


class BuildingError(RuntimeError):
    """A part of the simulated building did not start or stopped; str() says which and why."""


@dataclass(frozen=True)
class BuildingPlan:
    """What to simulate: ids, devices, seeded pickup codes and the technician PIN."""

    building_id: str = "demo"
    building_name: str = "示范小区 7号楼"
    kiosk_id: str = "lobby-demo"
    doors: int = 2
    lockers: int = 1
    compartments: int = 24
    health: int = 1
    pickup_codes: tuple[str, ...] = ()
    technician_pin: str = "4817"
    spoken_text: str | None = "我家厨房的灯坏了"
    ui_size: str = "540x960"
    ui_diagonal_in: float = 21.5  # the lobby panel, rendered at half its 1080x1920 resolution
    fullscreen: bool = False
    verbose: bool = False
    seed: int = 7
    file_microphone: bool = False  # headless: an ALSA microphone that plays the spoken request
    extra_simulate_args: tuple[str, ...] = ()

    @property
    def device_count(self) -> int:
        return self.doors + self.lockers + self.health


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    """True when something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM when the parent dies (Linux)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the context manager still cleans up
        pass


@dataclass
class ManagedProcess:
    """One child process of the building, in its own process group, logging to a file."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] | None = None
    ready: Callable[[ManagedProcess], bool] | None = None  # is it serving (beyond running)?
    proc: subprocess.Popen | None = None
    _log_offset: int = 0

    def start(self, cwd: Path) -> None:
        """Start (or start again) the process; its output is appended to its log file."""
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        # the kernel sends PDEATHSIG when the forking *thread* ends: only tie it to the main thread
        tie = _die_with_parent if threading.current_thread() is threading.main_thread() else None
        with open(self.log_path, "ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                cwd=cwd, env=self.env, start_new_session=True, preexec_fn=tie,
            )
        log.info("started %s (pid %d), log %s", self.name, self.proc.pid, self.log_path)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        """Everything the process has written so far."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def output(self) -> str:
        """What the process has written since it was last started."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_offset)
                return f.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def check(self) -> None:
        """Raise BuildingError if the process has exited."""
        if self.proc is not None and self.proc.poll() is not None:
            raise BuildingError(
                f"{self.name} exited with code {self.proc.returncode}; last lines of {self.log_path}:\n"
                f"{self.log_tail()}"
            )

    def stop(self) -> None:
        """SIGTERM the process group, then SIGKILL it if it has not gone within STOP_TIMEOUT_S."""
        if self.proc is None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(STOP_TIMEOUT_S)
                # the leader is gone; make sure nothing else of its group lingers
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                break
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop on %s", self.name, sig.name)
        if self.proc.poll() is None:
            self.proc.wait()
        log.info("stopped %s (exit %s)", self.name, self.proc.returncode)


def _toml(value: Any) -> str:
    """A TOML literal for a string, bool or number (JSON strings are valid TOML basic strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_config(sections: dict[str, dict[str, Any]]) -> str:
    """Render {section: {key: value}} as TOML."""
    out = ["# written by kiosk.building for a simulated building"]
    for name, table in sections.items():
        out.append(f"\n[{name}]")
        out += [f"{key} = {_toml(value)}" for key, value in table.items() if value is not None]
    return "\n".join(out) + "\n"


def synthesize_speech(text: str, wav_path: Path) -> Path | None:
    """Speak `text` in Mandarin to a 16 kHz mono 16-bit WAV with espeak-ng and sox; None if unavailable."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        return None
    raw = wav_path.with_suffix(".raw.wav")
    try:
        subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(raw), text], check=True,
                       capture_output=True, timeout=30)
        subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(wav_path)],
                       check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError) as err:
        log.warning("could not synthesize the spoken request: %s", err)
        return None
    finally:
        raw.unlink(missing_ok=True)
    return wav_path


MIC_NAME = "kioskmic"


def file_microphone(wav_path: Path, conf_path: Path) -> Path:
    """An ALSA config whose `kioskmic` PCM (also the default) plays the WAV's samples as a microphone.

    Point $ALSA_CONFIG_PATH at the returned file before the audio library starts.
    """
    raw = wav_path.with_suffix(".raw")
    with wave.open(str(wav_path)) as w:
        raw.write_bytes(w.readframes(w.getnframes()))
    conf_path.write_text(
        f"pcm.{MIC_NAME} {{\n    type file\n    slave {{ pcm {{ type null }} }}\n    file \"/dev/null\"\n"
        f'    infile "{raw}"\n    format "raw"\n}}\npcm.!default {MIC_NAME}\n',
        encoding="utf-8",
    )
    return conf_path


def find_voice_model() -> str | None:
    """A Chinese vosk model to use, if one is installed: $LOBBY_VOICE_MODEL or the deployment default."""
    from voice.settings import DEFAULT_MODEL_NAME  # noqa: PLC0415

    for path in (os.environ.get("LOBBY_VOICE_MODEL"), f"/var/lib/lobby-kiosk/models/{DEFAULT_MODEL_NAME}"):
        if path and os.path.isdir(path):
            return path
    return None


@dataclass
class SimulatedBuilding:
    """Broker, device simulators, central server and sync agent on loopback (a context manager).

    `run_dir` holds the configuration, state, tokens and one log file per process
    (`logs/<name>.log`); a temporary folder when not given (removed on exit only
    if it was temporary and `keep` is false).
    """

    plan: BuildingPlan = field(default_factory=BuildingPlan)
    run_dir: Path | None = None
    keep: bool = True
    ready_timeout_s: float = READY_TIMEOUT_S

    def __post_init__(self) -> None:
        self._temporary = self.run_dir is None
        self.run_dir = Path(self.run_dir or tempfile.mkdtemp(prefix="lobby-building-")).resolve()
        self.log_dir = self.run_dir / "logs"
        self.state_dir = self.run_dir / "state"
        self.processes: list[ManagedProcess] = []
        self.broker_port = 0
        self.central_port = 0
        self.staff_token = ""
        self.kiosk_token = ""
        self.config_path = self.run_dir / "kiosk.toml"
        self.spoken_wav: Path | None = None
        self.voice_model: str | None = None
        self.alsa_config: Path | None = None
        self._old_sigterm: Any = None

    # -- what the demo and the tests use -------------------------------------------------

    @property
    def broker_address(self) -> str:
        return f"127.0.0.1:{self.broker_port}"

    @property
    def central_url(self) -> str:
        return f"http://127.0.0.1:{self.central_port}"

    @property
    def staff_page_url(self) -> str:
        return f"{self.central_url}/staff"

    def log_files(self) -> list[Path]:
        """Every log file the building's processes wrote."""
        return sorted(self.log_dir.glob("*.log"))

    def check(self) -> None:
        """Raise BuildingError if any process of the building has exited."""
        for p in self.processes:
            p.check()

    def staff_request(self, method: str, path: str, body: dict | None = None) -> Any:
        """Call the central server's staff JSON API as the property office would; returns parsed JSON."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            self.central_url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.staff_token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raise BuildingError(f"staff API {method} {path}: HTTP {err.code}") from None
        except (urllib.error.URLError, OSError) as err:
            raise BuildingError(f"staff API {method} {path}: {err}") from None
        return json.loads(raw) if raw else None

    def staff_set_status(self, request_id: str, status: str, note: str | None = None) -> Any:
        """Mark a request's status on the central server (e.g. "done"), as staff do."""
        body: dict[str, Any] = {"status": status}
        if note:
            body["note"] = note
        return self.staff_request("POST", f"/staff/v1/requests/{request_id}/status", body)

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> SimulatedBuilding:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Write the configuration and start every part, waiting for each; stops all on failure."""
        self._install_sigterm()
        try:
            self._prepare()
            self._start_broker()
            self._start_devices()
            self._start_central()
            self._start_agent()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop every process, newest first; safe to call twice."""
        while self.processes:
            self.processes.pop().stop()
        self._restore_sigterm()
        if self._temporary and not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def _install_sigterm(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def _on_sigterm(signum: int, frame: FrameType | None) -> None:
            raise SystemExit(128 + signum)

        self._old_sigterm = signal.signal(signal.SIGTERM, _on_sigterm)

    def _restore_sigterm(self) -> None:
        if self._old_sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._old_sigterm)
            self._old_sigterm = None

    # -- the parts -----------------------------------------------------------------------

    def _prepare(self) -> None:
        for d in (self.run_dir, self.log_dir, self.state_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.broker_port = free_port()
        self.central_port = free_port()
        while self.central_port == self.broker_port:
            self.central_port = free_port()
        self.kiosk_token = secrets.token_urlsafe(24)
        self.staff_token = secrets.token_urlsafe(24)
        self._write_secret("central.token", self.kiosk_token)
        self._write_secret("staff.token", self.staff_token)
        if self.plan.spoken_text:
            self.spoken_wav = synthesize_speech(self.plan.spoken_text, self.run_dir / "spoken-request.wav")
        self.voice_model = find_voice_model()
        if self.plan.file_microphone and self.voice_model and self.spoken_wav:
            self.alsa_config = file_microphone(self.spoken_wav, self.run_dir / "asound.conf")
        self.config_path.write_text(render_config(self._config_sections()), encoding="utf-8")
        try:
            config.load(str(self.config_path))
        except config.ConfigError as err:
            raise BuildingError(f"the generated configuration is not valid: {err}") from None

    def _write_secret(self, name: str, value: str) -> Path:
        path = self.run_dir / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
        return path

    def _config_sections(self) -> dict[str, dict[str, Any]]:
        p = self.plan
        return {
            "site": {"building_id": p.building_id, "kiosk_id": p.kiosk_id,
                     "building_name": p.building_name, "state_dir": str(self.state_dir)},
            "broker": {"host": "127.0.0.1", "port": self.broker_port, "tls": False,
                       "keepalive_s": 10, "command_timeout_s": 5},
            "central": {"url": self.central_url, "token_file": str(self.run_dir / "central.token"),
                        "verify_tls": False, "backoff_cap_s": 2, "pull_interval_s": 1,
                        "heartbeat_interval_s": 5},
            "voice": {"model_path": self.voice_model, "tts": False,
                      "input_device": MIC_NAME if self.alsa_config else None},
            "ui": {"language": "zh", "fullscreen": p.fullscreen, "size": p.ui_size,
                   "diagonal_in": p.ui_diagonal_in},
            "technician": {"pin_hash": hash_pin(p.technician_pin)},
        }

    def _python(self, *args: str) -> list[str]:
        return [sys.executable, "-m", *args, *(["-v"] if self.plan.verbose else [])]

    def _spawn(self, name: str, argv: list[str], ready: Callable[[ManagedProcess], bool]) -> ManagedProcess:
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        proc = ManagedProcess(name, argv, self.log_dir / f"{name}.log", env=env, ready=ready)
        self.processes.append(proc)
        self._launch(proc)
        return proc

    def _launch(self, proc: ManagedProcess) -> None:
        proc.start(cwd=self.run_dir)
        started = time.monotonic()
        deadline = started + self.ready_timeout_s
        while time.monotonic() < deadline:
            proc.check()
            if proc.ready is None or proc.ready(proc):
                return
            time.sleep(0.05)
        raise BuildingError(f"{proc.name}: not ready after {self.ready_timeout_s:g}s; "
                            f"last lines of {proc.log_path}:\n{proc.log_tail()}")

    def process(self, name: str) -> ManagedProcess:
        """The running part by name: mosquitto, devices, central or agent."""
        for proc in self.processes:
            if proc.name == name:
                return proc
        raise KeyError(name)

    def stop_part(self, name: str) -> None:
        """Stop one part (e.g. "central", to show the kiosk working while the office is unreachable)."""
        self.process(name).stop()

    def start_part(self, name: str) -> None:
        """Start a stopped part again, with the same arguments and port, and wait until it is ready."""
        proc = self.process(name)
        if proc.alive():
            return
        self._launch(proc)

    def _start_broker(self) -> None:
        if not shutil.which("mosquitto"):
            raise BuildingError("mosquitto is not installed (make demo installs it)")
        conf = self.run_dir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "set_tcp_nodelay true\nlog_dest stderr\nlog_type error\nlog_type warning\n"
            "log_type notice\nlog_type information\n",
            encoding="utf-8",
        )
        self._spawn("mosquitto", ["mosquitto", "-c", str(conf)], lambda _p: port_open(self.broker_port))

    def _start_devices(self) -> None:
        p = self.plan
        argv = self._python(
            "devices", "simulate", "--broker", self.broker_address, "--building", p.building_id,
            "--doors", str(p.doors), "--lockers", str(p.lockers),
            "--compartments", str(p.compartments), "--health", str(p.health), "--seed", str(p.seed),
        )
        if p.pickup_codes:
            argv += ["--codes", ",".join(p.pickup_codes)]
        argv += list(p.extra_simulate_args)
        self._spawn("devices", argv, lambda proc: "simulate: ready" in proc.output())

    def _start_central(self) -> None:
        argv = self._python(
            "sync", "central", "--config", str(self.config_path), "--port", str(self.central_port),
            "--db", str(self.run_dir / "central.sqlite3"),
            "--token-file", str(self.run_dir / "central.token"),
            "--staff-token-file", str(self.run_dir / "staff.token"),
        )
        self._spawn("central", argv, lambda proc: "central: listening on" in proc.output() and self._central_answers())

    def _central_answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.central_url + "/", timeout=1):
                return True
        except urllib.error.HTTPError:
            return True  # any HTTP answer means it is serving
        except (urllib.error.URLError, OSError):
            return False

    def _start_agent(self) -> None:
        argv = self._python("sync", "run", "--config", str(self.config_path))
        self._spawn("agent", argv, lambda proc: "sync agent started" in proc.output())

