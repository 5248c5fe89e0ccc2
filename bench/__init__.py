"""Benchmarks. Each `bench/bench_*.py` is a script that prints `BENCH <name> <value> <unit>` lines.

`python -m bench` (what `make bench` runs) runs them one by one in their own
process, echoes their output and writes every figure to bench/results.json.
"""

from __future__ import annotations

import statistics


def report(name: str, value: float, unit: str) -> None:
    """Print one figure in the form `make bench` collects."""
    print(f"BENCH {name} {value:.4g} {unit}", flush=True)


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (0..100) of values, by the inclusive method."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[max(0, min(98, round(pct) - 1))]


def rss_mb() -> float:
    """Resident set size of this process in MB (from /proc)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")
