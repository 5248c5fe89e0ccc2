"""The device summary the kiosk writes for the sync agent's heartbeat (docs/kiosk.md).

The agent may not import devices/, so the kiosk writes what it knows to the
file `sync.settings.devices_summary_path()` names (`<state_dir>/devices-summary.json`),
atomically (temp file + rename); the agent sends its `devices` with each heartbeat:
{"version", "ts", "voice_ready", "broker_connected",
 "devices": [{"kind", "id", "availability", "fault", "last_seen"}]}
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any


def device_rows(devices: list[Any]) -> list[dict[str, Any]]:
    """The heartbeat's device entries (no personal data: kinds, ids, availability, fault)."""
    return [
        {"kind": d.kind, "id": d.id, "availability": d.availability, "fault": d.fault,
         "last_seen": d.last_seen}
        for d in devices
    ]


def write_summary(path: str | os.PathLike[str], devices: list[Any], *, voice_ready: bool,
                  broker_connected: bool, version: str, now: float | None = None) -> Path:
    """Write the summary atomically to `path`; returns it. OSError if the folder is unwritable."""
    target = Path(path)
    folder = target.parent
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": version,
        "ts": time.time() if now is None else now,
        "voice_ready": voice_ready,
        "broker_connected": broker_connected,
        "devices": device_rows(devices),
    }
    fd, tmp = tempfile.mkstemp(prefix=".devices-summary-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def read_summary(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The last summary written, or None when missing or unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
