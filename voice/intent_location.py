"""Where the problem is, as said: 楼号/单元/房号/楼层, and a room of the home or a public place.

Vosk writes numbers in Chinese characters (三 号 楼 二 单元 三 零 一); they are
turned into digits so staff read "3号楼2单元301室".
"""

from __future__ import annotations

import re

from voice.intent_text import CN_NUMBER_CHARS, chinese_number

_N = rf"[0-9{CN_NUMBER_CHARS}]"
_DASHED = re.compile(r"(\d{1,3})-(\d{1,2})-(\d{3,4})")
_BUILDING = re.compile(rf"({_N}{{1,4}})(?:号楼|栋|幢|座楼|号院)")
_UNIT = re.compile(rf"({_N}{{1,3}})单元")
_ROOM_AFTER_UNIT = re.compile(rf"(?:单元|号楼|栋|幢)({_N}{{3,5}})(?:室|号|房)?")
_ROOM = re.compile(rf"({_N}{{3,5}})(?:室|号房|房间|房)|(?:住|是)({_N}{{3,5}})(?![{CN_NUMBER_CHARS}0-9楼层栋单元])")
_FLOOR = re.compile(rf"({_N}{{1,3}})(?:楼(?![道梯下上里顶房门口栋])|层(?![灰土皮纸布膜油水冰雪霜]))")


def _num(text: str | None) -> str | None:
    return chinese_number(text) if text else None


def address(text: str) -> str | None:
    """Building, unit, room or floor said in normalised text, as "3号楼2单元301室"; None when none."""
    dashed = _DASHED.search(text)
    if dashed:
        return f"{dashed.group(1)}号楼{dashed.group(2)}单元{dashed.group(3)}室"
    parts: list[str] = []
    building = _BUILDING.search(text)
    if building and (b := _num(building.group(1))):
        parts.append(f"{b}号楼")
    unit = _UNIT.search(text)
    if unit and (u := _num(unit.group(1))):
        parts.append(f"{u}单元")
    room = _ROOM_AFTER_UNIT.search(text) or _ROOM.search(text)
    r = _num(next((g for g in room.groups() if g), None)) if room else None
    if r and len(r) >= 3:
        parts.append(f"{r}室")
    else:
        rest = _BUILDING.sub("", text)
        floor = _FLOOR.search(rest)
        if floor and (f := _num(floor.group(1))) and 0 < int(f) < 100:
            parts.append(f"{f}楼")
    return "".join(parts) or None


def place(rooms: tuple[str, ...], said: dict[str, int]) -> str | None:
    """The first room or public place named (not negated), e.g. 厨房 or 楼道; `said`: word -> position."""
    found = [(said[r], -len(r), r) for r in rooms if r in said]
    return min(found)[2] if found else None


def location(text: str, rooms: tuple[str, ...], said: dict[str, int]) -> str | None:
    """Address and place together ("3号楼2单元301室 厨房"), whichever were said; None when neither."""
    parts = [p for p in (address(text), place(rooms, said)) if p]
    return " ".join(parts) or None
