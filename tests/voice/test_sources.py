"""Audio sources chosen by URI, and WAV files read block by block."""

import pytest

from tests.voice.conftest import silence, write_wav
from voice.audio import FileSource, MicSource, open_source
from voice.errors import SourceError
from voice.pcm import block_frames


def test_uris_choose_the_source():
    assert isinstance(open_source(None, "USB"), MicSource) and open_source(None, "USB").device == "USB"
    assert open_source("mic://", "USB").device == "USB"
    assert open_source("mic://plughw%3A1%2C0").device == "plughw:1,0"
    assert open_source("mic://2").device == "2"
    src = open_source("file:///tmp/a%20b.wav")
    assert isinstance(src, FileSource) and src.path == "/tmp/a b.wav" and src.paced and src.realtime
    fast = open_source("file:///tmp/x.wav?pace=fast")
    assert not fast.paced and not fast.realtime
    for bad, message in [("file:///x.wav?pace=slow", "unknown pace"), ("file://", "without a path"),
                         ("http://x/y.wav", "unknown audio source"), ("/tmp/x.wav", "unknown audio source")]:
        with pytest.raises(SourceError, match=message):
            open_source(bad)


def test_a_file_is_delivered_in_50_ms_blocks_then_ends(tmp_path):
    wav = write_wav(tmp_path / "a.wav", silence(0.125))
    src = FileSource(str(wav), paced=False)
    src.open()
    sizes = []
    while (block := src.read()) is not None:
        sizes.append(len(block.data))
    assert sizes == [1600, 1600, 800]
    src.close()
    assert src.read() is None


def test_closing_a_paced_file_ends_it_at_once(tmp_path):
    wav = write_wav(tmp_path / "long.wav", silence(60))
    src = FileSource(str(wav), paced=True)
    src.open()
    assert src.read() is not None
    src.close()
    assert src.read() is None


def test_a_file_at_another_rate_keeps_it_in_50_ms_blocks(tmp_path):
    wav = write_wav(tmp_path / "a48.wav", bytes(2 * 4800), rate=48000)  # 0.1 s at 48 kHz
    src = FileSource(str(wav), paced=False)
    src.open()
    blocks = [src.read(), src.read()]
    assert src.read() is None and src.rate == 48000
    assert [(len(b.data), b.rate, b.duration_s) for b in blocks] == [(4800, 48000, 0.05)] * 2
    assert block_frames(44100) == 2205 and block_frames(16000) == 800
