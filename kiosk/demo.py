"""`lobby-kiosk demo`: a whole simulated building and the kiosk on top of it.

With a display ($DISPLAY or $WAYLAND_DISPLAY) the kiosk opens in a window on
the simulated building until it is closed. Without one (or with --headless) it
runs offscreen through the scripted tour (kiosk/tour_steps.py) and writes
`NN-step.png` screenshots and `summary.json` into --out; the exit code is 0
only if every step succeeded. Ctrl-C (or SIGTERM) stops everything it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.building import SimulatedBuilding
    from kiosk.config import KioskConfig
    from kiosk.tour import TourValues

log = logging.getLogger(__name__)

DEMO_CODES_EXTRA = "582046"  # a second parcel waiting, so the locker is not trivially one-code


def kivy_env(headless: bool, home: Path) -> dict[str, str]:
    """The environment Kivy needs here (its home in `home`), to be set before Kivy is first imported."""
    env = {
        "KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1",
        "KIVY_LOG_MODE": "PYTHON", "KIVY_WINDOW": "sdl2", "KIVY_HOME": str(home),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(home)),
    }
    if headless:
        env |= {"SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}
    return env


def has_display() -> bool:
    """True when a graphical session is there to open a window on."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _log_to_file(path: Path) -> logging.Handler:
    """Also write this process's log to the run folder, next to the other processes' logs."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    if logging.getLogger().level > logging.INFO or logging.getLogger().level == logging.NOTSET:
        logging.getLogger().setLevel(logging.INFO)
    return handler


def main(args: argparse.Namespace) -> int:
    """Entry point of `lobby-kiosk demo`; returns the exit code."""
    out = Path(args.out).resolve()
    run_dir = out / "run"
    try:
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(run_dir, ignore_errors=True)
        (run_dir / "logs").mkdir(parents=True)
        (run_dir / "kivy").mkdir()
    except OSError as err:
        print(f"lobby-kiosk demo: cannot write to --out {out}: {err.strerror or err}", file=sys.stderr)
        return 2
    headless = bool(getattr(args, "headless", False)) or not has_display()
    for key, value in kivy_env(headless, run_dir / "kivy").items():
        os.environ.setdefault(key, value)
    if headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"

    from kiosk import config  # noqa: PLC0415 - after the Kivy environment is set
    from kiosk.building import BuildingError, BuildingPlan, SimulatedBuilding  # noqa: PLC0415
    from kiosk.tour import TourValues  # noqa: PLC0415

    values = TourValues()
    plan = BuildingPlan(
        pickup_codes=(values.pickup_code, DEMO_CODES_EXTRA), technician_pin=values.technician_pin,
        spoken_text=values.spoken_text, verbose=bool(getattr(args, "verbose", False)),
        file_microphone=headless,
    )
    handler = _log_to_file(run_dir / "logs" / "kiosk.log")
    print(f"lobby-kiosk demo: starting a simulated building (logs in {run_dir / 'logs'}) ...", flush=True)
    try:
        with SimulatedBuilding(plan, run_dir=run_dir) as building:
            _print_building(building, headless)
            cfg = config.load(str(building.config_path))
            if building.alsa_config:
                os.environ["ALSA_CONFIG_PATH"] = str(building.alsa_config)
            if not headless:
                from kiosk.app import run  # noqa: PLC0415

                print("lobby-kiosk demo: the kiosk is open in a window; close it or press Ctrl-C to stop.")
                return run(cfg)
            return _run_tour(cfg, building, values, out)
    except BuildingError as err:
        print(f"lobby-kiosk demo: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("lobby-kiosk demo: interrupted; everything it started is stopped.", file=sys.stderr)
        return 130
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _print_building(building: SimulatedBuilding, headless: bool) -> None:
    b = building
    no_model = "none (the tour types the request through the same path)" if headless else \
        "none (voice shows as unavailable; the touch buttons work)"
    print(f"  broker       mqtt://{b.broker_address}")
    print(f"  central      {b.central_url}")
    print(f"  staff page   {b.staff_page_url}  (sign in with the token in {b.run_dir / 'staff.token'})")
    print(f"  config       {b.config_path}")
    print(f"  voice model  {b.voice_model or no_model}", flush=True)


def _run_tour(cfg: KioskConfig, building: SimulatedBuilding, values: TourValues, out: Path) -> int:
    from kiosk.app import KioskApp, configure_window  # noqa: PLC0415
    from kiosk.building import BuildingError  # noqa: PLC0415
    from kiosk.tour import Tour  # noqa: PLC0415
    from kiosk.tour_steps import demo_steps  # noqa: PLC0415

    configure_window(cfg, fullscreen=False)
    app = KioskApp(cfg)
    context = {"staff_page": building.staff_page_url, "central": building.central_url,
               "voice_model": building.voice_model}
    tour = Tour(app, demo_steps(building, values), out, context=context)
    tour.start()
    app.run()
    _print_summary(tour.summary(), out, building)
    try:
        building.check()  # a part that died explains failed steps
    except BuildingError as err:
        print(f"lobby-kiosk demo: {err}", file=sys.stderr)
        return 1
    return 0 if tour.ok else 1


def _print_summary(summary: dict, out: Path, building: SimulatedBuilding) -> None:
    print("\nlobby-kiosk demo: tour finished" + ("" if summary.get("ok") else " WITH FAILURES"))
    for step in summary["steps"]:
        mark = "ok  " if step["ok"] else "FAIL"
        # a health reading is personal: the terminal, like any log, gets no values (summary.json has them)
        made = ", ".join("reading taken" if k == "reading" else f"{k} {v}"
                         for k, v in step["produced"].items() if k in ("ticket", "compartment", "reading"))
        extra = f" ({made})" if made else ""
        err = f" - {step['error']}" if step.get("error") else ""
        print(f"  {mark} {step['number']:02d} {step['step']}{extra}{err}")
    print(f"  screenshots and summary.json in {out}")
    print(f"  staff page (while a demo runs): {building.staff_page_url}")
