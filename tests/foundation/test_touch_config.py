"""The touch set-up docs/deployment.md recommends leaves Kivy exactly one reader of the touchscreen.

Each `[input]` snippet of the doc's "Touch input" section is written as
config.ini into a fresh KIVY_HOME; a separate Python then loads Kivy's real
configuration from it and applies the app's own `configure_window()`, and
reports the input providers Kivy would start. Two readers of one touchscreen
(SDL's pointer through the `mouse` provider, and probesysfs -> mtdev/hidinput)
make every tap count twice.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "deployment.md"

PROBE = """
import json
from kiosk.app import configure_window
from kiosk.config import KioskConfig
configure_window(KioskConfig())
from kivy.config import Config
print(json.dumps({"input": dict(Config.items("input")), "rotation": Config.get("graphics", "rotation")}))
"""


def touch_snippets() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("### Touch input"):]
    section = section[:section.index("\n### ", 1)]
    return re.findall(r"```ini\n(.*?)```", section, re.S)


def kivy_config(tmp_path: Path, ini: str, **extra_env: str) -> dict:
    """Kivy's [input] section and rotation after config.ini = `ini`, the environment and the app's settings."""
    home = tmp_path / "kivy"
    home.mkdir()
    (home / "config.ini").write_text(ini, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KIVY_NO_CONFIG" and not k.startswith("KCFG_")}
    env.update(KIVY_HOME=str(home), KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_LOG_MODE="PYTHON", **extra_env)
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                            env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def providers(tmp_path: Path, ini: str) -> dict[str, str]:
    return kivy_config(tmp_path, ini)["input"]


def touchscreen_readers(inputs: dict[str, str]) -> list[str]:
    """Providers that read the touchscreen: `mouse` (SDL's pointer) and Kivy's own device providers."""
    names = [value.split(",")[0].strip() for value in inputs.values()]
    return [n for n in names if n in ("mouse", "probesysfs", "mtdev", "hidinput")]


def test_kivy_defaults_with_the_app_read_the_touchscreen_twice(tmp_path):
    """The pitfall is real: without the doc's set-up, Kivy starts two readers."""
    assert sorted(touchscreen_readers(providers(tmp_path, "[kivy]\n"))) == ["mouse", "probesysfs"]


def test_the_recommended_setup_leaves_only_sdls_pointer(tmp_path):
    recommended = touch_snippets()[0]
    assert touchscreen_readers(providers(tmp_path, recommended)) == ["mouse"]


def test_the_multitouch_setup_leaves_one_kivy_provider_and_silences_sdls_pointer(tmp_path):
    snippets = touch_snippets()
    assert len(snippets) == 2, "expected the recommended and the multi-touch [input] snippets"
    inputs = providers(tmp_path, snippets[1])
    kivy_readers = [r for r in touchscreen_readers(inputs) if r != "mouse"]
    assert kivy_readers == ["probesysfs"]
    assert "provider=mtdev" in inputs["%(name)s"]
    # `mouse` stays (the app sets it) but, with SDL's touch-to-mouse events off, sees only a real mouse.
    section = DOC.read_text(encoding="utf-8").split("For real multi-touch instead", 1)[1].split("\nCheck:", 1)[0]
    assert "Environment=SDL_TOUCH_MOUSE_EVENTS=0" in section


def test_portrait_rotation_from_the_unit_environment_survives_the_apps_settings(tmp_path):
    """docs/deployment.md rotates a landscape panel with KCFG_GRAPHICS_ROTATION; the app must not undo it."""
    assert "Environment=KCFG_GRAPHICS_ROTATION=90" in DOC.read_text(encoding="utf-8")
    assert kivy_config(tmp_path, "[kivy]\n", KCFG_GRAPHICS_ROTATION="90")["rotation"] == "90"
