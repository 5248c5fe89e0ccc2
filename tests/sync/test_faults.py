"""The promise under faults: real processes killed with SIGKILL, a central that drops answers after committing."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sync.outbox import Outbox
from sync.settings import load
from tests.conftest import REPO
from tests.sync.conftest import body, start_central, wait_until
from tests.sync.test_cli import write_config

N_REQUESTS = 1000


def _agent(cfg: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", str(cfg)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=log.open("a"), env=os.environ.copy())


def _central_requests(central) -> dict[str, str]:
    """id -> ticket of every request the central holds for kiosk k1, read back through the API."""
    out: dict[str, str] = {}
    after = ""
    while True:
        status, page = central.call("GET", f"/v1/requests?kiosk_id=k1&limit=500{after}", token="kiosk-secret")
        assert status == 200
        for r in page["requests"]:
            assert r["id"] not in out, "the central lists a request twice"
            out[r["id"]] = r["ticket"]
        if page["next"] is None:
            return out
        after = f"&after={page['next']}"


@pytest.mark.slow
def test_exactly_once_with_agent_sigkilled_and_answers_dropped_after_commit(tmp_path):
    central = start_central(tmp_path, "--drop-after-commit-rate", "0.3", "--seed", "7")
    cfg = write_config(tmp_path, central.url, central.token_file)
    with cfg.open("a") as f:
        f.write("batch_threshold = 20\nbatch_size = 50\n")
    box = Outbox.open(load(cfg))
    rng = random.Random(42)
    enqueued: list[tuple[str, str]] = []

    def enqueue_all() -> None:
        for i in range(N_REQUESTS):
            urgency = "urgent" if i % 50 == 0 else "normal"
            e = box.enqueue(body(urgency=urgency, summary=f"报修 {i}"))
            enqueued.append((e.id, e.local_ticket))
            time.sleep(rng.uniform(0, 0.012))

    log = tmp_path / "agent.log"
    kills = 0
    feeder = threading.Thread(target=enqueue_all, name="enqueuer")
    feeder.start()
    try:
        while feeder.is_alive() or kills < 8:
            agent = _agent(cfg, log)
            time.sleep(rng.uniform(0.2, 1.2))  # a random moment: starting, sending, settling, pulling
            agent.send_signal(signal.SIGKILL)
            agent.wait()
            kills += 1
        feeder.join()
        starts = log.read_text().count("sync agent started")
        agent = _agent(cfg, log)
        # A clean stop is only promised once the agent runs (its SIGTERM handler is set before it logs).
        wait_until(lambda: log.read_text().count("sync agent started") > starts, timeout=30, interval=0.1,
                   what="the last agent to start")
        wait_until(lambda: box.health().depth == 0, timeout=150, interval=0.2, what="the outbox to drain")
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
        central.faults()  # read back without the faults
        held = _central_requests(central)
        stats = central.stats()
    finally:
        central.stop()
    ids = [rid for rid, _ in enqueued]
    assert len(set(ids)) == N_REQUESTS
    assert set(held) == set(ids)                       # each request reached the central...
    assert stats["created"] == N_REQUESTS              # ...and was created there exactly once
    assert stats["mismatched"] == 0                    # every retry carried the identical body
    assert stats["dropped"] > 0 and stats["replayed"] > 0 and kills >= 8  # the faults really happened
    rows = {v.id: v for v in box.find(limit=N_REQUESTS * 2)}
    assert all(rows[rid].delivery == "delivered" and rows[rid].ticket == held[rid] for rid in ids)
    box.close()


ENQUEUER = """
import sys
from sync.outbox import Outbox
from sync.settings import SyncSettings
box = Outbox.open(SyncSettings(building_id="b1", kiosk_id="k1", state_dir=sys.argv[1]))
body = {"channel": "touch", "category": "repair", "urgency": "normal", "summary": "灯坏了"}
print("ready", flush=True)
while True:
    e = box.enqueue(body)
    print(e.id, e.local_ticket, flush=True)
"""


def test_power_cut_keeps_every_request_reported_as_enqueued(tmp_path):
    state = tmp_path / "state"
    reported: list[str] = []
    for _round in range(3):
        proc = subprocess.Popen([sys.executable, "-c", ENQUEUER, str(state)], cwd=REPO, stdout=subprocess.PIPE,
                                env=os.environ.copy())
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        got = 0
        kill_after = random.randint(50, 300)
        while got < kill_after:
            line = proc.stdout.readline()
            assert line.endswith(b"\n")
            reported.append(line.split()[0].decode())
            got += 1
        proc.send_signal(signal.SIGKILL)  # mid-write, most likely inside a transaction
        rest = proc.stdout.read()
        proc.wait()
        reported += [ln.split()[0].decode() for ln in rest.split(b"\n")[:-1]]  # complete lines only
    with sqlite3.connect(state / "outbox.sqlite3") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    box = Outbox.open(load_settings(state))
    stored = {v.id: v.local_ticket for v in box.find(limit=100_000)}
    assert set(reported) <= set(stored)
    assert len(stored) - len(reported) <= 3      # at most the one unreported row per killed process
    assert len(set(stored.values())) == len(stored)  # local tickets stay unique across crashes
    box.close()


def load_settings(state: Path):
    from sync.settings import SyncSettings

    return SyncSettings(building_id="b1", kiosk_id="k1", state_dir=str(state))


def test_kiosk_and_agent_processes_share_the_file(tmp_path, run_cli):
    """The kiosk (this process, several threads) enqueues and reads while `lobby-sync run` writes."""
    central = start_central(tmp_path)
    try:
        cfg = write_config(tmp_path, central.url, central.token_file)
        box = Outbox.open(load(cfg))
        agent = _agent(cfg, tmp_path / "agent.log")
        ids: list[str] = []
        lock = threading.Lock()

        def kiosk_thread() -> None:
            for _ in range(25):
                rid = box.enqueue(body()).id
                assert box.request(rid) is not None
                box.find(room="3-2-301")
                box.health()
                with lock:
                    ids.append(rid)

        threads = [threading.Thread(target=kiosk_thread) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wait_until(lambda: box.health().depth == 0, timeout=60, what="delivery")
        assert all(box.request(i).ticket for i in ids) and central.stats()["created"] == 100
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0
        status = json.loads(run_cli("sync", "status", "--config", str(cfg), "--json").stdout)
        assert status["depth"] == 0 and status["last_success"] is not None and status["cursor"]
        box.close()
    finally:
        central.stop()
