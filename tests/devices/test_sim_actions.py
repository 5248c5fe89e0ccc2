"""The simulators' delayed actions: one thread per device, in time order, robust to a failing action."""

from __future__ import annotations

import logging
import threading
import time

from devices.simulator.actions import DelayedActions


def test_actions_run_in_time_order_on_the_device_thread_and_survive_a_failure(caplog):
    actions = DelayedActions("sim-test-actions")
    ran: list[tuple[str, str]] = []
    done = threading.Event()

    def record(label: str) -> None:
        ran.append((label, threading.current_thread().name))
        if label == "last":
            done.set()

    def broken() -> None:
        raise RuntimeError("a bug in one action")

    with caplog.at_level(logging.ERROR, logger="devices.simulator.actions"):
        actions.later(0.15, record, "last")
        actions.later(0.05, broken)
        actions.later(0.0, record, "first")
        actions.later(0.1, record, "second")  # added after a later one: still runs before it
        assert done.wait(5)
    assert ran == [("first", "sim-test-actions"), ("second", "sim-test-actions"), ("last", "sim-test-actions")]
    assert "a delayed action failed" in caplog.text
    actions.stop()


def test_stop_drops_pending_actions_and_refuses_new_ones():
    actions = DelayedActions("sim-test-stop")
    ran: list[str] = []
    actions.later(0.2, ran.append, "dropped")
    actions.stop()
    actions.later(0.0, ran.append, "after stop")
    time.sleep(0.4)
    assert ran == []
