"""`lobby-voice intent`: the readable answer, --json, --jsonl batch mode and wrong arguments."""

from __future__ import annotations

import json

BATCH_KEYS = {"category", "urgency", "summary", "location", "tags", "confidence"}


def test_jsonl_gives_one_object_per_line_in_order(run_cli):
    lines = ["楼道 灯 不 亮 了", "", "救命 我 摔倒 了", "😀", "快递 柜 满 了"]
    proc = run_cli("voice", "intent", "--jsonl", input="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == len(lines)
    assert all(set(o) == BATCH_KEYS for o in out)
    assert [o["category"] for o in out] == ["public_facility", "other", "medical", "other", "parcel"]
    assert out[2]["urgency"] == "urgent"


def test_json_prints_the_whole_parse(run_cli):
    proc = run_cli("voice", "intent", "--json", "三号楼 二单元 厨房 一股 煤气 味")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert (d["category"], d["urgency"], d["tier"]) == ("safety", "urgent", "high")
    assert d["location"] == "3号楼2单元 厨房"
    assert d["transcript"] == "三号楼 二单元 厨房 一股 煤气 味"


def test_readable_answer_asks_back_when_unsure(run_cli):
    proc = run_cli("voice", "intent", "灯 坏 了")
    assert proc.returncode == 0, proc.stderr
    assert "repair" in proc.stdout and "您是说" in proc.stdout and "公共设施" in proc.stdout


def test_wrong_arguments_exit_2_with_one_line(run_cli):
    for args in (("intent",), ("intent", "--jsonl", "电梯 坏 了")):
        proc = run_cli("voice", *args)
        assert proc.returncode == 2
        assert len(proc.stderr.strip().splitlines()) == 1 and "error" in proc.stderr


def test_a_bad_vocabulary_file_exits_1(run_cli, tmp_path):
    bad = tmp_path / "v.toml"
    bad.write_text("[categories.other\n", encoding="utf-8")
    proc = run_cli("voice", "intent", "--vocabulary", str(bad), "电梯 坏 了")
    assert proc.returncode == 1 and "bad vocabulary" in proc.stderr


def test_help(run_cli):
    proc = run_cli("voice", "intent", "--help")
    assert proc.returncode == 0 and "--jsonl" in proc.stdout
