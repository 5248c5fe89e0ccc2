"""The screen registry: every registered name is a module with its KioskScreen class and .kv."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from kiosk.screens import SCREENS, class_name, screen_class
from kiosk.screens.base import KioskScreen


def test_every_registered_screen_has_its_class_and_kv():
    for name in SCREENS:
        cls = screen_class(name)
        assert issubclass(cls, KioskScreen) and cls.__name__ == class_name(name)
        assert cls.name == name, f"{cls.__name__}.name should be {name!r}"
        assert Path(inspect.getfile(cls)).with_suffix(".kv").is_file(), f"{name}.kv is missing"


def test_unknown_screen_is_refused_with_the_known_names():
    with pytest.raises(ValueError, match="unknown screen 'lobby'.*home"):
        screen_class("lobby")
