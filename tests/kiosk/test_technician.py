"""Technician screen driven by taps: wrong PIN, lock-out that survives a restart, the device
list from a real broker with simulated devices, a test action, leaving on exit."""

from __future__ import annotations

from kiosk.pin_gate import PinGate
from tests.kiosk.conftest import TEST_PIN, make_config


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
    from devices.settings import BrokerSettings
    from devices.simulator.runner import SimConfig, Simulation

    cfg = make_config(tmp_path / "state", broker_port=mosquitto.port)
    sim = Simulation(SimConfig(broker=BrokerSettings(host="127.0.0.1", port=mosquitto.port),
                               building=cfg.building_id, doors=1, lockers=1, health=0, compartments=4))
    sim.start()
    assert sim.wait_ready(10)
    app = kiosk_app(cfg=cfg)

    def scenario(d):
        yield from d.wait(lambda: app.services.devices.connected, what="broker connection")
        yield from d.tap(d.find(id="btn_technician"))
        yield from type_pin(d, TEST_PIN)
        yield from d.tap(d.find(id="confirm"))
        screen = app.screen("technician")
        yield from d.wait(lambda: screen.unlocked, what="unlocked")
        yield from d.wait(lambda: d.find_all(contains="门禁 door-1") and d.find_all(contains="快递柜 locker-1"),
                          what="both devices listed")
        assert d.find_all(text="在线")  # availability in words, not colour alone
        yield from d.tap(d.find(text="测试：开门"))
        yield from d.wait(lambda: screen.result_text == "门禁 door-1：成功", what="door test result")
        yield from d.tap(d.find(id="tab_status"))
        yield from d.wait(lambda: "待发送：0 条" in screen.outbox_text, what="outbox status")
        assert "版本：" in screen.system_text and "楼内网络：已连接" in screen.system_text
        assert "状态：" in screen.voice_text
        yield from d.tap(d.find(id="exit"))
        yield from d.wait(lambda: app.current == "home", what="home after exit")
        assert not screen.unlocked  # leaving logs out

    try:
        drive(app, scenario)
    finally:
        sim.stop()
