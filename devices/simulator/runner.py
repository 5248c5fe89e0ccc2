"""A whole simulated building: N doors, locker banks and health stations on one broker."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from devices.settings import BrokerSettings
from devices.simulator.base import SimDevice, parse_fault
from devices.simulator.door import SimDoor
from devices.simulator.health import SimHealth
from devices.simulator.locker import SimLocker

log = logging.getLogger(__name__)


@dataclass
class SimConfig:
    """What to simulate. Codes are dealt round-robin to the locker banks."""

    broker: BrokerSettings
    building: str = "demo"
    doors: int = 1
    lockers: int = 1
    compartments: int = 24
    health: int = 1
    codes: list[str] = field(default_factory=list)
    keepalive: int = 10
    measure_seconds: float = 3.0
    door_close_s: float = 2.0
    faults: dict[str, str] = field(default_factory=dict)
    seed: int = 0


class Simulation:
    """Builds the devices from a SimConfig; `start()`, `wait_ready()`, `set_fault()`, `stop()`."""

    def __init__(self, config: SimConfig) -> None:
        c = config
        for spec in c.faults.values():
            parse_fault(spec)
        common = {"keepalive": c.keepalive, "seed": c.seed}
        self.devices: dict[str, SimDevice] = {}
        for i in range(1, c.doors + 1):
            self._add(SimDoor(c.broker, c.building, f"door-{i}", **common))
        for i in range(1, c.lockers + 1):
            codes = c.codes[i - 1::c.lockers]
            self._add(SimLocker(c.broker, c.building, f"locker-{i}", compartments=c.compartments, codes=codes,
                                door_close_s=c.door_close_s, **common))
        for i in range(1, c.health + 1):
            self._add(SimHealth(c.broker, c.building, f"health-{i}", measure_s=c.measure_seconds, **common))
        unknown = set(c.faults) - set(self.devices)
        if unknown:
            raise ValueError(f"--fault names unknown device(s): {', '.join(sorted(unknown))}")
        self.config = c

    def _add(self, device: SimDevice) -> None:
        self.devices[device.id] = device

    def start(self) -> None:
        for device_id, device in self.devices.items():
            spec = self.config.faults.get(device_id)
            if spec:
                device.set_fault(spec)
            device.start()

    def wait_ready(self, timeout: float) -> bool:
        """True once every device's availability reached the broker."""
        deadline = time.monotonic() + timeout
        for device in self.devices.values():
            if not device.endpoint.ready.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def set_fault(self, device_id: str, spec: str) -> None:
        self.devices[device_id].set_fault(spec)

    def stop(self, graceful: bool = True) -> None:
        for device in self.devices.values():
            device.stop(graceful)
