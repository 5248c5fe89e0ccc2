"""The durable outbox: one SQLite file in the state directory, shared by the kiosk app and the agent.

The kiosk enqueues requests, reads their status and notices and stores
ratings; the agent (`lobby-sync run`, another process) claims rows, records
what the central answered and writes pulled updates. WAL mode with
synchronous=FULL: a call that returns has reached the disk. Every write is
one short `BEGIN IMMEDIATE` transaction; each thread gets its own connection.

Delivery states: pending -> sending -> delivered | rejected; a failed send
goes back to pending with a next-attempt time. See docs/sync.md.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sync.errors import InvalidRequest, OutboxError, OutboxFull
from sync.records import (
    URGENCY_RANK,
    Enqueued,
    Notice,
    OutboxHealth,
    RequestBody,
    RequestView,
    Update,
    canonical_json,
    check_rating,
    now_rfc3339,
    parse_rfc3339,
)
from sync.settings import SyncSettings, outbox_path

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000
WAL_AUTOCHECKPOINT_PAGES = 10_000  # about 40 MB of WAL before a writer checkpoints itself
WARN_FRACTION = 0.5  # the technician screen warns when the outbox is half full
EVICT_CHUNK = 100

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id TEXT PRIMARY KEY,
    local_ticket TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,                  -- the exact JSON sent, so retries are byte-identical
    category TEXT NOT NULL,
    urgency TEXT NOT NULL,
    urgency_rank INTEGER NOT NULL,       -- 0 = urgent: sent first
    summary TEXT NOT NULL,
    room TEXT,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL,
    delivery TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ts REAL NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_ts REAL,
    ticket TEXT,
    status TEXT NOT NULL DEFAULT 'pending',
    note TEXT,
    updated_at TEXT NOT NULL,
    rating INTEGER,
    rating_comment TEXT,
    rating_state TEXT                    -- NULL, 'pending' (to send), 'sent', 'rejected'
);
CREATE INDEX IF NOT EXISTS requests_queue ON requests(delivery, urgency_rank, created_ts);
CREATE INDEX IF NOT EXISTS requests_created ON requests(created_ts);
CREATE INDEX IF NOT EXISTS requests_room ON requests(room);
CREATE INDEX IF NOT EXISTS requests_ticket ON requests(ticket);
CREATE INDEX IF NOT EXISTS requests_rating ON requests(rating_state);
CREATE TABLE IF NOT EXISTS notices (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT NOT NULL,
    starts_at TEXT NOT NULL, ends_at TEXT, starts_ts REAL NOT NULL, ends_ts REAL,
    priority TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
INSERT OR IGNORE INTO counts VALUES ('rows', 0);
CREATE TRIGGER IF NOT EXISTS requests_count_ins AFTER INSERT ON requests
    BEGIN UPDATE counts SET n = n + 1 WHERE name = 'rows'; END;
CREATE TRIGGER IF NOT EXISTS requests_count_del AFTER DELETE ON requests
    BEGIN UPDATE counts SET n = n - 1 WHERE name = 'rows'; END;
"""

_VIEW_COLUMNS = ("id, local_ticket, ticket, status, delivery, category, urgency, summary, room, note, "
                 "created_at, updated_at, rating, attempts, last_error, json_extract(body, '$.contact.phone')")


@dataclass(frozen=True)
class Claimed:
    """A row the agent is sending: its id, the exact body and its urgency."""

    id: str
    body: str
    urgency: str


@dataclass(frozen=True)
class DueRating:
    """A rating stored by the kiosk that the agent still has to send."""

    id: str
    stars: int
    comment: str | None


class Outbox:
    """The outbox file. Safe to use from several threads and from several processes."""

    def __init__(self, path: str | os.PathLike[str], settings: SyncSettings,
                 clock: Callable[[], float] = time.time) -> None:
        """Prefer `Outbox.open(settings)`; `clock` is a seam for tests of time-based rules."""
        self.path = str(path)
        self.settings = settings
        self.clock = clock
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    @classmethod
    def open(cls, settings: SyncSettings, clock: Callable[[], float] = time.time) -> Outbox:
        """Open (creating if needed) `<state_dir>/outbox.sqlite3`."""
        path = outbox_path(settings)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutboxError(f"cannot create state directory {path.parent}: {err}") from err
        box = cls(path, settings, clock)
        with box._errors("open"):
            conn = box._conn()
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise OutboxError(f"cannot switch {path} to WAL (got {mode})")
            if conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                # One script, one transaction; IF NOT EXISTS makes a race with the other process harmless.
                conn.executescript(f"BEGIN IMMEDIATE;{_SCHEMA}PRAGMA user_version={SCHEMA_VERSION};COMMIT;")
        return box

    # -- connections ---------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise OutboxError("outbox is closed")
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                       check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA synchronous=FULL")
                # Checkpoints are the agent's job (checkpoint(), between rounds), so a resident's
                # enqueue rarely pays for one; this only bounds the WAL when no agent runs.
                conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            except sqlite3.Error as err:
                raise OutboxError(f"cannot open outbox {self.path}: {err}") from err
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def checkpoint(self) -> None:
        """Copy the WAL into the database file without waiting for readers (the agent calls this)."""
        with self._errors("checkpoint"):
            self._conn().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as err:
            raise OutboxError(f"outbox {what} failed: {err}") from err

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, taken at once (BEGIN IMMEDIATE) so it never deadlocks."""
        conn = self._conn()
        with self._errors("write"):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A consistent snapshot for several reads."""
        conn = self._conn()
        with self._errors("read"):
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection this object opened (from any thread)."""
        with self._lock:
            conns, self._all = self._all, []
            self._closed = True
        for conn in conns:
            try:
                conn.close()
            except sqlite3.Error:
                pass

    # -- the kiosk's side --------------------------------------------------------------

    def enqueue(self, body: dict[str, Any], health_consent: bool = False) -> Enqueued:
        """Validate and durably store one request; returns its uuid and local ticket.

        Raises InvalidRequest (nothing stored) or OutboxFull. A health reading is
        dropped unless `health_consent` is true.
        """
        request = RequestBody.from_dict(body)
        if request.health is not None and not health_consent:
            log.info("health reading not stored: the resident did not consent")
            request = replace(request, health=None)
        rid = str(uuid.uuid4())
        now = self.clock()
        created_at = now_rfc3339(now)
        wire = canonical_json(request.to_wire(rid, self.settings.kiosk_id, self.settings.building_id, created_at))
        with self._write() as c:
            self._make_room(c, request.urgency)
            seq = int(self._meta(c, "ticket_seq") or 0) + 1
            c.execute("INSERT OR REPLACE INTO meta VALUES ('ticket_seq', ?)", (str(seq),))
            ticket = f"K-{seq:04d}"
            c.execute(
                "INSERT INTO requests (id, local_ticket, body, category, urgency, urgency_rank, summary,"
                " room, created_at, created_ts, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (rid, ticket, wire, request.category, request.urgency, URGENCY_RANK[request.urgency],
                 request.summary, request.room, created_at, now, created_at))
        log.info("request %s queued as %s (%s, %s)", rid, ticket, request.category, request.urgency)
        return Enqueued(rid, ticket)

    def _make_room(self, c: sqlite3.Connection, urgency: str) -> None:
        """At the cap, evict the oldest delivered history (non-urgent first); never anything unsent."""
        rows = c.execute("SELECT n FROM counts WHERE name='rows'").fetchone()[0]
        max_rows = self.settings.central.outbox_max_rows
        if rows < max_rows and self._size_bytes(c) < self.settings.central.outbox_max_mb * 1_000_000:
            return
        need = max(1, rows - max_rows + 1) if rows >= max_rows else EVICT_CHUNK
        gone = 0
        for urgent_too in (False, True):
            cond = "" if urgent_too else " AND urgency != 'urgent'"
            cur = c.execute(
                "DELETE FROM requests WHERE id IN (SELECT id FROM requests WHERE delivery='delivered'"
                f"{cond} AND (rating_state IS NULL OR rating_state != 'pending')"
                " ORDER BY created_ts LIMIT ?)", (need - gone,))
            gone += cur.rowcount
            if gone >= need:
                break
        if gone:
            log.warning("outbox at its cap: evicted %d delivered rows of history", gone)
            return
        if urgency == "urgent":
            log.warning("outbox over its cap with nothing delivered to evict: urgent request kept anyway")
            return
        raise OutboxFull(f"outbox full ({rows} rows, nothing delivered to make room for); call the property office")

    def _size_bytes(self, c: sqlite3.Connection) -> int:
        pages = c.execute("PRAGMA page_count").fetchone()[0] - c.execute("PRAGMA freelist_count").fetchone()[0]
        return pages * c.execute("PRAGMA page_size").fetchone()[0]

    def request(self, request_id: str) -> RequestView | None:
        """One request as the kiosk shows it, or None."""
        with self._errors("read"):
            row = self._conn().execute(f"SELECT {_VIEW_COLUMNS} FROM requests WHERE id=?", (request_id,)).fetchone()
        return RequestView(*row) if row else None

    def find(self, room: str | None = None, ticket: str | None = None, limit: int = 50) -> list[RequestView]:
        """Requests by room and/or ticket (central or local), newest first; all recent ones if neither."""
        where, args = [], []
        if room is not None:
            where.append("room = ?")
            args.append(room.strip())
        if ticket is not None:
            where.append("(ticket = ? OR local_ticket = ?)")
            args += [ticket.strip(), ticket.strip()]
        sql = f"SELECT {_VIEW_COLUMNS} FROM requests"
        if where:
            sql += " WHERE " + " AND ".join(where)
        with self._errors("read"):
            rows = self._conn().execute(sql + " ORDER BY created_ts DESC LIMIT ?", (*args, limit)).fetchall()
        return [RequestView(*r) for r in rows]

    def notices(self) -> list[Notice]:
        """Notices active now, high priority first, newest first."""
        now = self.clock()
        with self._errors("read"):
            rows = self._conn().execute(
                "SELECT id, title, body, starts_at, ends_at, priority FROM notices"
                " WHERE starts_ts <= ? AND (ends_ts IS NULL OR ends_ts > ?)"
                " ORDER BY priority = 'high' DESC, starts_ts DESC", (now, now)).fetchall()
        return [Notice(*r) for r in rows]

    def rate(self, request_id: str, stars: int, comment: str | None = None) -> None:
        """Store the resident's rating of a finished request; the agent sends it (last one wins)."""
        stars, comment = check_rating(stars, comment)
        with self._write() as c:
            row = c.execute("SELECT status FROM requests WHERE id=?", (request_id,)).fetchone()
            if row is None:
                raise InvalidRequest("id", "no such request")
            if row[0] != "done":
                raise InvalidRequest("status", "only a finished (已办结) request can be rated")
            c.execute("UPDATE requests SET rating=?, rating_comment=?, rating_state='pending' WHERE id=?",
                      (stars, comment, request_id))

    def health(self) -> OutboxHealth:
        """Queue depth, age of the oldest unsent request, last success/error, cursor, alarm, capacity."""
        now = self.clock()
        cs = self.settings.central
        with self._read() as c:
            depth, oldest, next_at = c.execute(
                "SELECT count(*), min(created_ts), min(next_attempt_ts) FROM requests"
                " WHERE delivery IN ('pending','sending')").fetchone()
            rejected = c.execute("SELECT count(*) FROM requests WHERE delivery='rejected'").fetchone()[0]
            rows = c.execute("SELECT n FROM counts WHERE name='rows'").fetchone()[0]
            size = self._size_bytes(c)
            meta = dict(c.execute("SELECT key, value FROM meta").fetchall())
        fill = max(rows / cs.outbox_max_rows, size / (cs.outbox_max_mb * 1_000_000))
        warning = None
        if fill >= WARN_FRACTION:
            warning = (f"outbox {fill:.0%} full ({rows}/{cs.outbox_max_rows} rows, "
                       f"{size / 1e6:.1f}/{cs.outbox_max_mb} MB)")

        def num(key: str) -> float | None:
            return float(meta[key]) if meta.get(key) else None

        return OutboxHealth(
            depth=depth, oldest_pending_s=round(now - oldest, 1) if oldest is not None else None,
            last_success=num("last_success"), last_error=meta.get("last_error") or None,
            cursor=meta.get("cursor") or None, rejected=rejected, alarm=meta.get("alarm") or None,
            capacity_warning=warning, rows=rows, size_mb=round(size / 1e6, 2),
            last_error_at=num("last_error_at"), agent_seen=num("agent_seen"),
            next_attempt_in_s=round(max(0.0, next_at - now), 1) if next_at is not None and depth else None)

    def rejected(self, limit: int = 50) -> list[RequestView]:
        """Requests the central refused (400/422), newest first, for the technician screen."""
        with self._errors("read"):
            rows = self._conn().execute(
                f"SELECT {_VIEW_COLUMNS} FROM requests WHERE delivery='rejected'"
                " ORDER BY created_ts DESC LIMIT ?", (limit,)).fetchall()
        return [RequestView(*r) for r in rows]

    # -- the agent's side ---------------------------------------------------------------

    def recover(self) -> int:
        """Put rows a killed agent left in `sending` back to pending (the agent calls this at start)."""
        with self._write() as c:
            return c.execute("UPDATE requests SET delivery='pending' WHERE delivery='sending'").rowcount

    def retry_now(self) -> int:
        """Make every pending row due at once (the central answers again after an outage)."""
        with self._write() as c:
            return c.execute("UPDATE requests SET next_attempt_ts=0 WHERE delivery='pending'"
                             " AND next_attempt_ts > 0").rowcount

    def newest_urgent(self) -> float:
        """Creation time of the newest urgent request still to send (0 if none)."""
        with self._errors("read"):
            row = self._conn().execute("SELECT max(created_ts) FROM requests WHERE delivery='pending'"
                                       " AND urgency_rank=0").fetchone()
        return row[0] or 0.0

    def due_count(self, at_least: int) -> int:
        """How many pending rows are due now, counting no further than `at_least`."""
        with self._errors("read"):
            return self._conn().execute(
                "SELECT count(*) FROM (SELECT 1 FROM requests WHERE delivery='pending'"
                " AND next_attempt_ts <= ? LIMIT ?)", (self.clock(), at_least)).fetchone()[0]

    def claim(self, limit: int) -> list[Claimed]:
        """Move up to `limit` due rows, urgent and oldest first, to `sending` and return them."""
        now = self.clock()
        with self._write() as c:
            rows = c.execute(
                "SELECT id, body, urgency FROM requests WHERE delivery='pending' AND next_attempt_ts <= ?"
                " ORDER BY urgency_rank, created_ts LIMIT ?", (now, limit)).fetchall()
            c.executemany("UPDATE requests SET delivery='sending', attempts=attempts+1 WHERE id=?",
                          [(r[0],) for r in rows])
        return [Claimed(*r) for r in rows]

    def mark_delivered(self, request_id: str, ticket: str | None, status: str) -> None:
        """The central holds this request: keep its ticket; never move a newer status back."""
        self.settle(delivered=[(request_id, ticket, status)])

    def mark_rejected(self, request_id: str, error: str) -> None:
        """The central refused this request (400/422): keep it for technicians, never resend it."""
        self.settle(rejected=[(request_id, error)])

    def settle(self, delivered: Sequence[tuple[str, str | None, str]] = (),
               rejected: Sequence[tuple[str, str]] = ()) -> None:
        """Record the central's answers for several rows in one transaction.

        `delivered`: (id, ticket, status from the answer); `rejected`: (id, error).
        """
        now = self.clock()
        stamp = now_rfc3339(now)
        with self._write() as c:
            c.executemany(
                "UPDATE requests SET delivery='delivered', delivered_ts=coalesce(delivered_ts, ?),"
                " ticket=coalesce(?, ticket), last_error=NULL, next_attempt_ts=0,"
                " status=CASE WHEN status='pending' THEN ? ELSE status END, updated_at=?"
                " WHERE id=? AND delivery IN ('pending','sending')",
                [(now, ticket, status, stamp, rid) for rid, ticket, status in delivered])
            c.executemany("UPDATE requests SET delivery='rejected', last_error=? WHERE id=? AND delivery='sending'",
                          [(error[:500], rid) for rid, error in rejected])

    def mark_retry(self, ids: Sequence[str], error: str, next_attempt_ts: float) -> None:
        """Sending failed: back to pending, to be tried again at `next_attempt_ts`."""
        with self._write() as c:
            c.executemany(
                "UPDATE requests SET delivery='pending', last_error=?, next_attempt_ts=?"
                " WHERE id=? AND delivery='sending'", [(error[:500], next_attempt_ts, i) for i in ids])

    def apply_updates(self, updates: Sequence[Update], notices: Sequence[Notice], cursor: str) -> int:
        """Write pulled statuses and notices and the new cursor in one transaction; returns rows changed.

        An update proves the central holds the request, so an undelivered row becomes delivered.
        """
        now = self.clock()
        changed = 0
        with self._write() as c:
            for u in updates:
                changed += c.execute(
                    "UPDATE requests SET ticket=coalesce(?, ticket), status=?, note=?, updated_at=?,"
                    " delivery=CASE WHEN delivery IN ('pending','sending') THEN 'delivered' ELSE delivery END,"
                    " delivered_ts=coalesce(delivered_ts, ?) WHERE id=?",
                    (u.ticket, u.status, u.note, u.updated_at, now, u.id)).rowcount
            for n in notices:
                ends = parse_rfc3339(n.ends_at, "ends_at") if n.ends_at else None
                c.execute("INSERT OR REPLACE INTO notices VALUES (?,?,?,?,?,?,?,?)",
                          (n.id, n.title, n.body, n.starts_at, n.ends_at,
                           parse_rfc3339(n.starts_at, "starts_at"), ends, n.priority))
            c.execute("INSERT OR REPLACE INTO meta VALUES ('cursor', ?)", (cursor,))
        return changed

    def cursor(self) -> str | None:
        """The last cursor of /updates applied, or None before the first pull."""
        with self._errors("read"):
            return self._meta(self._conn(), "cursor")

    def due_ratings(self, limit: int = 20) -> list[DueRating]:
        """Ratings waiting to be sent, for requests the central already holds."""
        with self._errors("read"):
            rows = self._conn().execute(
                "SELECT id, rating, rating_comment FROM requests WHERE rating_state='pending'"
                " AND delivery='delivered' LIMIT ?", (limit,)).fetchall()
        return [DueRating(*r) for r in rows]

    def mark_rating(self, rating: DueRating, state: str) -> None:
        """Record that this rating was sent (or refused); a newer rating stays pending."""
        with self._write() as c:
            c.execute("UPDATE requests SET rating_state=? WHERE id=? AND rating=? AND rating_comment IS ?"
                      " AND rating_state='pending'", (state, rating.id, rating.stars, rating.comment))

    def pending_ids(self) -> list[str]:
        """Ids of every request not yet delivered or rejected (for tests and tools)."""
        with self._errors("read"):
            return [r[0] for r in self._conn().execute(
                "SELECT id FROM requests WHERE delivery IN ('pending','sending')")]

    def record(self, *, success: bool | None = None, error: str | None = None,
               alarm: str | None | bool = False, seen: bool = False) -> None:
        """Agent bookkeeping for `health()`: last success, last error, the 401 alarm (None clears)."""
        now = str(self.clock())
        values: list[tuple[str, str | None]] = []
        if success:
            values.append(("last_success", now))
        if error is not None:
            values += [("last_error", error[:500]), ("last_error_at", now)]
        if alarm is not False:
            values.append(("alarm", alarm))  # type: ignore[arg-type]
        if seen:
            values.append(("agent_seen", now))
        if values:
            with self._write() as c:
                c.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", values)

    def prune(self) -> int:
        """Delete delivered rows past the retention period and expired notices; returns rows deleted."""
        now = self.clock()
        cutoff = now - self.settings.central.retention_days * 86400
        with self._write() as c:
            n = c.execute("DELETE FROM requests WHERE delivery='delivered' AND delivered_ts < ?"
                          " AND (rating_state IS NULL OR rating_state != 'pending')", (cutoff,)).rowcount
            c.execute("DELETE FROM notices WHERE ends_ts IS NOT NULL AND ends_ts < ?", (now - 86400,))
        if n:
            log.info("pruned %d delivered requests older than %d days", n, self.settings.central.retention_days)
        return n

    @staticmethod
    def _meta(c: sqlite3.Connection, key: str) -> str | None:
        row = c.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None
