"""The kiosk's whole configuration: one TOML file, validated at start.

`[site]`, `[ui]` and `[technician]` belong to the kiosk; `[broker]`,
`[central]` and `[voice]` are validated by the subsystem that owns them.
Any problem raises ConfigError naming the key, in one line.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from devices import settings as devices_settings
from devices.settings import check_table as check_typed  # the one table checker kiosk uses
from sync import settings as sync_settings
from voice import settings as voice_settings

DEFAULT_PATH = "/etc/lobby-kiosk/kiosk.toml"
ENV_VAR = "LOBBY_KIOSK_CONFIG"
SECTIONS = ("site", "ui", "technician", "broker", "central", "voice")


class ConfigError(ValueError):
    """The configuration cannot be used; str() is the one-line reason."""


@dataclass(frozen=True)
class UiSettings:
    """How the touchscreen looks and behaves."""

    language: str = "zh"
    idle_timeout_s: int = 60
    idle_after_action_s: int = 15
    large_text: bool = False
    fullscreen: bool = True
    size: str = "1080x1920"
    diagonal_in: float = 21.5
    font_file: str | None = None

    @property
    def size_px(self) -> tuple[int, int]:
        """Panel size in pixels as (width, height)."""
        w, h = self.size.split("x")
        return int(w), int(h)

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre of the configured panel."""
        w, h = self.size_px
        return ((w * w + h * h) ** 0.5) / (self.diagonal_in * 25.4)


@dataclass(frozen=True)
class KioskConfig:
    """Validated configuration of one lobby kiosk."""

    building_name: str = "示范小区 1号楼"
    ui: UiSettings = field(default_factory=UiSettings)
    technician_pin_hash: str | None = field(default=None, repr=False)
    devices: devices_settings.DevicesSettings = field(default_factory=devices_settings.DevicesSettings)
    sync: sync_settings.SyncSettings = field(default_factory=sync_settings.SyncSettings)
    voice: voice_settings.VoiceSettings = field(default_factory=voice_settings.VoiceSettings)

    @property
    def building_id(self) -> str:
        return self.devices.building_id

    @property
    def kiosk_id(self) -> str:
        return self.devices.kiosk_id

    @property
    def state_dir(self) -> str:
        return self.devices.state_dir


_SITE_TYPES = {"building_id": str, "kiosk_id": str, "state_dir": str, "building_name": str}
_UI_TYPES: dict[str, Any] = {
    "language": str, "idle_timeout_s": int, "idle_after_action_s": int, "large_text": bool,
    "fullscreen": bool, "size": str, "diagonal_in": (int, float), "font_file": str,
}


def _check_table(doc: dict[str, Any], name: str, types: dict[str, Any]) -> dict[str, Any]:
    """Check table `name` of `doc` against key -> type(s) with the devices subsystem's checker
    (kiosk may import the subsystems; they carry their own copies because they may not import
    each other). Its errors become kiosk's ConfigError, worded the same way."""
    try:
        return check_typed(doc.get(name, {}), name, types)
    except devices_settings.ConfigError as err:
        raise ConfigError(str(err)) from None


def _ui(doc: dict[str, Any]) -> UiSettings:
    values = _check_table(doc, "ui", _UI_TYPES)
    if values.get("language", "zh") not in ("zh", "en"):
        raise ConfigError("ui.language: must be \"zh\" or \"en\"")
    if not 15 <= values.get("idle_timeout_s", 60) <= 3600:
        raise ConfigError("ui.idle_timeout_s: must be 15..3600")
    if not 5 <= values.get("idle_after_action_s", 15) <= 600:
        raise ConfigError("ui.idle_after_action_s: must be 5..600")
    size = values.get("size", "1080x1920")
    parts = size.split("x")
    if len(parts) != 2 or not all(p.isdigit() and 200 <= int(p) <= 8000 for p in parts):
        raise ConfigError("ui.size: must be WIDTHxHEIGHT in pixels, e.g. 1080x1920")
    if not 7 <= values.get("diagonal_in", 21.5) <= 100:
        raise ConfigError("ui.diagonal_in: must be 7..100 inches")
    if "font_file" in values and not os.path.isfile(values["font_file"]):
        raise ConfigError(f"ui.font_file: file not found: {values['font_file']}")
    return UiSettings(**values)


def from_document(doc: dict[str, Any]) -> KioskConfig:
    """Validate a parsed TOML document and build the KioskConfig."""
    for name in doc:
        if name not in SECTIONS:
            raise ConfigError(f"{name}: unknown section (known: {', '.join(SECTIONS)})")
    site = _check_table(doc, "site", _SITE_TYPES)
    tech = _check_table(doc, "technician", {"pin_hash": str})
    if "pin_hash" in tech:
        from kiosk.pin import parse_hash  # noqa: PLC0415 - keeps config import light

        try:
            parse_hash(tech["pin_hash"])
        except ValueError as err:
            raise ConfigError(f"technician.pin_hash: {err}") from None
    try:
        return KioskConfig(
            building_name=site.get("building_name", KioskConfig.building_name),
            ui=_ui(doc),
            technician_pin_hash=tech.get("pin_hash"),
            devices=devices_settings.from_document(doc),
            sync=sync_settings.from_document(doc),
            voice=voice_settings.from_document(doc),
        )
    except (devices_settings.ConfigError, sync_settings.ConfigError, voice_settings.ConfigError) as err:
        raise ConfigError(str(err)) from None


def resolve_path(path: str | None) -> str:
    """The config path: the argument, else $LOBBY_KIOSK_CONFIG, else the default."""
    return path or os.environ.get(ENV_VAR) or DEFAULT_PATH


def load(path: str | None = None) -> KioskConfig:
    """Read and validate the configuration file."""
    path = resolve_path(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config: file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config: {path} is not valid TOML: {err}") from None
    return from_document(doc)
