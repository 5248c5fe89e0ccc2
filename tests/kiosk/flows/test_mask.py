"""Rooms and phone numbers shown on the lobby screen are masked."""

import pytest

from kiosk.mask import mask_phone, mask_room


@pytest.mark.parametrize(("room", "shown"), [
    ("1201", "**01"), ("3-2-301", "*-*-*01"), ("A1203", "***03"), ("12", "*2"), ("", ""), (None, ""),
])
def test_room(room, shown):
    assert mask_room(room) == shown


@pytest.mark.parametrize(("phone", "shown"), [
    ("13812345678", "138****5678"), ("138 1234 5678", "138****5678"), ("86138123456789", "861*******6789"),
    ("66881234", "******34"), ("6234567", "*****67"), ("01062345678", "010****5678"),
    ("075512345678", "075*****5678"), ("", ""), (None, ""),
])
def test_phone(phone, shown):
    assert mask_phone(phone) == shown
    if phone and len(phone) > 4:
        assert phone.replace(" ", "") not in mask_phone(phone)
