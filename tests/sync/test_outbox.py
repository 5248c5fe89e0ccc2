"""The outbox on a real SQLite file: validation, states, urgency order, caps, pruning, threads."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from sync.errors import InvalidRequest, OutboxFull
from sync.outbox import Outbox
from sync.records import Notice, Update, now_rfc3339
from tests.sync.conftest import body, make_settings


def test_enqueue_is_stored_with_uuid_local_ticket_and_pending_status(outbox):
    first = outbox.enqueue(body())
    second = outbox.enqueue(body(urgency="high"))
    assert (first.local_ticket, second.local_ticket) == ("K-0001", "K-0002")
    view = outbox.request(first.id)
    assert view.status == "pending" and view.delivery == "pending" and view.ticket is None
    assert view.display_ticket == "K-0001"
    assert (view.category, view.urgency, view.summary, view.room) == ("repair", "normal", "厨房的灯坏了", "3-2-301")
    assert view.phone == "13800000000"  # the call-back number as sent, for the kiosk to show masked
    assert "3-2-301" not in repr(view) and "13800000000" not in repr(view)  # a logged view is not personal
    assert outbox.find(room="1-1-101") == [] and outbox.request(second.id).phone == "13800000000"
    # what will be sent is the contract body, filled in by the outbox
    with sqlite3.connect(outbox.path) as c:
        sent = json.loads(c.execute("SELECT body FROM requests WHERE id=?", (first.id,)).fetchone()[0])
    assert sent["id"] == first.id and sent["kiosk_id"] == "k1" and sent["building_id"] == "b1"
    assert sent["created_at"].endswith("Z") and sent["contact"] == {"room": "3-2-301", "phone": "13800000000"}


@pytest.mark.parametrize("bad, field", [
    (body(category="plumbing"), "category"),
    (body(urgency="asap"), "urgency"),
    (body(channel="sms"), "channel"),
    (body(summary="  "), "summary"),
    (body(summary="长" * 201), "summary"),
    (body(contact={"room": "3-2-301", "phone": "138-0000-0000"}), "contact.phone"),
    (body(contact={"room": "3-2-301", "phone": "12"}), "contact.phone"),
    (body(contact={"room": "x" * 33}), "contact.room"),
    (body(contact={"email": "a@b"}), "contact.email"),
    (body(transcript="我家灯坏了"), "transcript"),
    (body(tags=["t"] * 11), "tags"),
    (body(tags=[3]), "tags[0]"),
    (body(id="5b4c0c64-7c42-4d47-9a57-0f4a4a3d8f1e"), "id"),
    (body(health={"systolic": 500, "diastolic": 80, "pulse": 70}), "health.systolic"),
    ([1, 2], "body"),
])
def test_a_bad_request_is_refused_with_its_field_and_nothing_is_stored(outbox, bad, field):
    with pytest.raises(InvalidRequest) as err:
        outbox.enqueue(bad)
    assert err.value.field == field
    assert outbox.health().rows == 0


def test_health_reading_is_stored_only_with_consent(outbox):
    reading = {"systolic": 135, "diastolic": 85, "pulse": 72, "irregular": False}
    without = outbox.enqueue(body(category="medical", health=reading))
    with_ = outbox.enqueue(body(category="medical", health=reading), health_consent=True)
    with sqlite3.connect(outbox.path) as c:
        rows = dict(c.execute("SELECT id, body FROM requests").fetchall())
    assert "health" not in json.loads(rows[without.id]) and "135" not in rows[without.id]
    sent = json.loads(rows[with_.id])
    assert sent["health"] == reading and sent["health_consent"] is True


def test_urgent_requests_are_claimed_first_then_oldest(outbox):
    normal = outbox.enqueue(body())
    low = outbox.enqueue(body(urgency="low"))
    urgent = outbox.enqueue(body(category="medical", urgency="urgent"))
    high = outbox.enqueue(body(urgency="high"))
    assert [c.id for c in outbox.claim(10)] == [urgent.id, high.id, normal.id, low.id]


def test_delivery_state_machine(outbox):
    a, b, c = (outbox.enqueue(body()).id for _ in range(3))
    claimed = outbox.claim(2)
    assert [x.id for x in claimed] == [a, b]
    assert outbox.request(a).delivery == "sending" and outbox.request(a).attempts == 1
    assert outbox.health().depth == 3
    outbox.mark_delivered(a, "100001", "pending")
    outbox.mark_retry([b], "HTTP 500: boom", outbox.clock() + 3600)
    assert outbox.request(a).delivery == "delivered" and outbox.request(a).ticket == "100001"
    assert outbox.request(a).display_ticket == "100001"
    view_b = outbox.request(b)
    assert (view_b.delivery, view_b.last_error) == ("pending", "HTTP 500: boom")
    # b waits for its next attempt; c is due
    assert [x.id for x in outbox.claim(10)] == [c]
    outbox.mark_rejected(c, "HTTP 400 invalid: summary")
    assert outbox.request(c).delivery == "rejected" and outbox.health().rejected == 1
    assert [v.id for v in outbox.rejected()] == [c]
    # a rejected row is never claimed again, a delivered one neither
    assert outbox.claim(10) == []
    health = outbox.health()
    assert health.depth == 1 and health.next_attempt_in_s > 3000


def test_recover_returns_rows_a_killed_agent_left_sending(outbox):
    ids = [outbox.enqueue(body()).id for _ in range(3)]
    outbox.claim(3)
    assert outbox.recover() == 3
    assert [c.id for c in outbox.claim(3)] == ids


def test_updates_set_status_and_ticket_and_prove_delivery(outbox):
    sent = outbox.enqueue(body()).id
    unsent = outbox.enqueue(body()).id
    outbox.claim(1)
    outbox.mark_delivered(sent, "100001", "pending")
    now = "2026-11-22T01:00:00Z"
    changed = outbox.apply_updates(
        [Update(sent, "100001", "accepted", "师傅下午到", now), Update(unsent, "100002", "pending", None, now),
         Update("5b4c0c64-7c42-4d47-9a57-0f4a4a3d8f1e", "9", "done", None, now)],
        [], "c-7")
    assert changed == 2 and outbox.cursor() == "c-7" and outbox.health().cursor == "c-7"
    view = outbox.request(sent)
    assert (view.status, view.note, view.updated_at) == ("accepted", "师傅下午到", now)
    # the central holds `unsent` (its answer was lost): delivered, with the central ticket
    assert outbox.request(unsent).delivery == "delivered" and outbox.request(unsent).ticket == "100002"
    # a replayed 200 "pending" never moves a newer status back
    outbox.mark_delivered(sent, "100001", "pending")
    assert outbox.request(sent).status == "accepted"


def test_find_by_room_and_by_either_ticket_newest_first(outbox):
    a = outbox.enqueue(body())
    b = outbox.enqueue(body(contact={"room": "1-1-101"}))
    c = outbox.enqueue(body())
    outbox.claim(1)
    outbox.mark_delivered(a.id, "100001", "pending")
    assert [v.id for v in outbox.find(room="3-2-301")] == [c.id, a.id]
    assert [v.id for v in outbox.find(ticket="100001")] == [a.id]
    assert [v.id for v in outbox.find(ticket="K-0002")] == [b.id]
    assert outbox.request(b.id).phone is None  # no call-back number given
    assert outbox.find(room="9-9-999") == []
    assert len(outbox.find()) == 3


def test_notices_active_now_high_priority_first(tmp_path: Path):
    now = [1_800_000_000.0]
    box = Outbox.open(make_settings(tmp_path), clock=lambda: now[0])
    t = now_rfc3339
    box.apply_updates([], [
        Notice("n1", "停水通知", "明天9点至12点停水", t(now[0] - 3600), t(now[0] + 3600), "normal"),
        Notice("n2", "电梯检修", "2号电梯检修", t(now[0] - 60), None, "high"),
        Notice("n3", "已过期", "", t(now[0] - 7200), t(now[0] - 3600), "high"),
        Notice("n4", "未开始", "", t(now[0] + 600), None, "high"),
    ], "c1")
    assert [n.id for n in box.notices()] == ["n2", "n1"]
    now[0] += 7200
    assert [n.id for n in box.notices()] == ["n4", "n2"]
    box.close()


def test_rating_needs_a_finished_request_and_waits_for_delivery(outbox):
    rid = outbox.enqueue(body()).id
    with pytest.raises(InvalidRequest) as err:
        outbox.rate(rid, 5)
    assert err.value.field == "status"
    with pytest.raises(InvalidRequest):
        outbox.rate("nope", 5)
    outbox.apply_updates([Update(rid, "100001", "done", None, "2026-11-22T01:00:00Z")], [], "c1")
    with pytest.raises(InvalidRequest) as err:
        outbox.rate(rid, 6)
    assert err.value.field == "stars"
    outbox.rate(rid, 4, "师傅很耐心")
    assert outbox.request(rid).rating == 4
    due = outbox.due_ratings()
    assert [(d.id, d.stars, d.comment) for d in due] == [(rid, 4, "师傅很耐心")]
    outbox.rate(rid, 4, "师傅很耐心，谢谢")  # a newer rating before the first was sent: it stays due
    outbox.mark_rating(due[0], "sent")
    assert outbox.due_ratings()[0].comment == "师傅很耐心，谢谢"
    outbox.mark_rating(outbox.due_ratings()[0], "sent")
    assert outbox.due_ratings() == []


def test_cap_evicts_delivered_history_never_unsent_rows(tmp_path: Path):
    box = Outbox.open(make_settings(tmp_path, outbox_max_rows=100))
    urgent = [box.enqueue(body(urgency="urgent", category="medical")).id for _ in range(10)]
    normal = [box.enqueue(body()).id for _ in range(40)]
    assert box.health().capacity_warning is not None  # half full: technicians are told early
    pending = [box.enqueue(body()).id for _ in range(50)]
    for rid in urgent + normal:
        box.claim(100)
        box.mark_delivered(rid, None, "pending")
    box.recover()
    new = [box.enqueue(body()).id for _ in range(40)]
    kept = {v.id for v in box.find(limit=1000)}
    assert box.health().rows == 100
    assert set(pending) | set(new) | set(urgent) == kept  # the non-urgent history went first
    more = [box.enqueue(body()).id for _ in range(10)]
    kept = {v.id for v in box.find(limit=1000)}
    assert set(pending) | set(new) | set(more) == kept  # then the urgent history; nothing unsent
    with pytest.raises(OutboxFull):
        box.enqueue(body())
    assert box.enqueue(body(urgency="urgent", category="medical")).id  # a person in danger still gets in
    assert box.health().depth == 101
    box.close()


def test_prune_deletes_only_old_delivered_rows(tmp_path: Path):
    now = [1_800_000_000.0]
    box = Outbox.open(make_settings(tmp_path, retention_days=30), clock=lambda: now[0])
    old = box.enqueue(body()).id
    old_pending = box.enqueue(body()).id
    box.claim(1)
    box.mark_delivered(old, "1", "pending")
    now[0] += 29 * 86400
    assert box.prune() == 0
    now[0] += 2 * 86400
    assert box.prune() == 1
    assert box.request(old) is None and box.request(old_pending).delivery == "pending"
    box.close()


def test_threads_enqueue_while_another_claims(outbox):
    ids: list[str] = []
    tickets: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()
    delivered: list[str] = []

    def enqueue_many():
        for _ in range(40):
            e = outbox.enqueue(body())
            with lock:
                ids.append(e.id)
                tickets.append(e.local_ticket)

    def deliver():
        while not stop.is_set() or outbox.due_count(1):
            for c in outbox.claim(7):
                outbox.mark_delivered(c.id, None, "pending")
                delivered.append(c.id)

    workers = [threading.Thread(target=enqueue_many) for _ in range(4)]
    sender = threading.Thread(target=deliver)
    sender.start()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    stop.set()
    sender.join(30)
    assert len(set(ids)) == 160 and len(set(tickets)) == 160
    assert sorted(delivered) == sorted(ids)
    assert outbox.health().depth == 0


def test_closed_outbox_refuses_with_our_error(outbox):
    from sync.errors import SyncError
    outbox.close()
    with pytest.raises(SyncError):
        outbox.enqueue(body())


def test_size_cap_evicts_delivered_history_too(tmp_path: Path):
    box = Outbox.open(make_settings(tmp_path, outbox_max_mb=1))
    long = body(channel="voice", transcript="楼" * 2000)  # about 6 kB a row
    first = [box.enqueue(long).id for _ in range(80)]
    assert box.health().capacity_warning and "MB" in box.health().capacity_warning
    box.claim(1000)
    for rid in first:
        box.mark_delivered(rid, None, "pending")
    later = [box.enqueue(long).id for _ in range(80)]
    h = box.health()
    assert h.size_mb <= 1.05 and h.rows < 160
    kept = {v.id for v in box.find(limit=1000)}
    assert set(later) <= kept and not set(first) <= kept
    box.close()


def test_the_agent_not_the_enqueue_checkpoints_the_wal(outbox, tmp_path):
    import shutil

    def rows_in_main_file() -> int:
        """Rows readable from the database file alone, as if the WAL were lost."""
        copy = tmp_path / "main-only.sqlite3"
        shutil.copyfile(outbox.path, copy)
        probe = sqlite3.connect(copy)
        try:
            return probe.execute("SELECT count(*) FROM requests").fetchone()[0]
        except sqlite3.OperationalError:  # not even the schema was checkpointed yet
            return 0
        finally:
            probe.close()

    for i in range(30):
        outbox.enqueue(body(summary=f"报修 {i}"))
    assert rows_in_main_file() < 30  # the enqueues left their pages in the WAL
    outbox.checkpoint()
    assert rows_in_main_file() == 30
