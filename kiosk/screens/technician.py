"""Technician: PIN keypad, then every device with availability in colour and words, test
actions, the outbox, voice and system status. Leaves (and forgets the PIN) on exit or idle.

The device list starts with a summary line (共 6 台：2 台离线) and pages with big
上一页/下一页 and 第 n / m 页, as many devices a page as fit. A locker bank's test
opens a grid of its compartments; the one chosen is opened after a confirmation.
"""

from __future__ import annotations

import math
import time
from types import SimpleNamespace
from typing import Any

from kivy.clock import Clock
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)

from kiosk.pin_gate import PinGate
from kiosk.screens.base import KioskScreen
from kiosk.screens.steps import load_pager_kv
from kiosk.services import failure_key
from kiosk.widgets import Card, SmallButton

REFRESH_S = 2.0
_VIEW_PARTS = {"devices": "devices_page", "status": "status_page", "compartments": "compartments_page",
               "confirm_open": "confirm_page"}
_VIEW_INSTRUCTIONS = {"compartments": "technician.instr_compartments",
                      "confirm_open": "technician.instr_confirm_open"}
STATUS_BY_AVAILABILITY = {"online": "ok", "offline": "danger", "unknown": "warn"}


class DeviceRow(Card):
    """One device: name, availability badge, last seen, fault, a test button."""

    heading = StringProperty("")
    status = StringProperty("warn")
    status_text = StringProperty("")
    detail = StringProperty("")
    action_text = StringProperty("")
    action = ObjectProperty(None, allownone=True)

    def run_action(self) -> None:
        if self.action is not None:
            self.action()


class TechnicianScreen(KioskScreen):
    """Technicians only: entered from Home's corner button with the PIN."""

    name = "technician"
    title_key = "technician.title"
    unlocked = BooleanProperty(False)
    tab = StringProperty("devices")
    pin_message = StringProperty("")
    busy = BooleanProperty(False)
    view = OptionProperty("devices", options=("devices", "compartments", "confirm_open"))
    summary_text = StringProperty("")
    summary_status = StringProperty("ok")
    locker_id = StringProperty("")       # the bank whose compartments are shown
    compartment = StringProperty("")     # the compartment waiting for 确定打开
    compartment_cols = NumericProperty(4)
    result_text = StringProperty("")
    outbox_text = StringProperty("")
    voice_text = StringProperty("")
    system_text = StringProperty("")
    empty_text = StringProperty("")

    def __init__(self, **kw: Any) -> None:
        self._demo_devices: list[Any] | None = None
        self._demo_health: Any = None
        self._refresh_ev = None
        self._health: Any = None
        self._health_error = ""
        self._lock_shown = False
        self._compartments: list[str] = []
        self._rows: dict[tuple[str, str], DeviceRow] = {}
        load_pager_kv()
        super().__init__(**kw)
        # kv ids are weak: keep the parts that are taken out of the tree alive
        self._parts = {name: self.ids[name].__self__ for name in (
            "pin_page", "dashboard", "devices_page", "status_page", "compartments_page", "confirm_page")}
        self._services = self.app.services
        self._refill = Clock.create_trigger(lambda _dt: self._fill_devices() if self.unlocked else None)
        self.gate = PinGate(self.app.cfg.technician_pin_hash, self.app.cfg.state_dir)
        self._show()

    # -- PIN -----------------------------------------------------------------------------
    def _show(self) -> None:
        """Attach the PIN page or the dashboard (only one is in the widget tree)."""
        box = self.ids.body
        box.clear_widgets()
        if self.unlocked:
            view = "status" if self.tab == "status" else self.view
            self.set_instructions(_VIEW_INSTRUCTIONS.get(view, "technician.dashboard"))
            box.add_widget(self._parts["dashboard"])
            pages = self.ids.pages
            pages.clear_widgets()
            pages.add_widget(self._parts[_VIEW_PARTS[view]])
        else:
            self.set_instructions("technician.enter_pin")
            box.add_widget(self._parts["pin_page"])
            if not self.app.cfg.technician_pin_hash:
                self.pin_message = self.t("technician.no_pin")
            else:
                self._show_lock()

    def _show_lock(self) -> bool:
        remaining = self.gate.remaining_s()
        if remaining > 0:
            self.pin_message = self.t("technician.locked", minutes=max(1, math.ceil(remaining / 60)))
            self._lock_shown = True
            return True
        return False

    def submit_pin(self) -> None:
        pin = self.ids.keypad.value
        if self.busy:
            return
        if not self.app.cfg.technician_pin_hash:
            self.pin_message = self.t("technician.no_pin")
            return
        if self._show_lock():
            self.ids.keypad.clear()
            return
        if len(pin) < 4:
            self.pin_message = self.t("technician.pin_too_short")
            return
        self.busy = True
        self.pin_message = self.t("technician.checking")
        self.ids.keypad.clear()
        self.services.run(self.gate.check, pin, on_done=self._pin_checked, on_error=self._pin_failed)

    def _pin_checked(self, result: Any) -> None:
        self.busy = False
        if result.outcome == "ok":
            self.pin_message = ""
            self.unlocked = True
            self.tab = "devices"
            self._show()
            self.refresh()
        elif result.outcome == "wrong":
            self.pin_message = self.t("technician.wrong_pin", attempts=result.attempts_left)
        elif result.outcome == "locked":
            self._lock_shown = True
            self.pin_message = self.t("technician.locked", minutes=max(1, math.ceil(result.remaining_s / 60)))
        else:
            self.pin_message = self.t("technician.no_pin")

    def _pin_failed(self, err: BaseException) -> None:
        self.busy = False
        self.pin_message = self.t(failure_key(err))

    # -- dashboard -------------------------------------------------------------------------
    def show_tab(self, tab: str) -> None:
        self.tab = tab
        self.view = "devices"
        self._show()
        self.refresh()

    def exit(self) -> None:
        self.go_home()

    def on_enter(self, *_args) -> None:
        if self._refresh_ev is None:
            self._refresh_ev = Clock.schedule_interval(lambda _dt: self.refresh(), REFRESH_S)
        self._services.devices.remove_listener(self._device_changed)
        self._services.devices.add_listener(self._device_changed)
        self.refresh()

    def on_leave(self, *_args) -> None:
        if self._refresh_ev is not None:
            self._refresh_ev.cancel()
            self._refresh_ev = None
        self._services.devices.remove_listener(self._device_changed)

    def on_app_stop(self) -> None:
        self.on_leave()
        self._refill.cancel()

    def _device_changed(self, _info: Any) -> None:
        if self.unlocked and self.tab == "devices" and self.view == "devices":
            self._refill()  # coalesced: one rebuild per frame however many updates arrive

    def refresh(self) -> None:
        if not self.unlocked:
            if self.app.cfg.technician_pin_hash and not self.busy and not self._show_lock() and self._lock_shown:
                self.pin_message = ""  # the lock-out is over
                self._lock_shown = False
            return
        if self.tab == "devices":
            if self.view == "devices":
                self._fill_devices()
        else:
            if self._demo_health is None:
                self.services.requests.health(on_done=self._got_health, on_error=self._health_failed)
            self._fill_status()

    def _got_health(self, health: Any) -> None:
        self._health, self._health_error = health, ""
        self._fill_status()

    def _health_failed(self, err: BaseException) -> None:
        self._health = None
        self._health_error = getattr(err, "detail", "") or str(err) or type(err).__name__
        self._fill_status()

    def devices(self) -> list[Any]:
        if self._demo_devices is not None:
            return self._demo_devices
        return sorted(self.services.devices.snapshot(), key=lambda d: (d.kind, d.id))

    def _fill_devices(self) -> None:
        devices = self.devices()
        connected = self.services.devices.connected or self._demo_devices is not None
        broker = self.t("technician.broker_connected" if connected else "technician.broker_disconnected")
        self.empty_text = "" if devices else self.t("technician.no_devices", broker=broker)
        self._summarise(devices)
        rows = [self._row(info) for info in devices]
        if rows != self.ids.device_list.items:
            self.ids.device_list.set_items(rows, keep_page=True)

    def _summarise(self, devices: list[Any]) -> None:
        """The line at the top: how many devices, how many offline or unknown, in words and colour."""
        count = {"online": 0, "offline": 0, "unknown": 0}
        for info in devices:
            count[info.availability if info.availability in count else "unknown"] += 1
        if not devices:
            self.summary_status, self.summary_text = "warn", self.t("technician.summary_none")
        elif count["offline"]:
            self.summary_status = "danger"
            self.summary_text = self.t("technician.summary_offline", n=len(devices), offline=count["offline"],
                                       unknown=count["unknown"])
        elif count["unknown"]:
            self.summary_status = "warn"
            self.summary_text = self.t("technician.summary_unknown", n=len(devices), unknown=count["unknown"])
        else:
            self.summary_status, self.summary_text = "ok", self.t("technician.summary_ok", n=len(devices))

    def _row(self, info: Any) -> DeviceRow:
        kind_name = self.t(f"technician.kind_{info.kind}") if info.kind in ("door", "locker", "health") else info.kind
        avail = info.availability if info.availability in STATUS_BY_AVAILABILITY else "unknown"
        fault = self.t("technician.fault", fault=info.fault) if info.fault else self.t("technician.no_fault")
        row = self._rows.get((info.kind, info.id))
        if row is None:   # rows are kept and updated: a refresh every 2 s must not rebuild the list
            row = self._rows[(info.kind, info.id)] = DeviceRow()
        row.heading = f"{kind_name} {info.id}"
        row.status = STATUS_BY_AVAILABILITY[avail]
        row.status_text = self.t(f"common.{avail}")
        row.detail = f"{self.t('technician.last_seen', when=self._ago(info.last_seen))}\n{fault}"
        label = f"{kind_name} {info.id}"
        if info.kind == "door":
            row.action_text = self.t("technician.test_unlock")
            row.action = lambda: self._test(label, lambda ok, bad: self.services.devices.unlock(
                info.id, ok, bad, seconds=3, force=True))
        elif info.kind == "locker":
            row.action_text = self.t("technician.test_choose")
            row.action = lambda: self.choose_compartment(info.id, compartments(info))
        elif info.kind == "health":
            row.action_text = self.t("technician.test_measure")
            row.action = lambda: self._test(label, lambda ok, bad: self._measure(info.id, ok, bad))
        return row

    def _measure(self, device_id: str, on_done: Any, on_error: Any) -> None:
        link = self.services.devices.link
        if link is None:
            self.services.devices.measure(on_done, on_error)
            return
        from kiosk.services.pool import follow  # noqa: PLC0415

        try:
            follow(link.health(device_id).measure(force=True), on_done, on_error, what="measure")
        except Exception as err:  # raised at once by the link (bad id): shown as a failure
            on_error(err)

    def _test(self, label: str, start: Any) -> None:
        self.result_text = self.t("technician.testing", device=label)

        def done(result: Any) -> None:
            if hasattr(result, "systolic"):
                self.result_text = self.t("technician.test_reading", device=label, systolic=result.systolic,
                                          diastolic=result.diastolic, pulse=result.pulse)
            else:
                self.result_text = self.t("technician.test_ok", device=label)

        def failed(err: BaseException) -> None:
            reason = getattr(err, "code", None) or type(err).__name__
            self.result_text = self.t("technician.test_failed", device=label, reason=reason)

        start(done, failed)

    # -- a locker bank's compartments ------------------------------------------------------
    def choose_compartment(self, locker_id: str, names: list[str]) -> None:
        """Show the bank's compartments as big buttons (测试：开格口)."""
        self.locker_id = locker_id
        self.compartment = ""
        self._compartments = names
        self.view = "compartments"
        self._show()
        self._fill_compartments()

    def _fill_compartments(self) -> None:
        self.compartment_cols = 3 if self.theme.large_text else 4
        buttons = []
        for name in self._compartments:
            button = SmallButton(text=name, style="secondary", size_hint_y=None, height=self.theme.button_height,
                                 font_size=self.theme.font_title)
            button.bind(on_release=lambda b: self.pick_compartment(b.text))
            buttons.append(button)
        self.ids.compartment_grid.set_items(buttons)

    def pick_compartment(self, name: str) -> None:
        """A compartment button: ask before opening it (a real door opens)."""
        self.compartment = name
        self.view = "confirm_open"
        self._show()

    def open_chosen(self) -> None:
        """确定打开: open the chosen compartment, back to the list with the result."""
        locker_id, name = self.locker_id, self.compartment
        label = f"{self.t('technician.kind_locker')} {locker_id} {name}"
        self.back_to_devices()
        self._test(label, lambda ok, bad: self.services.devices.open_compartment(locker_id, name, ok, bad, force=True))

    def back_to_devices(self) -> None:
        """取消 / 返回 from the compartments: the device list."""
        self.view = "devices"
        self.compartment = ""
        self._show()
        self.refresh()

    def go_back(self) -> None:
        if self.unlocked and self.view != "devices":
            if self.view == "confirm_open":
                self.view = "compartments"
                self._show()
            else:
                self.back_to_devices()
            return
        super().go_back()

    def _fill_status(self) -> None:
        t = self.t
        h = self._demo_health or self._health
        if h is None:
            reason = self._health_error or self.services.requests.reason or "…"
            self.outbox_text = t("technician.outbox_unavailable", reason=reason)
        else:
            lines = [
                t("technician.depth", n=h.depth),
                t("technician.oldest", when=self._duration(h.oldest_pending_s) if h.oldest_pending_s else t("technician.none")),
                t("technician.last_success", when=self._ago(h.last_success)),
                t("technician.last_error", error=h.last_error or t("technician.none")),
                t("technician.rejected", n=h.rejected),
                t("technician.alarm", alarm=h.alarm or t("technician.none")),
                t("technician.capacity", warning=h.capacity_warning or t("technician.none")),
            ]
            if getattr(h, "agent_seen", None) is not None:
                lines.append(t("technician.agent_seen", when=self._ago(h.agent_seen)))
            self.outbox_text = "\n".join(lines)
        vs = self.services.voice.status() if self._demo_health is None else SimpleNamespace(
            state="ready", reason=None, model="vosk-model-small-cn-0.22", microphone="USB Audio (hw:1,0)")
        state = t(f"technician.voice_{vs.state}") if vs.state in ("ready", "loading", "unavailable") else vs.state
        lines = [t("technician.voice_state", state=state)]
        if vs.reason and vs.state != "ready":
            lines.append(t("technician.voice_reason", reason=vs.reason))
        lines.append(t("technician.voice_model", model=vs.model or t("technician.none")))
        lines.append(t("technician.voice_mic", mic=vs.microphone or t("technician.none")))
        self.voice_text = "\n".join(lines)
        services = self.services
        free = services.free_disk_mb()
        connected = services.devices.connected or self._demo_health is not None
        self.system_text = "\n".join([
            t("technician.version", version=services.version),
            t("technician.uptime", when=self._duration(services.uptime_s())),
            t("technician.disk", mb=f"{free:,.0f}" if free is not None else "?"),
            t("technician.broker", state=t("technician.broker_connected" if connected else "technician.broker_disconnected")),
        ])

    def _ago(self, ts: float | None) -> str:
        if not ts:
            return self.t("technician.never")
        s = max(0, int(time.time() - ts))
        if s < 120:
            return self.t("technician.ago_s", n=s)
        if s < 7200:
            return self.t("technician.ago_min", n=s // 60)
        return self.t("technician.ago_h", n=s // 3600)

    def _duration(self, seconds: float) -> str:
        s = int(seconds)
        if s < 120:
            return self.t("technician.duration_s", n=s)
        if s < 7200:
            return self.t("technician.duration_min", n=s // 60)
        return self.t("technician.duration_h", n=s // 3600)

    # -- hooks -------------------------------------------------------------------------------
    def on_language(self) -> None:
        self._show()
        if self.unlocked:
            self.refresh()
            if self.view == "compartments":
                self._fill_compartments()

    def reset(self) -> None:
        """Log out and forget the typed PIN and test results."""
        self.ids.keypad.clear()
        self.unlocked = False
        self.busy = False
        self.tab = "devices"
        self.view = "devices"
        self.locker_id = self.compartment = ""
        self._compartments = []
        self._rows.clear()
        self.result_text = ""
        self.pin_message = ""
        self._demo_devices = None
        self._demo_health = None
        self._show()

    def show_demo_state(self) -> None:
        now = time.time()
        self._demo_devices = [
            SimpleNamespace(kind="door", id="door-main", availability="online", last_seen=now - 3, fault=None,
                            state={"locked": True}),
            SimpleNamespace(kind="locker", id="locker-1", availability="online", last_seen=now - 8, fault=None,
                            state={"compartments": {"A01": {}, "A12": {}}}),
            SimpleNamespace(kind="health", id="bp-1", availability="offline", last_seen=now - 1260,
                            fault="cuff_disconnected", state=None),
        ]
        self._demo_health = SimpleNamespace(depth=2, oldest_pending_s=95.0, last_success=now - 40,
                                            last_error="central unreachable: connection refused", rejected=0,
                                            alarm=None, capacity_warning=None, agent_seen=now - 5)
        self.unlocked = True
        self.tab = "devices"
        self._show()
        self._fill_devices()
        self.result_text = self.t("technician.test_ok", device=f"{self.t('technician.kind_door')} door-main")


def compartments(info: Any) -> list[str]:
    """A locker bank's compartment names from its reported state, in order (A01, A02, ... B01)."""
    comps = info.state.get("compartments") if isinstance(info.state, dict) else None
    return sorted(str(name) for name in comps) if isinstance(comps, dict) else []
