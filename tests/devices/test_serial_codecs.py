"""Frame codecs of the two serial protocols: known frames, checks, and resynchronisation."""

from datetime import datetime

from devices.serial import kerong, visomat

# The R00 answer printed in visomat-utils' README (https://git.ao2.it/visomat-utils.git).
README_DUMP = (b"M106100101120211511021201001011208115610711610010112030103065073440601132001130680661001011311"
               b"012708406610010112030106068066M20710010112031155111116100101120201170700764406011312012807107244"
               b"060113170126050065440601131901140630661001011400011407007113031211450121080072")


def test_visomat_readme_dump_parses_to_the_documented_records():
    records, bad = visomat.parse_memory(README_DUMP)
    assert bad == 0 and len(records) == 13
    first = records[0]
    assert (first.user, first.taken_at, first.flag, first.systolic, first.diastolic, first.pulse) == (
        1, datetime(2010, 1, 1, 12, 2), 1, 151, 102, 120)
    assert [(r.systolic, r.diastolic, r.pulse) for r in records if r.user == 2][-1] == (121, 80, 72)
    assert records[0].reading().irregular and not records[2].reading().irregular


def test_visomat_empty_block_has_a_dummy_byte():
    records, bad = visomat.parse_memory(b"M1001M20115110321300134097083")
    assert bad == 0 and [(r.user, r.systolic, r.diastolic, r.pulse) for r in records] == [(2, 134, 97, 83)]


def test_visomat_out_of_range_and_impossible_records_are_skipped():
    good = b"2601150930" + b"0" + b"128082070"
    too_high = b"2601150931" + b"0" + b"310082070"
    low_pulse = b"2601150932" + b"0" + b"128082029"
    bad_date = b"2613150930" + b"0" + b"128082070"
    records, bad = visomat.parse_memory(b"M104" + good + too_high + low_pulse + bad_date)
    assert bad == 3 and [r.systolic for r in records] == [128]


def test_visomat_splitter_resynchronises_on_noise_and_partial_frames():
    splitter = visomat.FrameSplitter()
    stream = b"\xff\x00noise" + b"\x02M104partial" + visomat.frame(b"R00") + b"\x03\x03" + visomat.frame(b"M1001")
    out = []
    for i in range(0, len(stream), 3):  # arrives in small pieces
        out += splitter.feed(stream[i:i + 3])
    assert out == [b"R00", b"M1001"] and splitter.skipped > 10


def test_kerong_command_frames():
    assert kerong.command(0, 3, kerong.CMD_UNLOCK) == bytes.fromhex("0203310339")
    assert kerong.command(1, 0, kerong.CMD_STATUS) == bytes.fromhex("0210300345")


def test_kerong_status_frames_survive_noise_and_bad_checksums():
    good = kerong.BoardStatus(1, 0b1000_0000_0000_0101, 0b10).encode()
    assert good == bytes.fromhex("0210350580020003") + bytes([sum(bytes.fromhex("0210350580020003")) & 0xFF])
    corrupt = bytearray(good)
    corrupt[3] ^= 0x01  # one flipped bit: checksum no longer matches
    reader = kerong.StatusReader()
    stream = b"\x02\x02\x99" + bytes(corrupt) + good[:4]
    assert reader.feed(stream) == []
    [status] = reader.feed(good[4:])
    assert status == kerong.BoardStatus(1, 0x8005, 0x0002)
    assert status.door_open(0) and status.door_open(2) and status.door_open(15) and not status.door_open(1)
    assert status.occupied(1) and not status.occupied(0)
    assert reader.skipped > 0
