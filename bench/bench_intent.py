"""Intent parser: accuracy on the labelled evaluation set and the held-out sets, confusion tables, speed.

For the project's own set (tests/data/intent_eval.jsonl, or EVAL.jsonl) and
then for each held-out set that exists (tests/data/intent_heldout_dev.jsonl
and intent_heldout_dev2.jsonl, written blind by two other engineers, and the sealed
tests/data/intent_heldout_test.jsonl) prints per-category accuracy, a
category confusion table and an urgency confusion table (rows: labelled,
columns: parsed), then BENCH figures: accuracy, urgent requests rated lower
(must be 0), high-tier precision. Then vocabulary load time, parse p50/p99
(target p99 <= 2 ms), throughput and the time for a 5,000-character text.

    python -m bench.bench_intent [EVAL.jsonl] [--no-sealed]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from bench import percentile, report, rss_mb
from voice.intent import IntentParser
from voice.vocabulary import URGENCIES

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
EVAL = DATA / "intent_eval.jsonl"
HELDOUT = {"heldout_dev": DATA / "intent_heldout_dev.jsonl",      # blind set, may be studied
           "heldout_dev2": DATA / "intent_heldout_dev2.jsonl",    # second blind writer, may be studied
           "heldout_test": DATA / "intent_heldout_test.jsonl"}    # sealed: only ever scored
ROUNDS = 20
SHORT = {"repair": "维修", "public_facility": "公共", "sanitation": "卫生", "safety": "安全", "medical": "急救",
         "elderly_care": "养老", "parcel": "快递", "parking": "停车", "neighbor": "邻里", "consult": "咨询",
         "activity": "活动", "other": "其他"}


def _table(title: str, labels: list[str], pairs: Counter[tuple[str, str]]) -> None:
    """Print a confusion table: rows are the labels, columns what the parser said."""
    width = max(8, *(len(x) for x in labels)) + 1
    print(f"\n{title} (rows: labelled, columns: parsed)")
    print(" " * width + "".join(f"{x[:7]:>8}" for x in labels))
    for want in labels:
        print(f"{want:<{width}}" + "".join(f"{pairs[want, got] or '.':>8}" for got in labels))


def _accuracy(rows: list[dict], parser: IntentParser, name: str = "") -> None:
    cats = list(parser.vocabulary.categories)
    cat_pairs: Counter[tuple[str, str]] = Counter()
    urg_pairs: Counter[tuple[str, str]] = Counter()
    tiers: Counter[str] = Counter()
    tier_right: Counter[str] = Counter()
    missed_urgent = 0
    for row in rows:
        intent = parser.parse(row["text"])
        cat_pairs[row["category"], intent.category] += 1
        urg_pairs[row["urgency"], intent.urgency] += 1
        tiers[intent.tier] += 1
        tier_right[intent.tier] += intent.category == row["category"]
        missed_urgent += row["urgency"] == "urgent" and intent.urgency != "urgent"
    n = len(rows)
    print(f"\n=== {name or 'evaluation set'}: {n} utterances")
    print(f"\n{'category':<16}{'n':>5}{'right':>7}{'accuracy':>10}")
    for c in cats:
        total = sum(v for (want, _), v in cat_pairs.items() if want == c)
        right = cat_pairs[c, c]
        print(f"{c:<16}{total:>5}{right:>7}{(right / total if total else float('nan')):>10.3f}")
    _table("category confusion", cats, cat_pairs)
    _table("urgency confusion", list(URGENCIES), urg_pairs)
    print("\ntiers: " + ", ".join(f"{t} {tiers[t]} ({tier_right[t] / tiers[t]:.3f} right)" for t in tiers))
    prefix = f"intent_{name}_" if name else "intent_"
    report(f"{prefix}category_accuracy", sum(cat_pairs[c, c] for c in cats) / n, "ratio")
    report(f"{prefix}urgency_accuracy", sum(urg_pairs[u, u] for u in URGENCIES) / n, "ratio")
    report(f"{prefix}urgent_rated_lower", missed_urgent, "utterances")
    report(f"{prefix}high_tier_precision", tier_right["high"] / max(1, tiers["high"]), "ratio")
    report(f"{prefix}low_tier_share", tiers["low"] / n, "ratio")


def _speed(texts: list[str]) -> None:
    t0 = time.perf_counter()
    parser = IntentParser.from_file()
    report("intent_vocabulary_load_ms", (time.perf_counter() - t0) * 1000, "ms")
    for text in texts:  # warm the pinyin cache, as a running kiosk would be
        parser.parse(text)
    times: list[float] = []   # wall clock: includes waiting for a core on a busy machine
    cpu: list[float] = []     # CPU time of this process: the parser's own cost
    start = time.perf_counter()
    for _ in range(ROUNDS):
        for text in texts:
            t, c = time.perf_counter(), time.process_time()
            parser.parse(text)
            cpu.append(time.process_time() - c)
            times.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - start
    report("intent_parse_p50_ms", percentile(times, 50) * 1000, "ms")
    report("intent_parse_p99_ms", percentile(times, 99) * 1000, "ms")
    report("intent_parse_cpu_p99_ms", percentile(cpu, 99) * 1000, "ms")
    report("intent_throughput", len(times) / elapsed, "utterances/s")
    long_text = ("那个 我跟你说 我家 厨房 水管 漏水 了 " * 300)[:5000]
    t = time.perf_counter()
    for _ in range(20):
        parser.parse(long_text)
    report("intent_parse_5000_chars_ms", (time.perf_counter() - t) / 20 * 1000, "ms")
    report("intent_rss", rss_mb(), "MB")


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.bench_intent", description=__doc__.split("\n\n")[0])
    ap.add_argument("eval", nargs="?", type=Path, default=EVAL, help="labelled JSONL (default: the project's own set)")
    ap.add_argument("--no-sealed", action="store_true",
                    help="do not score the sealed held-out test set even if it exists")
    args = ap.parse_args(argv)
    if not args.eval.is_file():
        ap.error(f"no such file: {args.eval}")
    parser = IntentParser.from_file()
    rows = _rows(args.eval)
    _accuracy(rows, parser)
    for name, path in HELDOUT.items():
        if path.is_file() and not (args.no_sealed and name == "heldout_test"):
            _accuracy(_rows(path), parser, name)
    _speed([row["text"] for row in rows])
    return 0


if __name__ == "__main__":
    sys.exit(main())
