"""Settings of the voice subsystem: the `[site]` ids it needs and `[voice]`.

The whole configuration file is one TOML document (see docs/configuration.md).
This module reads only its own parts of it and validates them; an error names
the key and what is wrong in one line.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from typing import Any

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


class ConfigError(ValueError):
    """A configuration value is missing, unknown, of the wrong type or out of range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


DEFAULT_MODEL_NAME = "vosk-model-small-cn-0.22"


@dataclass(frozen=True)
class VoiceSettings:
    """Everything the voice subsystem needs to run.

    A missing model is not a configuration error: voice then reports itself
    unavailable and the kiosk works by touch.
    """

    building_id: str = "demo"
    kiosk_id: str = "kiosk-1"
    state_dir: str = "/var/lib/lobby-kiosk"
    model_path: str | None = None
    input_device: str | None = None
    silence_s: float = 0.8
    max_utterance_s: float = 15.0
    no_speech_s: float = 8.0  # press-to-talk: give up when nobody speaks this long
    hands_free: bool = False
    energy_gate_dbfs: float = -40.0
    tts: bool = True
    tts_voice: str = "cmn"
    vocabulary_file: str | None = None

    def resolved_model_path(self) -> str:
        """The configured model directory, or the default one in the state directory."""
        return self.model_path or os.path.join(self.state_dir, "models", DEFAULT_MODEL_NAME)


_NUM = (int, float)
_VOICE_TYPES: dict[str, type | tuple[type, ...]] = {
    "model_path": str, "input_device": str, "silence_s": _NUM, "max_utterance_s": _NUM,
    "no_speech_s": _NUM, "hands_free": bool, "energy_gate_dbfs": _NUM, "tts": bool, "tts_voice": str,
    "vocabulary_file": str,
}
_VOICE_RANGES: dict[str, tuple[float, float]] = {
    "silence_s": (0.2, 5), "max_utterance_s": (2, 120), "no_speech_s": (1, 60),
    "energy_gate_dbfs": (-90, 0),
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


def from_document(doc: dict[str, Any]) -> VoiceSettings:
    """Build VoiceSettings from a parsed configuration document."""
    values = _typed(doc.get("voice", {}), "voice", _VOICE_TYPES)
    for key, (lo, hi) in _VOICE_RANGES.items():
        if key in values and not lo <= values[key] <= hi:
            raise ConfigError(f"voice.{key}", f"must be {lo:g}..{hi:g}")
    if "vocabulary_file" in values and not os.path.isfile(values["vocabulary_file"]):
        raise ConfigError("voice.vocabulary_file", f"file not found: {values['vocabulary_file']}")
    return VoiceSettings(**site_ids(doc), **values)


def load(path: str | os.PathLike[str]) -> VoiceSettings:
    """Read and validate the configuration file at `path`."""
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError("config", f"file not found: {path}") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config", f"not valid TOML: {err}") from None
    return from_document(doc)
