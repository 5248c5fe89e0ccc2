"""What the main loop was doing during its slowest frames (a benchmark aid, not product code).

A sampler thread records the main thread's stack every `interval_s` (sys._current_frames),
and gc.callbacks records every garbage-collection pause (any thread: a collection holds the
GIL, so it stalls the main loop too). After the run, `explain(frame_times)` lists, for each
gap between frames longer than a threshold, the stacks seen in it and the collections in it.
"""

from __future__ import annotations

import gc
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

SKIP = ("threading.py", "frame_profiler.py")


@dataclass
class SlowFrame:
    start: float
    ms: float
    stacks: Counter = field(default_factory=Counter)  # stack signature -> samples
    gc_ms: float = 0.0
    gc_gens: list[int] = field(default_factory=list)
    main_cpu_ms: float = float("nan")  # CPU the main thread used in the gap: ~ms means busy, ~0 starved
    sampler_gap_ms: float = 0.0  # longest time the sampler itself could not run (GIL or CPU)


class FrameProfiler:
    """Start before the run and stop after it; `explain()` then says what the slow frames did."""

    def __init__(self, interval_s: float = 0.002, depth: int = 6) -> None:
        self.interval_s = interval_s
        self.depth = depth
        self.main = threading.main_thread().ident
        self.samples: list[tuple[float, str, float]] = []  # (time, stack, main thread CPU seconds)
        self.gc_pauses: list[tuple[float, float, int]] = []  # (start, seconds, generation)
        self._gc_start = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        gc.callbacks.append(self._gc)
        self._thread = threading.Thread(target=self._sample, name="bench-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        if self._thread is not None:
            self._thread.join(2)

    def _gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_pauses.append((self._gc_start, time.perf_counter() - self._gc_start, info.get("generation", -1)))

    def _sample(self) -> None:
        clock = time.pthread_getcpuclockid(self.main)
        while not self._stop.wait(self.interval_s):
            frame = sys._current_frames().get(self.main)
            if frame is None:
                continue
            now = time.perf_counter()
            cpu = time.clock_gettime(clock)
            parts: list[str] = []
            while frame is not None and len(parts) < self.depth:
                code = frame.f_code
                name = code.co_filename.rsplit("/", 2)
                short = "/".join(name[-2:])
                if not short.endswith(SKIP):
                    parts.append(f"{short}:{frame.f_lineno} {code.co_name}")
                frame = frame.f_back
            self.samples.append((now, " < ".join(parts), cpu))

    def explain(self, frame_times: list[float], threshold_ms: float = 40.0, top: int = 8,
                frame_cpu: list[float] | None = None) -> list[SlowFrame]:
        """The `top` longest gaps over threshold_ms between consecutive frame times (perf_counter);
        with `frame_cpu` (the main thread's CPU time at each frame), the `top` gaps in which the
        main thread itself worked longest instead."""
        pairs = list(zip(frame_times, frame_times[1:], strict=False))
        if frame_cpu is not None:
            work = [(b - a, i) for i, (a, b) in enumerate(zip(frame_cpu, frame_cpu[1:], strict=False))]
            picked = [i for _w, i in sorted(work, reverse=True)[:top]]
            slow = [SlowFrame(pairs[i][0], (pairs[i][1] - pairs[i][0]) * 1000) for i in picked]
        else:
            slow = [SlowFrame(a, (b - a) * 1000) for a, b in pairs if (b - a) * 1000 > threshold_ms]
            slow.sort(key=lambda s: -s.ms)
            slow = slow[:top]
        for s in slow:
            end = s.start + s.ms / 1000
            inside = [(t, sig, cpu) for t, sig, cpu in self.samples if s.start <= t <= end]
            s.stacks.update(sig for _t, sig, _cpu in inside)
            if len(inside) >= 2:
                s.main_cpu_ms = (inside[-1][2] - inside[0][2]) * 1000
                s.sampler_gap_ms = max((b[0] - a[0]) * 1000 for a, b in zip(inside, inside[1:], strict=False))
            for g0, secs, gen in self.gc_pauses:
                if s.start <= g0 <= end:
                    s.gc_ms += secs * 1000
                    s.gc_gens.append(gen)
        return slow

    def gc_summary(self, since: float, until: float) -> tuple[int, float]:
        """(collections, longest pause in ms) between two perf_counter times."""
        pauses = [secs for g0, secs, _gen in self.gc_pauses if since <= g0 <= until]
        return len(pauses), max(pauses, default=0.0) * 1000


def print_report(slow: list[SlowFrame], interval_s: float, out=sys.stderr) -> None:
    """Print each slow frame with its most common stacks (innermost first) and GC time."""
    for s in slow:
        gc_part = f", gc {s.gc_ms:.1f} ms (gen {s.gc_gens})" if s.gc_gens else ""
        print(f"-- slow frame {s.ms:.1f} ms{gc_part}; main thread CPU {s.main_cpu_ms:.1f} ms; "
              f"sampler starved up to {s.sampler_gap_ms:.1f} ms", file=out)
        for sig, n in s.stacks.most_common(3):
            print(f"   ~{n * interval_s * 1000:.0f} ms  {sig}", file=out)
