"""Technician screen driven by taps: wrong PIN, lock-out that survives a restart, the device
list from a real broker with simulated devices (summary line, pages), test actions (a door, a
compartment chosen from the bank's grid after a confirmation), leaving on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kiosk.pin_gate import PinGate
from tests.kiosk.conftest import TEST_PIN, make_config


@contextmanager
def simulated(port: int, building: str, **counts: int) -> Iterator[Any]:
    """The device simulators (doors, lockers, health stations) on the broker at `port`, ready."""
    from devices.settings import BrokerSettings
    from devices.simulator.runner import SimConfig, Simulation

    sim = Simulation(SimConfig(broker=BrokerSettings(host="127.0.0.1", port=port), building=building, **counts))
    sim.start()
    try:
        assert sim.wait_ready(10)
        yield sim
    finally:
        sim.stop()


def unlock(d, app):
    """From home: the corner button, the PIN, 确定; waits until the dashboard shows."""
    yield from d.tap(d.find(id="btn_technician"))
    yield from type_pin(d, TEST_PIN)
    yield from d.tap(d.find(id="confirm"))
    yield from d.wait(lambda: app.screen("technician").unlocked, what="unlocked")


def type_pin(d, pin: str):
    for digit in pin:
        yield from d.tap(d.find(text=digit))


def test_wrong_pins_lock_the_technician_screen_for_5_minutes(kiosk_app, kiosk_config, drive):
    app = kiosk_app(cfg=kiosk_config)

    def scenario(d):
        yield from d.tap(d.find(id="btn_technician"))
        yield from d.wait(lambda: app.current == "technician", what="technician screen")
        screen = app.screen("technician")
        assert d.find(id="keypad") and not screen.unlocked
        for attempt in range(1, 5):
            yield from type_pin(d, "1357")
            yield from d.tap(d.find(id="confirm"))
            yield from d.wait(lambda: not screen.busy and "次" in screen.pin_message, what="wrong-PIN message")
            assert screen.pin_message == f"密码不对，还可以再试 {5 - attempt} 次。"
            assert screen.ids.keypad.value == ""  # the typed PIN is not kept
        yield from type_pin(d, "9999")
        yield from d.tap(d.find(id="confirm"))
        yield from d.wait(lambda: not screen.busy and "锁定" in screen.pin_message, what="lock-out")
        assert "5 分钟" in screen.pin_message
        # even the right PIN is refused while locked
        yield from type_pin(d, TEST_PIN)
        yield from d.tap(d.find(id="confirm"))
        yield from d.frames(5)
        assert not screen.unlocked and "锁定" in screen.pin_message

    drive(app, scenario)
    # persisted: a new gate (a restarted kiosk) on the same state_dir is still locked
    gate = PinGate(kiosk_config.technician_pin_hash, kiosk_config.state_dir)
    assert 280 < gate.remaining_s() <= 300
    assert gate.check(TEST_PIN).outcome == "locked"
    later = PinGate(kiosk_config.technician_pin_hash, kiosk_config.state_dir, clock=lambda: gate.clock() + 301)
    assert later.check(TEST_PIN).outcome == "ok"


def test_pin_gate_survives_a_damaged_lock_file(tmp_path):
    gate = PinGate(make_config(tmp_path).technician_pin_hash, tmp_path)
    gate.path.write_text("{not json")
    assert gate.check(TEST_PIN).outcome == "locked"  # damaged state never unlocks


def test_technician_sees_devices_tests_a_door_and_leaves(mosquitto, tmp_path, kiosk_app, drive):
    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    app = kiosk_app(cfg=cfg)

    def scenario(d):
        yield from d.wait(lambda: app.services.devices.connected, what="broker connection")
        yield from unlock(d, app)
        screen = app.screen("technician")
        yield from d.wait(lambda: d.find_all(contains="门禁 door-1") and d.find_all(contains="快递柜 locker-1"),
                          what="both devices listed")
        assert d.find_all(text="在线")  # availability in words, not colour alone
        assert screen.summary_text == "共 2 台设备，全部在线" and screen.summary_status == "ok"
        yield from d.tap(d.find(text="测试：开门"))
        yield from d.wait(lambda: screen.result_text == "门禁 door-1：成功", what="door test result")
        # a compartment of the technician's choice, after a confirmation
        yield from d.tap(d.find(text="测试：开格口"))
        assert screen.view == "compartments" and "选一个格口" in screen.instructions + d.find(
            id="compartments_title").text
        names = [b.text for b in screen.ids.compartment_grid.items]
        assert len(names) == 4
        chosen = names[2]
        yield from d.tap(d.find(text=chosen))
        assert screen.view == "confirm_open" and chosen in d.find(id="confirm_open_text").text
        yield from d.tap(d.find(id="back"))                  # 返回: back to the grid, nothing opened
        assert screen.view == "compartments"
        yield from d.tap(d.find(text=chosen))
        yield from d.tap(d.find(id="open_confirm"))
        yield from d.wait(lambda: screen.result_text == f"快递柜 locker-1 {chosen}：成功", what="compartment test")
        assert screen.view == "devices"
        yield from d.wait(lambda: sim.devices["locker-1"].open_doors == {chosen}, what="that door opened")
        yield from d.tap(d.find(id="tab_status"))
        yield from d.wait(lambda: "待发送：0 条" in screen.outbox_text, what="outbox status")
        assert "版本：" in screen.system_text and "楼内网络：已连接" in screen.system_text
        assert "状态：" in screen.voice_text
        yield from d.tap(d.find(id="exit"))
        yield from d.wait(lambda: app.current == "home", what="home after exit")
        assert not screen.unlocked  # leaving logs out

    with simulated(mosquitto.port, cfg.building_id, doors=1, lockers=1, health=0, compartments=4) as sim:
        drive(app, scenario)


def test_device_list_pages_with_words_and_says_what_is_offline(mosquitto, tmp_path, kiosk_app, drive):
    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    app = kiosk_app(cfg=cfg)

    def scenario(d):
        yield from d.wait(lambda: len(app.services.devices.snapshot()) == 12, what="12 devices known")
        yield from unlock(d, app)
        screen = app.screen("technician")
        yield from d.frames(3)
        grid = screen.ids.device_list
        per_page = len(d.find_all(cls="DeviceRow"))
        assert per_page > 4                                   # more than the old four a page
        assert grid.pages == -(-12 // per_page) >= 2
        assert d.find(id="page_label").text == f"第 1 / {grid.pages} 页"
        seen = {r.heading for r in d.find_all(cls="DeviceRow")}
        yield from d.tap(d.find(id="next_page"))
        yield from d.frames(2)
        assert d.find(id="page_label").text == f"第 2 / {grid.pages} 页"
        seen |= {r.heading for r in d.find_all(cls="DeviceRow")}
        screen.refresh()                                      # the periodic refresh keeps the page
        yield from d.frames(2)
        assert grid.page == 1
        for _ in range(grid.pages - 2):
            yield from d.tap(d.find(id="next_page"))
            yield from d.frames(2)
            seen |= {r.heading for r in d.find_all(cls="DeviceRow")}
        assert len(seen) == 12
        sim.set_fault("door-3", "offline")
        sim.set_fault("health-2", "offline")
        yield from d.wait(lambda: screen.summary_status == "danger", what="the summary to notice")
        assert screen.summary_text == "共 12 台设备：2 台离线，0 台状态不明"
        badge = d.find(id="summary_badge")
        assert badge.style == "danger" and badge.text == screen.summary_text   # colour and words

    with simulated(mosquitto.port, cfg.building_id, doors=8, lockers=2, health=2, compartments=4) as sim:
        drive(app, scenario)
