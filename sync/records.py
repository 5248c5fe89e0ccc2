"""Typed records of the central API contract and their checks (shared with the reference server).

One dataclass per message: the request a resident confirmed (`RequestBody`),
the status updates and notices pulled back (`Update`, `Notice`), and the
views the kiosk reads from the outbox (`Enqueued`, `RequestView`,
`OutboxHealth`). Every value from outside passes `from_dict`/`from_wire`
before it touches state; a problem raises InvalidRequest naming the field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sync.errors import InvalidRequest

CATEGORIES = (
    "repair", "public_facility", "sanitation", "safety", "medical", "elderly_care",
    "parcel", "parking", "neighbor", "consult", "activity", "other",
)
URGENCIES = ("urgent", "high", "normal", "low")  # in sending order
URGENCY_RANK = {u: i for i, u in enumerate(URGENCIES)}
CHANNELS = ("voice", "touch")
STATUSES = ("pending", "accepted", "in_progress", "done", "cancelled")
STATUS_LABELS = {"pending": "待接收", "accepted": "已受理", "in_progress": "处理中",
                 "done": "已办结", "cancelled": "已取消"}
DELIVERIES = ("pending", "sending", "delivered", "rejected")
PRIORITIES = ("normal", "high")

# Field limits (characters). The contract names the fields; these bounds are ours (docs/sync.md).
MAX_SUMMARY = 200
MAX_TRANSCRIPT = 2000
MAX_LOCATION = 200
MAX_ROOM = 32
MAX_TAGS = 10
MAX_TAG = 32
MAX_NOTE = 500
MAX_COMMENT = 500
MAX_ID = 64
PHONE = re.compile(r"^[0-9]{3,20}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
KIOSK_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
HEALTH_RANGES = {"systolic": (40, 300), "diastolic": (20, 200), "pulse": (20, 250)}


def now_rfc3339(ts: float | None = None) -> str:
    """UTC time as RFC 3339 with milliseconds, e.g. 2026-11-22T01:02:03.456Z."""
    dt = datetime.now(UTC) if ts is None else datetime.fromtimestamp(ts, UTC)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(value: Any, field: str) -> float:
    """Epoch seconds of an RFC 3339 time with an offset; InvalidRequest otherwise."""
    if not isinstance(value, str) or len(value) > 40:
        raise InvalidRequest(field, "expected an RFC 3339 time")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidRequest(field, "expected an RFC 3339 time") from None
    if dt.tzinfo is None:
        raise InvalidRequest(field, "time needs a UTC offset")
    return dt.timestamp()


def canonical_json(obj: Any) -> str:
    """The one serialisation used for stored and sent bodies (so retries are byte-identical)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _text(d: dict, key: str, limit: int, *, required: bool = False, prefix: str = "") -> str | None:
    value = d.get(key)
    name = prefix + key
    if value is None:
        if required:
            raise InvalidRequest(name, "is required")
        return None
    if not isinstance(value, str):
        raise InvalidRequest(name, "expected a string")
    value = value.strip()
    if required and not value:
        raise InvalidRequest(name, "must not be empty")
    if len(value) > limit:
        raise InvalidRequest(name, f"longer than {limit} characters")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise InvalidRequest(name, "contains control characters")
    return value or None


def _choice(d: dict, key: str, allowed: tuple[str, ...], prefix: str = "") -> str:
    value = d.get(key)
    if value not in allowed:
        raise InvalidRequest(prefix + key, f"must be one of {', '.join(allowed)}")
    return value


def _only_keys(d: Any, allowed: set[str], name: str) -> dict:
    if not isinstance(d, dict):
        raise InvalidRequest(name or "body", "expected a JSON object")
    for key in d:
        if key not in allowed:
            raise InvalidRequest(f"{name}.{key}" if name else key, "unknown field")
    return d


@dataclass(frozen=True)
class Health:
    """A blood-pressure reading the resident chose to send with a request (extension, docs/sync.md)."""

    systolic: int
    diastolic: int
    pulse: int
    irregular: bool = False

    @classmethod
    def from_dict(cls, d: Any) -> Health:
        d = _only_keys(d, {"systolic", "diastolic", "pulse", "irregular"}, "health")
        values: dict[str, Any] = {}
        for key, (lo, hi) in HEALTH_RANGES.items():
            v = d.get(key)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise InvalidRequest(f"health.{key}", f"expected a whole number {lo}..{hi}")
            values[key] = v
        irregular = d.get("irregular", False)
        if not isinstance(irregular, bool):
            raise InvalidRequest("health.irregular", "expected true or false")
        return cls(irregular=irregular, **values)

    def to_dict(self) -> dict[str, Any]:
        return {"systolic": self.systolic, "diastolic": self.diastolic, "pulse": self.pulse,
                "irregular": self.irregular}


_BODY_KEYS = {"channel", "category", "urgency", "summary", "transcript", "location", "contact",
              "tags", "health"}
_WIRE_KEYS = _BODY_KEYS | {"id", "kiosk_id", "building_id", "created_at", "health_consent"}


@dataclass(frozen=True)
class RequestBody:
    """What the resident confirmed: the contract's request without id/created_at/kiosk_id/building_id."""

    channel: str
    category: str
    urgency: str
    summary: str
    transcript: str | None = None
    location: str | None = None
    room: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    health: Health | None = None

    @classmethod
    def from_dict(cls, d: Any, *, wire: bool = False) -> RequestBody:
        """Validate a request body (or with wire=True the whole contract body); InvalidRequest if bad."""
        d = _only_keys(d, _WIRE_KEYS if wire else _BODY_KEYS, "")
        channel = _choice(d, "channel", CHANNELS)
        category = _choice(d, "category", CATEGORIES)
        urgency = _choice(d, "urgency", URGENCIES)
        summary = _text(d, "summary", MAX_SUMMARY, required=True)
        transcript = _text(d, "transcript", MAX_TRANSCRIPT)
        if transcript and channel != "voice":
            raise InvalidRequest("transcript", "only voice requests carry a transcript")
        location = _text(d, "location", MAX_LOCATION)
        contact = d.get("contact") or {}
        _only_keys(contact, {"room", "phone"}, "contact")
        room = _text(contact, "room", MAX_ROOM, prefix="contact.")
        phone = contact.get("phone")
        if phone is not None and (not isinstance(phone, str) or not PHONE.match(phone)):
            raise InvalidRequest("contact.phone", "expected 3 to 20 digits, nothing else")
        tags = d.get("tags") or []
        if not isinstance(tags, list) or len(tags) > MAX_TAGS:
            raise InvalidRequest("tags", f"expected a list of at most {MAX_TAGS} strings")
        for i, tag in enumerate(tags):
            if not isinstance(tag, str) or not 1 <= len(tag) <= MAX_TAG:
                raise InvalidRequest(f"tags[{i}]", f"expected a string of 1..{MAX_TAG} characters")
        health = Health.from_dict(d["health"]) if d.get("health") is not None else None
        return cls(channel, category, urgency, summary or "", transcript, location, room, phone,
                   tuple(tags), health)

    def to_wire(self, request_id: str, kiosk_id: str, building_id: str, created_at: str) -> dict[str, Any]:
        """The contract's JSON body. A health reading is only ever in it with health_consent."""
        body: dict[str, Any] = {
            "id": request_id, "kiosk_id": kiosk_id, "building_id": building_id,
            "created_at": created_at, "channel": self.channel, "category": self.category,
            "urgency": self.urgency, "summary": self.summary, "transcript": self.transcript,
            "location": self.location, "contact": {"room": self.room, "phone": self.phone},
            "tags": list(self.tags),
        }
        if self.health is not None:
            body["health"] = self.health.to_dict()
            body["health_consent"] = True
        return body


def check_wire_request(d: Any) -> RequestBody:
    """Validate a whole contract body as the central receives it (the reference server uses this)."""
    body = RequestBody.from_dict(d, wire=True)
    if not isinstance(d.get("id"), str) or not UUID4.match(d["id"]):
        raise InvalidRequest("id", "expected a lowercase uuid4")
    for key in ("kiosk_id", "building_id"):
        if not isinstance(d.get(key), str) or not KIOSK_ID.match(d[key]):
            raise InvalidRequest(key, "must match [a-z0-9][a-z0-9-]{0,31}")
    parse_rfc3339(d.get("created_at"), "created_at")
    if body.health is not None and d.get("health_consent") is not True:
        raise InvalidRequest("health", "a health reading needs health_consent: true")
    return body


@dataclass(frozen=True)
class Update:
    """One request's state as the central reports it in /updates."""

    id: str
    ticket: str | None
    status: str
    note: str | None
    updated_at: str

    @classmethod
    def from_wire(cls, d: Any) -> Update:
        d = _only_keys(d, {"id", "ticket", "status", "note", "updated_at"}, "request")
        if not isinstance(d.get("id"), str) or not UUID4.match(d["id"]):
            raise InvalidRequest("request.id", "expected a uuid4")
        ticket = _text(d, "ticket", MAX_ID, prefix="request.")
        status = _choice(d, "status", STATUSES, "request.")
        note = _text(d, "note", MAX_NOTE, prefix="request.")
        parse_rfc3339(d.get("updated_at"), "request.updated_at")
        return cls(d["id"], ticket, status, note, d["updated_at"])


@dataclass(frozen=True)
class Notice:
    """A notice from the property office, shown on the home screen while active."""

    id: str
    title: str
    body: str
    starts_at: str
    ends_at: str | None
    priority: str

    @classmethod
    def from_wire(cls, d: Any) -> Notice:
        d = _only_keys(d, {"id", "title", "body", "starts_at", "ends_at", "priority"}, "notice")
        nid = _text(d, "id", MAX_ID, required=True, prefix="notice.")
        title = _text(d, "title", 100, required=True, prefix="notice.")
        body = _text(d, "body", 2000, prefix="notice.") or ""
        start = parse_rfc3339(d.get("starts_at"), "notice.starts_at")
        if d.get("ends_at") is not None and parse_rfc3339(d["ends_at"], "notice.ends_at") < start:
            raise InvalidRequest("notice.ends_at", "ends before it starts")
        priority = _choice(d, "priority", PRIORITIES, "notice.")
        return cls(nid or "", title or "", body, d["starts_at"], d.get("ends_at"), priority)

    def to_wire(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "body": self.body, "starts_at": self.starts_at,
                "ends_at": self.ends_at, "priority": self.priority}


def check_rating(stars: Any, comment: Any) -> tuple[int, str | None]:
    """Validate a rating: 1..5 stars and an optional short comment."""
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise InvalidRequest("stars", "expected a whole number 1..5")
    return stars, _text({"comment": comment}, "comment", MAX_COMMENT)


@dataclass(frozen=True)
class Enqueued:
    """A request the outbox holds durably: its uuid and the ticket shown until the central's arrives."""

    id: str
    local_ticket: str


@dataclass(frozen=True)
class RequestView:
    """A request as the kiosk shows it. `status` is what the resident sees, `delivery` the outbox state."""

    id: str
    local_ticket: str
    ticket: str | None
    status: str
    delivery: str
    category: str
    urgency: str
    summary: str
    room: str | None = field(repr=False)  # personal: kept out of reprs (and so out of logs)
    note: str | None
    created_at: str
    updated_at: str
    rating: int | None
    attempts: int = 0
    last_error: str | None = None
    phone: str | None = field(default=None, repr=False)  # the call-back number as sent; shown masked

    @property
    def display_ticket(self) -> str:
        """The central ticket once known, else the local one."""
        return self.ticket or self.local_ticket


@dataclass(frozen=True)
class OutboxHealth:
    """What technicians see of the sync link (`lobby-sync status`, the technician screen)."""

    depth: int
    oldest_pending_s: float | None
    last_success: float | None
    last_error: str | None
    cursor: str | None
    rejected: int
    alarm: str | None
    capacity_warning: str | None
    rows: int = 0
    size_mb: float = 0.0
    last_error_at: float | None = None
    agent_seen: float | None = None
    next_attempt_in_s: float | None = None
