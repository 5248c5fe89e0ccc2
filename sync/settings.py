"""Settings of the sync subsystem: the `[site]` ids it needs and `[central]`.

The whole configuration file is one TOML document (see docs/configuration.md).
This module reads only its own parts of it and validates them; an error names
the key and what is wrong in one line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


@dataclass(frozen=True)
class CentralSettings:
    """How the sync agent reaches the central service, and how the outbox is bounded."""

    url: str = "http://127.0.0.1:8080"
    token_file: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    verify_tls: bool = True
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    backoff_cap_s: float = 300.0
    backoff_base_s: float = 1.0
    batch_threshold: int = 20
    batch_size: int = 100
    poll_interval_s: float = 1.0
    pull_interval_s: float = 10.0
    heartbeat_interval_s: float = 60.0
    outbox_max_rows: int = 50_000
    outbox_max_mb: int = 200
    retention_days: int = 30

    def token(self) -> str | None:
        """Read the kiosk's bearer token from its file (never stored in the config)."""
        if not self.token_file:
            return None
        return Path(self.token_file).read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class SyncSettings:
    """Everything the sync subsystem needs to run."""

    building_id: str = "demo"
    kiosk_id: str = "kiosk-1"
    state_dir: str = "/var/lib/lobby-kiosk"
    central: CentralSettings = field(default_factory=CentralSettings)


_NUM = (int, float)
_CENTRAL_TYPES: dict[str, type | tuple[type, ...]] = {
    "url": str, "token_file": str, "ca_file": str, "verify_tls": bool,
    "connect_timeout_s": _NUM, "read_timeout_s": _NUM, "backoff_cap_s": _NUM,
    "backoff_base_s": _NUM, "batch_size": int, "poll_interval_s": _NUM,
    "batch_threshold": int, "pull_interval_s": _NUM, "heartbeat_interval_s": _NUM,
    "outbox_max_rows": int, "outbox_max_mb": int, "retention_days": int,
}
_CENTRAL_RANGES: dict[str, tuple[float, float]] = {
    # The low ends are small so tests can run the real agent fast; deployments keep the defaults.
    "connect_timeout_s": (0.05, 120), "read_timeout_s": (0.05, 600), "backoff_cap_s": (0.01, 3600),
    "backoff_base_s": (0.001, 60), "batch_size": (1, 100), "poll_interval_s": (0.01, 60),
    "batch_threshold": (2, 100), "pull_interval_s": (0.05, 3600), "heartbeat_interval_s": (0.1, 3600),
    "outbox_max_rows": (100, 10_000_000), "outbox_max_mb": (1, 100_000), "retention_days": (1, 3650),
}


def _typed(table: Any, prefix: str, types: dict[str, Any]) -> dict[str, Any]:
    """Check a TOML table against name -> type(s); refuse unknown keys.

    Each subsystem carries this small checker because the subsystems may not
    import each other (see docs/architecture.md).
    """
    if not isinstance(table, dict):
        raise ConfigError(prefix, "expected a table")
    for key, value in table.items():
        if key not in types:
            raise ConfigError(f"{prefix}.{key}", "unknown key")
        want = types[key] if isinstance(types[key], tuple) else (types[key],)
        if not isinstance(value, want) or (isinstance(value, bool) and bool not in want):
            names = "/".join(t.__name__ for t in want)
            raise ConfigError(f"{prefix}.{key}", f"expected {names}, got {type(value).__name__}")
    return dict(table)


def site_ids(doc: dict[str, Any]) -> dict[str, str]:
    """The `[site]` keys every subsystem shares: building_id, kiosk_id, state_dir."""
    site = doc.get("site", {})
    if not isinstance(site, dict):
        raise ConfigError("site", "expected a table")
    out: dict[str, str] = {}
    for key in ("building_id", "kiosk_id", "state_dir"):
        if key in site:
            if not isinstance(site[key], str):
                raise ConfigError(f"site.{key}", "expected string")
            out[key] = site[key]
    for key in ("building_id", "kiosk_id"):
        if key in out and not ID_PATTERN.match(out[key]):
            raise ConfigError(f"site.{key}", "must match [a-z0-9][a-z0-9-]{0,31}")
    return out


def central_from_table(table: Any) -> CentralSettings:
    """Validate the `[central]` table."""
    values = _typed(table, "central", _CENTRAL_TYPES)
    for key, (lo, hi) in _CENTRAL_RANGES.items():
        if key in values and not lo <= values[key] <= hi:
            raise ConfigError(f"central.{key}", f"must be {lo:g}..{hi:g}")
    if "url" in values and not values["url"].startswith(("http://", "https://")):
        raise ConfigError("central.url", "must start with http:// or https://")
    for key in ("token_file", "ca_file"):
        if key in values and not os.path.isfile(values[key]):
            raise ConfigError(f"central.{key}", f"file not found: {values[key]}")
    return CentralSettings(**values)


def from_document(doc: dict[str, Any]) -> SyncSettings:
    """Build SyncSettings from a parsed configuration document."""
    return SyncSettings(**site_ids(doc), central=central_from_table(doc.get("central", {})))


def load(path: str | os.PathLike[str]) -> SyncSettings:
    """Read and validate the configuration file at `path`."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config", f"not valid TOML: {err}") from None
    return from_document(doc)


def outbox_path(settings: SyncSettings) -> Path:
    """The outbox database shared by the kiosk app and the agent."""
    return Path(settings.state_dir) / "outbox.sqlite3"


def devices_summary_path(settings: SyncSettings) -> Path:
    """The device summary the kiosk writes and the agent sends with each heartbeat (docs/sync.md)."""
    return Path(settings.state_dir) / "devices-summary.json"
