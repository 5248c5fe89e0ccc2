"""The sync agent against the reference central over real HTTP on loopback, with real outbox files."""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from sync.agent import Agent
from sync.errors import AgentAlreadyRunning
from sync.outbox import Outbox
from tests.sync.conftest import body, make_settings, wait_until


def settings_for(tmp_path: Path, central, **kw):
    return make_settings(tmp_path / "state", url=central.url, token_file=str(central.token_file), **kw)


def central_ticket(central, rid: str) -> str:
    status, got = central.call("GET", f"/v1/requests/{rid}", token="kiosk-secret")
    assert status == 200
    return got["ticket"]


def test_delivers_with_central_tickets_and_heartbeats(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central, batch_threshold=50)
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "devices-summary.json").write_text(json.dumps(
        {"devices": [{"kind": "locker", "id": "l1", "availability": "offline", "fault": "jammed", "x": 1}]}))
    box = Outbox.open(s)
    ids = [box.enqueue(body()).id for _ in range(3)]
    agent_for(s)
    wait_until(lambda: box.health().depth == 0, what="delivery")
    for rid in ids:
        view = box.request(rid)
        assert view.delivery == "delivered" and view.ticket == central_ticket(central, rid)
    assert central.stats()["created"] == 3 and central.stats()["batches"] == 0
    wait_until(lambda: box.health().last_success is not None, what="last_success")
    kiosks = central.call("GET", "/staff/v1/heartbeats")[1]["kiosks"]
    assert kiosks[0]["kiosk_id"] == "k1"
    assert kiosks[0]["devices"] == [{"kind": "locker", "id": "l1", "availability": "offline", "fault": "jammed"}]
    box.close()


def test_large_backlog_goes_in_batches(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central, batch_threshold=5, batch_size=10)
    box = Outbox.open(s)
    ids = [box.enqueue(body()).id for _ in range(42)]
    agent_for(s)
    wait_until(lambda: box.health().depth == 0, what="delivery")
    stats = central.stats()
    assert stats["created"] == 42 and stats["batches"] >= 4
    assert all(box.request(i).ticket == central_ticket(central, i) for i in ids[:5])
    box.close()


def test_urgent_goes_first_once_the_central_is_back(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central, batch_threshold=50)
    box = Outbox.open(s)
    central.faults(fail_rate=1.0)
    normal = [box.enqueue(body()).id for _ in range(3)]
    agent_for(s)
    wait_until(lambda: central.stats()["failed"] >= 2, what="failed attempts")
    urgent = box.enqueue(body(category="medical", urgency="urgent", summary="老人摔倒了")).id
    assert box.request(normal[0]).last_error.startswith("HTTP 500")
    central.faults()
    wait_until(lambda: box.health().depth == 0, what="delivery")
    tickets = {rid: int(central_ticket(central, rid)) for rid in [urgent, *normal]}
    assert tickets[urgent] < min(tickets[n] for n in normal)
    box.close()


def test_status_notices_and_cursor_survive_a_restart_without_replay(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central)
    box = Outbox.open(s)
    rid = box.enqueue(body()).id
    agent = agent_for(s)
    wait_until(lambda: box.request(rid).delivery == "delivered", what="delivery")
    central.call("POST", f"/staff/v1/requests/{rid}/status", {"status": "accepted", "note": "明天上午来修"})
    central.call("POST", "/staff/v1/notices", {"title": "停水通知", "body": "周六停水", "priority": "high"})
    wait_until(lambda: box.request(rid).status == "accepted" and box.notices(), what="updates")
    assert box.request(rid).note == "明天上午来修" and box.notices()[0].title == "停水通知"
    wait_until(lambda: box.cursor() is not None)
    agent.stop()
    served = central.stats()["updates_served"]
    cursor = box.cursor()
    central.call("POST", f"/staff/v1/requests/{rid}/status", {"status": "in_progress", "note": None})
    agent_for(s)
    wait_until(lambda: box.request(rid).status == "in_progress", what="update after restart")
    time.sleep(0.5)  # a few more pulls: none of them may replay what was applied before
    assert central.stats()["updates_served"] == served + 1
    assert int(box.cursor()) > int(cursor)
    box.close()


def test_rating_is_sent_once_the_request_is_done(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central)
    box = Outbox.open(s)
    rid = box.enqueue(body()).id
    agent_for(s)
    wait_until(lambda: box.request(rid).delivery == "delivered")
    central.call("POST", f"/staff/v1/requests/{rid}/status", {"status": "done", "note": "已修好"})
    wait_until(lambda: box.request(rid).status == "done")
    box.rate(rid, 5, "谢谢师傅")
    wait_until(lambda: "rating" in central.call("GET", f"/v1/requests/{rid}", token="kiosk-secret")[1])
    assert central.call("GET", f"/v1/requests/{rid}", token="kiosk-secret")[1]["rating"] == {
        "stars": 5, "comment": "谢谢师傅"}
    wait_until(lambda: box.due_ratings() == [])
    box.close()


def test_400_and_422_mark_rejected_and_are_never_resent(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central, batch_threshold=50)
    box = Outbox.open(s)
    bad = box.enqueue(body()).id
    clash = box.enqueue(body()).id
    good = box.enqueue(body()).id
    with sqlite3.connect(box.path) as c:  # a row queued by an older kiosk version the central now refuses
        stored = json.loads(c.execute("SELECT body FROM requests WHERE id=?", (bad,)).fetchone()[0])
        c.execute("UPDATE requests SET body=? WHERE id=?", (json.dumps({**stored, "category": "plumbing"}), bad))
        other = json.loads(c.execute("SELECT body FROM requests WHERE id=?", (clash,)).fetchone()[0])
    # another kiosk already used `clash`'s uuid with another body
    assert central.call("POST", "/v1/requests", {**other, "kiosk_id": "k2", "summary": "另一个"}, token="kiosk-secret",
                        headers={"Idempotency-Key": clash})[0] == 201
    agent_for(s)
    wait_until(lambda: box.health().depth == 0, what="settling")
    assert box.request(good).delivery == "delivered"
    assert box.request(bad).delivery == "rejected" and "category" in box.request(bad).last_error
    assert box.request(clash).delivery == "rejected" and "idempotency_mismatch" in box.request(clash).last_error
    assert box.health().rejected == 2
    time.sleep(0.3)
    stats = central.stats()
    assert stats["invalid"] == 1 and stats["mismatched"] == 1  # tried once each, never again
    box.close()


def test_401_raises_an_alarm_stops_sending_and_recovers_when_the_token_is_fixed(tmp_path, central, agent_for):
    token = tmp_path / "kiosk.token.local"
    token.write_text("wrong\n")
    s = make_settings(tmp_path / "state", url=central.url, token_file=str(token), backoff_cap_s=60)
    box = Outbox.open(s)
    rid = box.enqueue(body()).id
    agent_for(s)
    wait_until(lambda: box.health().alarm is not None, what="alarm")
    assert "401" in box.health().alarm
    time.sleep(0.5)  # dozens of poll intervals: no hammering
    assert central.stats()["unauthorized"] <= 2
    assert box.request(rid).delivery == "pending" and central.stats()["requests"] == 0
    token.write_text("kiosk-secret\n")
    wait_until(lambda: box.request(rid).delivery == "delivered", what="delivery after the fix")
    wait_until(lambda: box.health().alarm is None, what="alarm cleared")
    box.close()


def test_retry_after_is_honoured(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central)
    box = Outbox.open(s)
    box.enqueue(body())
    central.faults(busy_rate=1.0, retry_after_s=30)
    agent_for(s)
    wait_until(lambda: central.stats()["busy"] >= 1, what="a 503")
    time.sleep(0.6)  # with a 0.2 s backoff cap this would be several more calls
    assert central.stats()["busy"] == 1
    assert box.health().next_attempt_in_s > 20
    box.close()


def test_unreachable_central_backs_off_and_keeps_everything(tmp_path, agent_for):
    from tests.conftest import free_port

    s = make_settings(tmp_path / "state", url=f"http://127.0.0.1:{free_port()}")
    box = Outbox.open(s)
    rid = box.enqueue(body()).id
    agent = agent_for(s)
    wait_until(lambda: (box.request(rid).attempts or 0) >= 3, what="retries")
    view = box.request(rid)
    assert view.delivery in ("pending", "sending") and "connection refused" in view.last_error
    assert agent.alive and box.health().last_success is None
    box.close()


def test_second_agent_on_the_same_state_dir_refuses(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central)
    first = agent_for(s)
    wait_until(lambda: (tmp_path / "state" / "outbox.sqlite3").exists())
    time.sleep(0.1)
    with pytest.raises(AgentAlreadyRunning):
        Agent(s).run(threading.Event())
    assert first.alive


class LongestJitter(random.Random):
    """Full jitter that always draws the longest wait (a seam the Agent offers: its rng)."""

    def uniform(self, a: float, b: float) -> float:
        return b


def test_a_new_urgent_request_skips_the_backoff_and_takes_the_queue_along(tmp_path, central, agent_for):
    s = settings_for(tmp_path, central, backoff_base_s=60, backoff_cap_s=120)
    box = Outbox.open(s)
    normal = box.enqueue(body()).id
    central.faults(fail_rate=1.0)
    agent_for(s, rng=LongestJitter())
    wait_until(lambda: box.request(normal).attempts == 1 and box.request(normal).last_error, what="a failure")
    assert box.health().next_attempt_in_s > 30
    central.faults()
    urgent = box.enqueue(body(category="safety", urgency="urgent", summary="楼道有煤气味")).id
    wait_until(lambda: box.request(urgent).delivery == "delivered", timeout=20, what="the urgent request")
    # the central answered again, so the waiting queue goes too, without sitting out its backoff
    wait_until(lambda: box.request(normal).delivery == "delivered", timeout=20, what="the rest of the queue")
    box.close()


def test_agent_reconnects_after_the_central_restarts(tmp_path, agent_for):
    from tests.sync.conftest import start_central

    central = start_central(tmp_path)
    port = int(central.url.rsplit(":", 1)[1])
    try:
        s = settings_for(tmp_path, central)
        box = Outbox.open(s)
        first = box.enqueue(body()).id
        agent = agent_for(s)
        wait_until(lambda: box.request(first).delivery == "delivered", what="first delivery")
        central.stop()
        second = box.enqueue(body()).id
        wait_until(lambda: box.request(second).attempts >= 2, what="failed attempts while it is down")
        central = start_central(tmp_path, port=port)  # same port, same database
        wait_until(lambda: box.request(second).delivery == "delivered", what="delivery after the restart")
        assert agent.alive and central.stats()["created"] == 2
        box.close()
    finally:
        central.stop()
