"""The device summary the kiosk app writes for the heartbeat (sync may not import devices).

`<state_dir>/devices-summary.json`, written atomically by the kiosk, either
`{"devices": [...]}` or a bare list of `{"kind", "id", "availability", "fault"}`.
Missing means no devices; a bad file is logged once and sent as no devices.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MAX_DEVICES = 200
MAX_SUMMARY_BYTES = 256_000


class DeviceSummary:
    """Reads the summary file on each heartbeat; warns once per distinct problem."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._warned: str | None = None

    def devices(self) -> list[dict[str, Any]]:
        """The heartbeat's `devices` list, only the contract's keys."""
        try:
            if self.path.stat().st_size > MAX_SUMMARY_BYTES:
                raise ValueError("file too large")
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            items = doc.get("devices") if isinstance(doc, dict) else doc
            if not isinstance(items, list):
                raise ValueError("expected a list of devices")
            out = []
            for d in items[:MAX_DEVICES]:
                if not isinstance(d, dict) or not all(isinstance(d.get(k), str) for k in ("kind", "id", "availability")):
                    raise ValueError("each device needs kind, id and availability")
                fault = d.get("fault")
                out.append({"kind": d["kind"], "id": d["id"], "availability": d["availability"],
                            "fault": fault if isinstance(fault, str) else None})
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as err:
            if self._warned != str(err):
                log.warning("ignoring %s: %s", self.path, err)
                self._warned = str(err)
            return []
        self._warned = None
        return out
