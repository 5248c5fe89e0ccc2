"""`lobby-kiosk screenshot`: render one screen in its demo state, headless, to a PNG.

No network: the service layer runs with no subsystem (Services.offline), and
each screen's show_demo_state() fills in representative content.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from kiosk import config

log = logging.getLogger(__name__)
HEADLESS_ENV = {
    "KIVY_NO_ARGS": "1", "KIVY_NO_CONFIG": "1", "KIVY_NO_FILELOG": "1", "KIVY_LOG_MODE": "PYTHON",
    "KIVY_WINDOW": "sdl2", "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy",
}
SETTLE_FRAMES = 4


class ScreenshotError(RuntimeError):
    """The screenshot could not be made; str() is the reason."""


def parse_size(text: str) -> tuple[int, int]:
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and 200 <= int(p) <= 8000 for p in parts):
        raise ScreenshotError(f"--size must be WIDTHxHEIGHT in pixels, e.g. 1080x1920 (got {text!r})")
    return int(parts[0]), int(parts[1])


def _config(path: str | None, state_dir: str) -> config.KioskConfig:
    """The configured kiosk if a config file is given, else defaults; state in a temp folder."""
    cfg = config.load(path) if path else config.KioskConfig()
    return replace(cfg, devices=replace(cfg.devices, state_dir=state_dir),
                   sync=replace(cfg.sync, state_dir=state_dir))


def render(screen: str, out: str | os.PathLike[str], *, large_text: bool = False, lang: str = "zh",
           size: tuple[int, int] = (1080, 1920), config_path: str | None = None) -> Path:
    """Render `screen` to the PNG `out`; ScreenshotError with the reason when it cannot."""
    for key, value in HEADLESS_ENV.items():
        os.environ.setdefault(key, value)
    from kiosk.screens import SCREENS, MissingScreen, screen_class  # noqa: PLC0415

    if screen not in SCREENS:
        raise ScreenshotError(f"unknown screen {screen!r} (known: {', '.join(SCREENS)})")
    out_path = Path(out).resolve()
    if not out_path.parent.is_dir():
        raise ScreenshotError(f"folder does not exist: {out_path.parent}")
    with tempfile.TemporaryDirectory(prefix="lobby-shot-") as tmp:
        cfg = _config(config_path, tmp)
        cfg = replace(cfg, ui=replace(cfg.ui, language=lang, large_text=large_text, fullscreen=False))
        from kiosk.app import KioskApp, configure_window  # noqa: PLC0415

        configure_window(cfg, size=size, fullscreen=False)
        try:
            screen_class(screen, strict=True)
        except MissingScreen as err:
            raise ScreenshotError(str(err)) from None
        from kivy.clock import Clock  # noqa: PLC0415
        from kivy.core.window import Window  # noqa: PLC0415

        from kiosk.services import Services  # noqa: PLC0415

        w, h = size
        px_per_mm = ((w * w + h * h) ** 0.5) / (cfg.ui.diagonal_in * 25.4)
        app = KioskApp(cfg, services=Services.offline(cfg), px_per_mm=px_per_mm)
        result: dict[str, object] = {}

        def shoot(_dt: float) -> None:
            try:
                name = Window.screenshot(name=str(Path(tmp) / "shot.png"))
                result["path"] = name
            except Exception as err:  # reported to the caller, the app must still stop
                result["error"] = err
            app.stop()

        def stage(_dt: float) -> None:
            try:
                if screen != "home":
                    app.navigate(screen)
                app.screen(screen).show_demo_state()
            except Exception as err:  # reported to the caller, the app must still stop
                result["error"] = err
                app.stop()
                return
            Clock.schedule_once(lambda _d: Clock.schedule_once(shoot, 0.05), 0.05 * SETTLE_FRAMES)

        app.bind(on_interactive=lambda *_a: Clock.schedule_once(stage, 0))
        Window.size = size
        app.run()
        if "error" in result:
            err = result["error"]
            raise ScreenshotError(f"{screen}: {type(err).__name__}: {err}")
        if not result.get("path") or not Path(str(result["path"])).is_file():
            raise ScreenshotError("the window could not be captured")
        shutil.move(str(result["path"]), out_path)
    return out_path


def main(args: argparse.Namespace) -> int:
    """Entry point used by `lobby-kiosk screenshot` (args: screen, out, large_text, lang, size)."""
    try:
        size = parse_size(args.size)
        path = render(args.screen, args.out, large_text=args.large_text, lang=args.lang, size=size,
                      config_path=getattr(args, "config", None))
    except (ScreenshotError, config.ConfigError) as err:
        print(f"lobby-kiosk screenshot: {err}", file=sys.stderr)
        return 1
    print(path)
    return 0
