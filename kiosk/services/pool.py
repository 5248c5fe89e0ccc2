"""Worker threads for the service layer, with results handed back to the Kivy main loop."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from kivy.clock import Clock

log = logging.getLogger(__name__)


def post(fn: Callable[..., Any] | None, *args: Any) -> None:
    """Call fn(*args) on the UI thread at the next frame (no-op for None)."""
    if fn is not None:
        Clock.schedule_once(lambda _dt: fn(*args), 0)


def post_later(delay_s: float, fn: Callable[..., Any], *args: Any) -> None:
    """Call fn(*args) on the UI thread after delay_s seconds."""
    Clock.schedule_once(lambda _dt: fn(*args), delay_s)


def lower_thread_priority(delta: int) -> None:
    """Make the calling thread `delta` nice levels kinder than it is (Linux: per thread, and
    threads it creates later inherit it). Needs no privilege; a failure is only logged."""
    if not sys.platform.startswith("linux") or delta <= 0:
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + delta)
    except OSError as err:
        log.debug("thread priority unchanged: %s", err)


class Pool:
    """A named thread pool; `run` calls back on the UI thread. `nice` > 0 runs its threads (and
    the threads they start) at a lower CPU priority than the UI thread."""

    def __init__(self, name: str, workers: int = 2, nice: int = 0) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name,
                                            initializer=lower_thread_priority, initargs=(nice,))
        self.name = name

    def run(self, fn: Callable[..., Any], *args: Any, on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[BaseException], None] | None = None) -> Future:
        """Run fn(*args) on a worker; on_done(result) or on_error(exc) on the UI thread."""
        future = self._executor.submit(fn, *args)
        follow(future, on_done, on_error, what=getattr(fn, "__name__", "task"))
        return future

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def follow(future: Future, on_done: Callable[[Any], None] | None,
           on_error: Callable[[BaseException], None] | None, what: str = "task") -> None:
    """When `future` settles, post its result or exception to the UI thread."""

    def settled(f: Future) -> None:
        if f.cancelled():
            return
        err = f.exception()
        if err is None:
            post(on_done, f.result())
        elif on_error is not None:
            post(on_error, err)
        else:
            log.warning("%s failed: %s", what, type(err).__name__)

    future.add_done_callback(settled)
