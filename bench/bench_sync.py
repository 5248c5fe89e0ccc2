"""Sync benchmarks: durable enqueue latency, drain rate to the reference central, agent memory.

    python -m bench.bench_sync

Targets (issue 4): enqueue p99 <= 2 ms; drain >= 500 requests/s with batching;
agent RSS <= 50 MB with 50,000 pending rows.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bench import percentile, report
from sync.agent import Agent
from sync.outbox import Outbox
from sync.settings import CentralSettings, SyncSettings

REPO = Path(__file__).resolve().parent.parent
BODY = {"channel": "voice", "category": "repair", "urgency": "normal", "summary": "厨房水管漏水了",
        "transcript": "我家厨房水管漏水了", "location": "3号楼 厨房", "contact": {"room": "3-2-301", "phone": None},
        "tags": ["water"]}


def settings(state: Path, url: str = "http://127.0.0.1:9", token_file: str | None = None, **kw) -> SyncSettings:
    return SyncSettings(building_id="b1", kiosk_id="k1", state_dir=str(state),
                        central=CentralSettings(url=url, token_file=token_file, poll_interval_s=0.05, **kw))


def bulk_fill(box: Outbox, n: int) -> None:
    """n pending rows like enqueue makes them, written in one transaction (set-up only, not measured)."""
    box.enqueue(BODY)
    with sqlite3.connect(box.path) as c:
        template = c.execute("SELECT * FROM requests LIMIT 1").fetchone()
        cols = [d[0] for d in c.execute("SELECT * FROM requests LIMIT 1").description]
        c.execute("DELETE FROM requests")
        rows = []
        for i in range(n):
            row = dict(zip(cols, template, strict=True))
            rid = str(uuid.uuid4())
            wire = json.loads(row["body"])
            wire["id"] = rid
            row.update(id=rid, local_ticket=f"B-{i:06d}", body=json.dumps(wire, ensure_ascii=False, sort_keys=True,
                                                                           separators=(",", ":")))
            rows.append(tuple(row.values()))
        c.executemany(f"INSERT INTO requests VALUES ({','.join('?' * len(cols))})", rows)


def start_central(tmp: Path, *args: str) -> tuple[subprocess.Popen, str, Path]:
    token = tmp / "token"
    token.write_text("bench\n")
    (tmp / "staff").write_text("staff\n")
    proc = subprocess.Popen([sys.executable, "-m", "sync", "central", "--port", "0", "--db", str(tmp / "central.db"),
                             "--token-file", str(token), "--staff-token-file", str(tmp / "staff"), *args],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    return proc, line.split("listening on", 1)[1].strip(), token


def bench_enqueue(tmp: Path, n: int = 3000) -> None:
    box = Outbox.open(settings(tmp / "enqueue"))
    times = []
    for _ in range(n):
        t = time.perf_counter()
        box.enqueue(BODY)
        times.append((time.perf_counter() - t) * 1000)
    box.close()
    report("sync_enqueue_p50", percentile(times, 50), "ms")
    report("sync_enqueue_p99", percentile(times, 99), "ms")


def bench_drain(tmp: Path, name: str, n: int, *central_args: str) -> None:
    proc, url, token = start_central(tmp, *central_args)
    try:
        s = settings(tmp / "state", url, str(token))
        box = Outbox.open(s)
        bulk_fill(box, n)
        agent = Agent(s)
        t = time.perf_counter()
        agent.start()
        while box.health().depth:
            time.sleep(0.05)
        elapsed = time.perf_counter() - t
        agent.stop()
        box.close()
        report(name, n / elapsed, "requests/s")
    finally:
        proc.terminate()
        proc.wait()


def bench_agent_rss(tmp: Path, n: int = 50_000) -> None:
    proc, url, token = start_central(tmp, "--fail-rate", "1.0")
    try:
        s = settings(tmp / "state", url, str(token))
        box = Outbox.open(s)
        bulk_fill(box, n)
        box.close()
        cfg = tmp / "kiosk.toml"
        cfg.write_text(f'[site]\nkiosk_id = "k1"\nbuilding_id = "b1"\nstate_dir = "{tmp / "state"}"\n'
                       f'[central]\nurl = "{url}"\ntoken_file = "{token}"\nbackoff_base_s = 0.05\n'
                       f"backoff_cap_s = 0.5\nheartbeat_interval_s = 1\npoll_interval_s = 0.05\n")
        agent = subprocess.Popen([sys.executable, "-m", "sync", "run", "--config", str(cfg)], cwd=REPO,
                                 stderr=subprocess.DEVNULL)
        time.sleep(8)  # sending (refused), pulling, heartbeats with a 50,000-row depth
        with open(f"/proc/{agent.pid}/status") as f:
            peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
        agent.send_signal(signal.SIGTERM)
        agent.wait(10)
        report("sync_agent_peak_rss_50k_pending", peak, "MB")
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    logging.basicConfig(level=logging.CRITICAL)  # the agent's retry warnings are expected here
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as d:
        tmp = Path(d)
        for sub in ("a", "b", "c", "d"):
            (tmp / sub).mkdir()
        bench_enqueue(tmp / "a")
        bench_drain(tmp / "b", "sync_drain_batched", 10_000)
        bench_drain(tmp / "c", "sync_drain_batched_20pct_500", 10_000, "--fail-rate", "0.2", "--seed", "3")
        bench_agent_rss(tmp / "d")
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    os.environ.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    sys.exit(main())
