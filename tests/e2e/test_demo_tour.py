"""`lobby-kiosk demo --headless`: the whole stack, driven by taps, ends with every step done."""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections import Counter

import pytest

from kiosk.tour import TourValues
from tests.e2e.demo_run import demo_run, processes_mentioning

pytestmark = [pytest.mark.slow, pytest.mark.timeout(700)]

EXPECTED_STEPS = ["home", "voice-request", "parcel-pickup", "blood-pressure", "staff-done",
                  "status-at-kiosk", "technician"]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def _ink_share(data: bytes, width: int, height: int) -> float:
    """Share of pixels that differ from the most common colour (8-bit RGBA, unfiltered rows)."""
    pos, idat = 8, b""
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = 1 + width * 4
    assert len(raw) == height * stride, "not 8-bit RGBA"
    assert all(raw[row * stride] == 0 for row in range(height)), "filtered rows: cannot count pixels"
    pixels = Counter(bytes(raw[row * stride + 1 + x * 4: row * stride + 5 + x * 4])
                     for row in range(0, height, 2) for x in range(0, width, 2))
    total = sum(pixels.values())
    return 1 - pixels.most_common(1)[0][1] / total


def test_every_step_of_the_tour_succeeds():
    run = demo_run()
    assert run.returncode == 0, run.explain()
    summary = run.summary
    assert summary["ok"] is True and summary["finished"] is True
    assert [s["step"] for s in summary["steps"]] == EXPECTED_STEPS
    failed = [(s["step"], s["error"]) for s in summary["steps"] if not s["ok"]]
    assert failed == []


def test_the_tour_produced_a_ticket_a_compartment_and_a_plausible_reading():
    summary = demo_run().summary
    assert re.fullmatch(r"[A-Za-z0-9-]{3,32}", str(summary["ticket"])), summary["ticket"]
    assert re.fullmatch(r"[A-Z]\d{2}", summary["compartment"]), summary["compartment"]
    r = summary["reading"]
    assert 70 <= r["systolic"] <= 260 and 40 <= r["diastolic"] <= 160 and 30 <= r["pulse"] <= 200
    assert r["systolic"] > r["diastolic"]
    office = next(s for s in summary["steps"] if s["step"] == "staff-done")["produced"]
    assert office["channel"] == "voice" and office["heard_chars"] == len(TourValues().spoken_text)
    status = next(s for s in summary["steps"] if s["step"] == "status-at-kiosk")
    assert status["produced"]["status"] == "done"
    assert status["produced"]["ticket"] == summary["ticket"]


def test_each_step_left_a_distinct_non_trivial_screenshot():
    run = demo_run()
    digests = set()
    for number, step in enumerate(run.summary["steps"], start=1):
        name = step["screenshot"]
        assert name == f"{number:02d}-{step['step']}.png"
        data = (run.out / name).read_bytes()
        width, height = _png_size(data)
        assert (width, height) == (540, 960)
        assert _ink_share(data, width, height) > 0.05, f"{name} is nearly empty"
        digests.add(hashlib.sha256(data).hexdigest())
    assert len(digests) == len(run.summary["steps"]), "two steps show the very same picture"


def test_the_demo_leaves_no_process_behind():
    run = demo_run()
    assert processes_mentioning(str(run.out)) == []
    assert "staff page" in run.stdout
