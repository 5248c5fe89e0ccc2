"""Settings of the devices subsystem: the `[site]` ids it needs and `[broker]`.

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
class BrokerSettings:
    """How the kiosk reaches its building's MQTT broker."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    username: str | None = None
    password_file: str | None = field(default=None, repr=False)
    keepalive_s: int = 30
    command_timeout_s: float = 5.0
    home_assistant_discovery: bool = False

    def password(self) -> str | None:
        """Read the broker password from its file (never stored in the config)."""
        if not self.password_file:
            return None
        return Path(self.password_file).read_text(encoding="utf-8").strip()


@dataclass(frozen=True)
class DevicesSettings:
    """Everything the devices subsystem needs to run."""

    building_id: str = "demo"
    kiosk_id: str = "kiosk-1"
    state_dir: str = "/var/lib/lobby-kiosk"
    broker: BrokerSettings = field(default_factory=BrokerSettings)


_BROKER_TYPES: dict[str, type | tuple[type, ...]] = {
    "host": str, "port": int, "tls": bool, "ca_file": str, "cert_file": str,
    "key_file": str, "username": str, "password_file": str, "keepalive_s": int,
    "command_timeout_s": (int, float), "home_assistant_discovery": bool,
}
_BROKER_FILES = ("ca_file", "cert_file", "key_file", "password_file")


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


check_table = _typed  # the public name, for kiosk.config (which composes every section's checks)


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


def broker_from_table(table: Any) -> BrokerSettings:
    """Validate the `[broker]` table."""
    values = _typed(table, "broker", _BROKER_TYPES)
    if not 1 <= values.get("port", 1883) <= 65535:
        raise ConfigError("broker.port", "must be 1..65535")
    if not 5 <= values.get("keepalive_s", 30) <= 600:
        raise ConfigError("broker.keepalive_s", "must be 5..600 seconds")
    if not 0.5 <= values.get("command_timeout_s", 5.0) <= 60:
        raise ConfigError("broker.command_timeout_s", "must be 0.5..60 seconds")
    for key in _BROKER_FILES:
        if key in values and not os.path.isfile(values[key]):
            raise ConfigError(f"broker.{key}", f"file not found: {values[key]}")
    return BrokerSettings(**values)


def from_document(doc: dict[str, Any]) -> DevicesSettings:
    """Build DevicesSettings from a parsed configuration document."""
    return DevicesSettings(**site_ids(doc), broker=broker_from_table(doc.get("broker", {})))


def load(path: str | os.PathLike[str]) -> DevicesSettings:
    """Read and validate the configuration file at `path`."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config", f"not valid TOML: {err}") from None
    return from_document(doc)
