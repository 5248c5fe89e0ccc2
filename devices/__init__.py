"""devices: the kiosk's MQTT link to its building's hardware, simulators and the serial bridge.

Public surface: `devices.link.BuildingLink` and `devices.errors` (see docs/architecture.md and
docs/devices.md). Nothing happens at import time.
"""
