"""Rate-limited drop warnings: a flood gives a few lines and one summary, never a line per message."""

import logging

from devices.throttle import ThrottledLog


def test_burst_then_summary(caplog):
    logger = logging.getLogger("tests.devices.throttle")
    now = [100.0]
    log = ThrottledLog(logger, period_s=10, burst=3, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="tests.devices.throttle"):
        for i in range(1000):
            log.warning("state", "dropped state %d", i)
        log.warning("event", "dropped event")
        now[0] += 11
        log.warning("state", "dropped state again")
    lines = [r.getMessage() for r in caplog.records]
    assert lines[:3] == ["dropped state 0", "dropped state 1", "dropped state 2"]
    assert "dropped event" in lines
    assert "997 more like 'state' were dropped without a log line" in lines
    assert lines[-1] == "dropped state again"
    assert len(lines) == 6 and log.dropped == 1002
