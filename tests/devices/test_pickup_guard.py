"""Brute-force protection: 5 wrong codes in 10 minutes lock pick-up for 5 minutes, across restarts."""

import json

from devices.pickup_guard import PickupGuard


class Clock:
    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_five_wrong_codes_lock_for_five_minutes(tmp_path):
    clock = Clock()
    guard = PickupGuard(tmp_path / "g.json", clock=clock)
    assert [guard.record_wrong() for _ in range(4)] == [4, 3, 2, 1]
    assert guard.lockout_remaining() == 0
    assert guard.record_wrong() == 0
    assert guard.lockout_remaining() == 300
    clock.t += 299
    assert guard.lockout_remaining() == 1
    clock.t += 2
    assert guard.lockout_remaining() == 0
    assert guard.attempts_left() == 5  # a fresh start after the lock-out


def test_wrong_codes_older_than_ten_minutes_do_not_count(tmp_path):
    clock = Clock()
    guard = PickupGuard(tmp_path / "g.json", clock=clock)
    for _ in range(4):
        guard.record_wrong()
    clock.t += 601
    assert guard.record_wrong() == 4
    assert guard.lockout_remaining() == 0


def test_counter_and_lockout_survive_a_restart(tmp_path):
    clock = Clock()
    path = tmp_path / "state" / "pickup-guard.json"
    first = PickupGuard(path, clock=clock)
    for _ in range(3):
        first.record_wrong()
    second = PickupGuard(path, clock=clock)  # "app restart"
    assert second.attempts_left() == 2
    second.record_wrong()
    second.record_wrong()
    third = PickupGuard(path, clock=clock)
    assert third.lockout_remaining() == 300
    assert json.loads(path.read_text())["locked_until"] == clock.t + 300
    assert sorted(p.name for p in path.parent.iterdir()) == ["pickup-guard.json"]  # no temp files left


def test_unreadable_counter_fails_closed(tmp_path):
    path = tmp_path / "g.json"
    path.write_text("{garbage")
    guard = PickupGuard(path, clock=Clock())
    assert guard.lockout_remaining() == 300
