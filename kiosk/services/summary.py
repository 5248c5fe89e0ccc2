"""The device summary the kiosk writes for the sync agent's heartbeat (docs/kiosk.md).

The agent may not import devices/, so the kiosk writes what it knows to
`<state_dir>/kiosk-status.json` (atomically: temp file + rename):
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

FILE_NAME = "kiosk-status.json"


def device_rows(devices: list[Any]) -> list[dict[str, Any]]:
    """The heartbeat's device entries (no personal data: kinds, ids, availability, fault)."""
    return [
        {"kind": d.kind, "id": d.id, "availability": d.availability, "fault": d.fault,
         "last_seen": d.last_seen}
        for d in devices
    ]


def write_summary(state_dir: str | os.PathLike[str], devices: list[Any], *, voice_ready: bool,
                  broker_connected: bool, version: str, now: float | None = None) -> Path:
    """Write the summary atomically; returns its path. OSError if the directory is unwritable."""
    folder = Path(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": version,
        "ts": time.time() if now is None else now,
        "voice_ready": voice_ready,
        "broker_connected": broker_connected,
        "devices": device_rows(devices),
    }
    fd, tmp = tempfile.mkstemp(prefix=".kiosk-status-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.replace(tmp, folder / FILE_NAME)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / FILE_NAME


def read_summary(state_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The last summary written, or None when missing or unreadable."""
    try:
        return json.loads((Path(state_dir) / FILE_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
