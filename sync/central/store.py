"""The reference central's storage: requests with idempotency keys, an update log, notices, ratings.

One SQLite connection behind a lock: simple and correct, fast enough for
a demo and the benchmarks (a batch of 100 is one transaction).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sync.errors import InvalidRequest
from sync.records import (
    MAX_NOTE,
    STATUSES,
    URGENCY_RANK,
    Notice,
    canonical_json,
    check_rating,
    check_wire_request,
    now_rfc3339,
)

TERMINAL = ("done", "cancelled")
UPDATES_PAGE = 200

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,              -- also the idempotency key
    body_hash TEXT NOT NULL,
    body TEXT NOT NULL,
    first_response TEXT NOT NULL,         -- replayed verbatim with 200
    kiosk_id TEXT NOT NULL,
    urgency_rank INTEGER NOT NULL,
    ticket TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    received_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating INTEGER,
    rating_comment TEXT
);
CREATE INDEX IF NOT EXISTS requests_kiosk ON requests(kiosk_id, seq);
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kiosk_id TEXT,                        -- NULL: for every kiosk (notices)
    kind TEXT NOT NULL,                   -- 'request' | 'notice'
    ref TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL, starts_at TEXT NOT NULL,
    ends_at TEXT, priority TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS heartbeats (kiosk_id TEXT PRIMARY KEY, body TEXT NOT NULL, received_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
"""


class Conflict(Exception):
    """The staff asked for a status change the request's state does not allow."""


class CentralStore:
    """The central's database. Thread-safe; every method is one transaction."""

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @staticmethod
    def _count(c: sqlite3.Connection, name: str, by: int = 1) -> None:
        c.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + ?", (name, by, by))

    def count(self, name: str, by: int = 1) -> None:
        """Add to a named counter (drops, faults): `/staff/v1/stats` shows them."""
        with self._tx() as c:
            self._count(c, name, by)

    # -- the contract ---------------------------------------------------------------------

    def submit(self, body: Any, key: str | None) -> tuple[int, dict[str, Any]]:
        """One request with the idempotency rules: 201 new, 200 same replay, 422 mismatch, 400 invalid."""
        with self._tx() as c:
            return self._submit(c, body, key)

    def submit_batch(self, bodies: list[Any]) -> list[dict[str, Any]]:
        """Several requests in one transaction; one result per request, in order."""
        results = []
        with self._tx() as c:
            self._count(c, "batches")
            for body in bodies:
                key = body.get("id") if isinstance(body, dict) and isinstance(body.get("id"), str) else None
                status, answer = self._submit(c, body, key)
                # "status" is the HTTP status of the single call; the request's own status moves aside
                if "status" in answer:
                    answer = {**answer, "request_status": answer["status"]}
                results.append({**answer, "status": status, "id": key})
        return results

    def _submit(self, c: sqlite3.Connection, body: Any, key: str | None) -> tuple[int, dict[str, Any]]:
        if not key:
            self._count(c, "invalid")
            return 400, error("invalid", "Idempotency-Key header is required", "Idempotency-Key")
        body_hash = hashlib.sha256(canonical_json(body).encode()).hexdigest()
        row = c.execute("SELECT body_hash, first_response FROM requests WHERE id=?", (key,)).fetchone()
        if row:
            if row[0] == body_hash:
                self._count(c, "replayed")
                return 200, json.loads(row[1])
            self._count(c, "mismatched")
            return 422, error("idempotency_mismatch", "this Idempotency-Key was used with a different body")
        try:
            request = check_wire_request(body)
        except InvalidRequest as err:
            self._count(c, "invalid")
            return 400, error("invalid", err.message, err.field)
        if body["id"] != key:
            self._count(c, "invalid")
            return 400, error("invalid", "Idempotency-Key differs from the body's id", "Idempotency-Key")
        now = now_rfc3339()
        cur = c.execute(
            "INSERT INTO requests (id, body_hash, body, first_response, kiosk_id, urgency_rank, ticket, status,"
            " received_at, updated_at) VALUES (?,?,?,'',?,?,'','pending',?,?)",
            (key, body_hash, canonical_json(body), body["kiosk_id"], URGENCY_RANK[request.urgency], now, now))
        ticket = str(100000 + cur.lastrowid)
        answer = {"id": key, "ticket": ticket, "status": "pending"}
        c.execute("UPDATE requests SET ticket=?, first_response=? WHERE id=?", (ticket, canonical_json(answer), key))
        c.execute("INSERT INTO updates (kiosk_id, kind, ref) VALUES (?, 'request', ?)", (body["kiosk_id"], key))
        self._count(c, "created")
        return 201, answer

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The stored request with ticket, status, note, updated_at."""
        with self._lock:
            row = self._db.execute("SELECT body, ticket, status, note, updated_at, rating, rating_comment"
                                   " FROM requests WHERE id=?", (request_id,)).fetchone()
        return _full(row) if row else None

    def list_for_kiosk(self, kiosk_id: str, limit: int, after: str | None) -> tuple[list[dict], str | None]:
        """The kiosk's requests oldest first, paged by id."""
        with self._lock:
            start = 0
            if after:
                row = self._db.execute("SELECT seq FROM requests WHERE id=?", (after,)).fetchone()
                if row is None:
                    raise InvalidRequest("after", "unknown request id")
                start = row[0]
            rows = self._db.execute(
                "SELECT body, ticket, status, note, updated_at, rating, rating_comment FROM requests"
                " WHERE kiosk_id=? AND seq>? ORDER BY seq LIMIT ?", (kiosk_id, start, limit + 1)).fetchall()
        items = [_full(r) for r in rows[:limit]]
        return items, (items[-1]["id"] if len(rows) > limit else None)

    def updates(self, kiosk_id: str, cursor: str | None) -> dict[str, Any]:
        """Changes after `cursor` for this kiosk: its requests' states and every notice, in order."""
        try:
            after = int(cursor) if cursor else 0
        except ValueError:
            raise InvalidRequest("cursor", "not a cursor this server gave out") from None
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, kind, ref FROM updates WHERE seq>? AND (kiosk_id=? OR kiosk_id IS NULL)"
                " ORDER BY seq LIMIT ?", (after, kiosk_id, UPDATES_PAGE)).fetchall()
            requests: dict[str, dict] = {}
            notices: dict[str, dict] = {}
            for _seq, kind, ref in rows:
                if kind == "request":
                    r = self._db.execute("SELECT id, ticket, status, note, updated_at FROM requests WHERE id=?",
                                         (ref,)).fetchone()
                    requests.pop(ref, None)
                    requests[ref] = dict(zip(("id", "ticket", "status", "note", "updated_at"), r, strict=True))
                else:
                    n = self._db.execute("SELECT id, title, body, starts_at, ends_at, priority FROM notices"
                                         " WHERE id=?", (ref,)).fetchone()
                    notices.pop(ref, None)
                    notices[ref] = dict(zip(("id", "title", "body", "starts_at", "ends_at", "priority"), n, strict=True))
        if requests or notices:
            self.count("updates_served", len(requests) + len(notices))
        new_cursor = str(rows[-1][0]) if rows else str(after)
        return {"cursor": new_cursor, "requests": list(requests.values()), "notices": list(notices.values())}

    def rate(self, request_id: str, stars: Any, comment: Any) -> dict[str, Any] | None:
        """Store a rating (the last one wins); None when the request is unknown."""
        stars, comment = check_rating(stars, comment)
        with self._tx() as c:
            n = c.execute("UPDATE requests SET rating=?, rating_comment=? WHERE id=?",
                          (stars, comment, request_id)).rowcount
        return {"id": request_id, "stars": stars, "comment": comment} if n else None

    def heartbeat(self, kiosk_id: str, body: dict[str, Any]) -> None:
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO heartbeats VALUES (?, ?, ?)",
                      (kiosk_id, canonical_json(body), now_rfc3339()))

    # -- staff --------------------------------------------------------------------------

    def pool(self, status: str | None = None) -> list[dict[str, Any]]:
        """The demand pool for staff: open requests first, then by urgency, oldest first."""
        sql = ("SELECT body, ticket, status, note, updated_at, rating, rating_comment FROM requests"
               + (" WHERE status=?" if status else "")
               + " ORDER BY status IN ('done','cancelled'), urgency_rank, seq LIMIT 500")
        with self._lock:
            rows = self._db.execute(sql, (status,) if status else ()).fetchall()
        return [_full(r) for r in rows]

    def set_status(self, request_id: str, status: Any, note: Any) -> dict[str, Any] | None:
        """Move a request to a new status (with an optional note for the resident); None if unknown."""
        if status not in STATUSES or status == "pending":
            raise InvalidRequest("status", "must be accepted, in_progress, done or cancelled")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            raise InvalidRequest("note", f"expected a string of at most {MAX_NOTE} characters")
        with self._tx() as c:
            row = c.execute("SELECT status, kiosk_id FROM requests WHERE id=?", (request_id,)).fetchone()
            if row is None:
                return None
            if row[0] in TERMINAL and row[0] != status:
                raise Conflict(f"request is already {row[0]}")
            c.execute("UPDATE requests SET status=?, note=?, updated_at=? WHERE id=?",
                      (status, note.strip() or None if note else None, now_rfc3339(), request_id))
            c.execute("INSERT INTO updates (kiosk_id, kind, ref) VALUES (?, 'request', ?)", (row[1], request_id))
        return self.get(request_id)

    def post_notice(self, d: Any) -> dict[str, Any]:
        """Publish (or replace, by id) a notice to every kiosk."""
        if not isinstance(d, dict):
            raise InvalidRequest("body", "expected a JSON object")
        wire = {"id": d.get("id") or uuid.uuid4().hex[:12], "title": d.get("title"), "body": d.get("body") or "",
                "starts_at": d.get("starts_at") or now_rfc3339(), "ends_at": d.get("ends_at"),
                "priority": d.get("priority") or "normal"}
        if "hours" in d:
            hours = d["hours"]
            if not isinstance(hours, int | float) or not 0 < hours <= 24 * 365:
                raise InvalidRequest("hours", "expected a number of hours")
            wire["ends_at"] = now_rfc3339(time.time() + hours * 3600)
        notice = Notice.from_wire(wire).to_wire()
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO notices VALUES (?,?,?,?,?,?)", tuple(notice.values()))
            c.execute("INSERT INTO updates (kiosk_id, kind, ref) VALUES (NULL, 'notice', ?)", (notice["id"],))
        return notice

    def notices(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT id, title, body, starts_at, ends_at, priority FROM notices"
                                    " ORDER BY starts_at DESC LIMIT 50").fetchall()
        return [dict(zip(("id", "title", "body", "starts_at", "ends_at", "priority"), r, strict=True)) for r in rows]

    def heartbeats(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT kiosk_id, body, received_at FROM heartbeats ORDER BY kiosk_id").fetchall()
        return [{"kiosk_id": k, "received_at": t, **json.loads(b)} for k, b, t in rows]

    def stats(self) -> dict[str, int]:
        with self._lock:
            counts = dict(self._db.execute("SELECT name, n FROM counters").fetchall())
            counts["requests"] = self._db.execute("SELECT count(*) FROM requests").fetchone()[0]
        for name in ("created", "replayed", "mismatched", "invalid", "dropped", "failed", "busy", "bad_response",
                     "batches", "updates_served", "unauthorized"):
            counts.setdefault(name, 0)
        return counts


def error(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    """The contract's error body."""
    return {"error": {"code": code, "message": message, "field": field}}


def _full(row: tuple) -> dict[str, Any]:
    body, ticket, status, note, updated_at, rating, comment = row
    out = json.loads(body)
    out.update(ticket=ticket, status=status, note=note, updated_at=updated_at)
    if rating is not None:
        out["rating"] = {"stars": rating, "comment": comment}
    return out
