"""End-pointing in audio time and PCM levels/conversion (pure logic, no audio devices)."""

import struct
from array import array

import pytest

from voice.endpoint import End, EndpointConfig, Endpointer
from voice.pcm import FLOOR_DBFS, RATE, convert, dbfs, level, samples

B = 0.05  # one block


def run(ep: Endpointer, pattern: list[tuple[float, float]]) -> End | None:
    """Feed (seconds, dBFS) runs block by block; return the first end reason."""
    for seconds, db in pattern:
        for _ in range(round(seconds / B)):
            why = ep.feed(B, db)
            if why:
                return why
    return None


def test_silence_after_speech_ends_the_utterance_after_silence_s():
    ep = Endpointer(EndpointConfig(silence_s=0.8, max_s=15, gate_dbfs=-40))
    assert run(ep, [(0.5, -70), (1.0, -20), (0.75, -70)]) is None
    assert run(ep, [(0.05, -70)]) is End.SILENCE
    assert ep.speech_start_s == pytest.approx(0.5)
    assert ep.last_speech_s == pytest.approx(1.5)
    assert ep.audio_s == pytest.approx(2.3)


def test_short_pauses_inside_speech_do_not_end_it():
    ep = Endpointer(EndpointConfig(silence_s=0.8))
    assert run(ep, [(1, -20), (0.6, -70), (1, -20), (0.6, -70), (0.5, -20)]) is None
    assert ep.in_speech


def test_hard_cap_counts_from_the_start_of_speech():
    ep = Endpointer(EndpointConfig(max_s=3, no_speech_s=None))
    assert run(ep, [(2, -70), (10, -10)]) is End.CAP
    assert ep.audio_s == pytest.approx(5.0)


def test_hum_below_the_gate_never_starts_an_utterance_and_press_to_talk_gives_up():
    ep = Endpointer(EndpointConfig(gate_dbfs=-40, no_speech_s=8))
    assert run(ep, [(20, -45)]) is End.NO_SPEECH
    assert ep.speech_start_s is None
    assert ep.audio_s == pytest.approx(8.0)


def test_hands_free_waits_for_speech_and_a_click_does_not_start_it():
    ep = Endpointer(EndpointConfig(no_speech_s=None, min_speech_s=0.1))
    assert run(ep, [(60, -80), (0.05, -5), (1, -80)]) is None
    assert ep.speech_start_s is None
    assert run(ep, [(0.3, -20)]) is None
    assert ep.speech_start_s == pytest.approx(61.05)


def test_explicit_end_keeps_the_first_reason():
    ep = Endpointer(EndpointConfig())
    run(ep, [(0.5, -20)])
    assert ep.end(End.STOP) is End.STOP
    assert ep.end(End.END_OF_INPUT) is End.STOP
    assert ep.feed(B, -20) is End.STOP


def test_levels():
    assert dbfs(b"") == FLOOR_DBFS
    assert dbfs(bytes(1600)) == FLOOR_DBFS
    full = struct.pack("<4h", 32767, -32768, 32767, -32768)
    assert dbfs(full) == pytest.approx(0.0, abs=0.01)
    quiet = struct.pack("<4h", 100, -100, 100, -100)
    assert dbfs(quiet) == pytest.approx(-50.3, abs=0.1)
    # the gate shortcut reports the peak, which is never below the RMS
    assert dbfs(quiet, gate_dbfs=-40) >= dbfs(quiet)
    assert level(-80) == 0.0 and level(0) == 1.0 and level(-30) == pytest.approx(0.5)


def test_convert_downmixes_and_resamples():
    tone = array("h", [1000, -1000] * 4410)  # 0.2 s of 22.05 kHz, stereo below
    stereo = array("h")
    for v in tone:
        stereo.extend((v, v // 2))
    out = samples(convert(stereo.tobytes(), 44100, 2, 2))
    assert len(out) == pytest.approx(0.2 * RATE, abs=2)
    assert max(out) <= 750 and min(out) >= -750
    eight_bit = bytes([128 + 10] * 800)
    assert set(samples(convert(eight_bit, 8000, 1, 1))) == {10 << 8}
    with pytest.raises(ValueError, match="24-bit"):
        convert(bytes(30), 16000, 1, 3)
