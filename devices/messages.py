"""Typed messages of the building MQTT contract, one dataclass each, with from_payload/to_payload.

Every `from_payload` validates what it reads and raises `MessageError` with a short reason;
receivers log that reason and drop the message, so bad input never changes stored state.
The kinds' state objects and events live in `devices.kinds.<kind>`.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from devices import topics

MAX_PAYLOAD = 64 * 1024
AVAILABILITY = ("online", "offline")
ERROR_CODES = ("bad_code", "busy", "not_found", "jammed", "offline", "expired", "bad_request", "internal")
PICKUP_CODE = re.compile(r"^[0-9]{6}$")
_REPLY_TOPIC = re.compile(r"^lobby/v1/[a-z0-9][a-z0-9-]{0,31}/kiosk/[a-z0-9][a-z0-9-]{0,31}/reply$")


class MessageError(ValueError):
    """A payload that breaks the contract; the message is the reason (never the payload itself)."""


def now_iso() -> str:
    """The current time as an RFC 3339 UTC string with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(t: datetime) -> str:
    """`t` as an RFC 3339 UTC string."""
    return t.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: Any, name: str = "ts") -> datetime:
    """An RFC 3339 string with a time zone, as an aware datetime."""
    if not isinstance(value, str) or len(value) > 40:
        raise MessageError(f"{name}: expected an RFC 3339 string")
    try:
        t = datetime.fromisoformat(value)
    except ValueError:
        raise MessageError(f"{name}: not an RFC 3339 time") from None
    if t.tzinfo is None:
        raise MessageError(f"{name}: time zone missing")
    return t


def decode_json(payload: bytes) -> dict[str, Any]:
    """A JSON object from a payload of at most 64 KiB."""
    if len(payload) > MAX_PAYLOAD:
        raise MessageError(f"payload of {len(payload)} bytes is over 64 KiB")
    try:
        obj = json.loads(payload)
    except (UnicodeDecodeError, ValueError):
        raise MessageError("not valid UTF-8 JSON") from None
    if not isinstance(obj, dict):
        raise MessageError("not a JSON object")
    return obj


def encode_json(obj: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def field_of(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """`obj[name]` checked against `kind`; bools are never accepted as numbers."""
    if name not in obj:
        if optional:
            return None
        raise MessageError(f"{name}: missing")
    value = obj[name]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if value is None and optional:
        return None
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise MessageError(f"{name}: expected {'/'.join(k.__name__ for k in kinds)}")
    return value


def int_in(obj: dict[str, Any], name: str, low: int, high: int) -> int:
    """An integer field within [low, high]."""
    value = field_of(obj, name, int)
    if not low <= value <= high:
        raise MessageError(f"{name}: must be {low}..{high}")
    return value


def fault_of(obj: dict[str, Any]) -> str | None:
    """The `fault` field of a state object: null or a short code string."""
    fault = field_of(obj, "fault", str, optional=True)
    if fault is not None and not 0 < len(fault) <= 64:
        raise MessageError("fault: expected a short code")
    return fault


def parse_availability(payload: bytes) -> str:
    """`online` or `offline` (plain text)."""
    text = payload.decode("ascii", "replace").strip()
    if text not in AVAILABILITY:
        raise MessageError("availability: expected online or offline")
    return text


@dataclass(frozen=True)
class Command:
    """A command from a kiosk to one device."""

    id: str
    op: str
    args: dict[str, Any]
    reply_to: str
    expires: str

    @classmethod
    def new(cls, op: str, args: dict[str, Any] | None, reply_to: str, timeout_s: float) -> Command:
        """A fresh command with a uuid4 id that expires `timeout_s` from now."""
        expires = iso(datetime.now(UTC) + timedelta(seconds=timeout_s))
        return cls(str(uuid.uuid4()), op, dict(args or {}), reply_to, expires)

    @classmethod
    def from_payload(cls, payload: bytes) -> Command:
        obj = decode_json(payload)
        cmd_id = field_of(obj, "id", str)
        if not 0 < len(cmd_id) <= 64:
            raise MessageError("id: expected a uuid")
        op = field_of(obj, "op", str)
        if not topics.ID_PATTERN.match(op.replace("_", "-")):
            raise MessageError("op: expected a short name")
        args = field_of(obj, "args", dict, optional=True) or {}
        reply_to = field_of(obj, "reply_to", str)
        if not _REPLY_TOPIC.match(reply_to):
            raise MessageError("reply_to: expected lobby/v1/B/kiosk/K/reply")
        expires = field_of(obj, "expires", str)
        parse_time(expires, "expires")
        return cls(cmd_id, op, args, reply_to, expires)

    def to_payload(self) -> bytes:
        return encode_json({"id": self.id, "op": self.op, "args": self.args,
                            "reply_to": self.reply_to, "expires": self.expires})

    def expired(self, now: datetime | None = None) -> bool:
        """True once `expires` has passed."""
        return parse_time(self.expires, "expires") < (now or datetime.now(UTC))


@dataclass(frozen=True)
class Reply:
    """A device's answer to one command."""

    id: str
    ok: bool
    result: dict[str, Any] = field(default_factory=dict)
    code: str | None = None
    message: str = ""

    @classmethod
    def success(cls, cmd_id: str, result: dict[str, Any] | None = None) -> Reply:
        return cls(cmd_id, True, dict(result or {}))

    @classmethod
    def failure(cls, cmd_id: str, code: str, message: str = "") -> Reply:
        return cls(cmd_id, False, {}, code, message)

    @classmethod
    def from_payload(cls, payload: bytes) -> Reply:
        obj = decode_json(payload)
        cmd_id = field_of(obj, "id", str)
        ok = field_of(obj, "ok", bool)
        if ok:
            return cls(cmd_id, True, field_of(obj, "result", dict, optional=True) or {})
        error = field_of(obj, "error", dict)
        code = field_of(error, "code", str)
        if not 0 < len(code) <= 64:
            raise MessageError("error.code: expected a short code")
        message = field_of(error, "message", str, optional=True) or ""
        return cls(cmd_id, False, {}, code, message[:500])

    def to_payload(self) -> bytes:
        if self.ok:
            return encode_json({"id": self.id, "ok": True, "result": self.result})
        return encode_json({"id": self.id, "ok": False,
                            "error": {"code": self.code, "message": self.message}})


@dataclass(frozen=True)
class Event:
    """One event of a device: `type`, `ts` and the type's fields (checked by the kind's module)."""

    type: str
    ts: str
    fields: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.type, "ts": self.ts, **self.fields}

    def to_payload(self) -> bytes:
        return encode_json(self.to_dict())


@dataclass(frozen=True)
class Reading:
    """A blood-pressure reading (mmHg, beats per minute)."""

    systolic: int
    diastolic: int
    pulse: int
    irregular: bool = False

    @classmethod
    def from_fields(cls, obj: dict[str, Any]) -> Reading:
        return cls(int_in(obj, "systolic", 50, 300), int_in(obj, "diastolic", 30, 200),
                   int_in(obj, "pulse", 30, 250), field_of(obj, "irregular", bool))

    def to_fields(self) -> dict[str, Any]:
        return {"systolic": self.systolic, "diastolic": self.diastolic,
                "pulse": self.pulse, "irregular": self.irregular}


@dataclass(frozen=True)
class KioskState:
    """The kiosk's retained `state`: software version, voice and outbox health."""

    version: str
    voice_ready: bool = False
    outbox_depth: int = 0
    oldest_pending_s: float | None = None
    ts: str = ""

    @classmethod
    def from_payload(cls, payload: bytes) -> KioskState:
        obj = decode_json(payload)
        version = field_of(obj, "version", str)
        voice_ready = field_of(obj, "voice_ready", bool)
        depth = field_of(obj, "outbox_depth", int)
        if depth < 0:
            raise MessageError("outbox_depth: must be >= 0")
        oldest = field_of(obj, "oldest_pending_s", (int, float), optional=True)
        ts = field_of(obj, "ts", str)
        parse_time(ts)
        return cls(version, voice_ready, depth, oldest, ts)

    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "voice_ready": self.voice_ready, "outbox_depth": self.outbox_depth,
                "oldest_pending_s": self.oldest_pending_s, "ts": self.ts or now_iso()}

    def to_payload(self) -> bytes:
        return encode_json(self.to_dict())
