"""The screen registry: every screen name, imported lazily as kiosk.screens.<name>.

`screen_class("parcel")` imports kiosk/screens/parcel.py and returns ParcelScreen.
A registered screen whose module is missing raises MissingScreen; while a new
screen is being written, `strict=False` gives a placeholder instead (so the app
and the accessibility walk still run).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

log = logging.getLogger(__name__)

SCREENS = ("home", "voice", "repair", "parcel", "health", "progress", "emergency", "notices", "technician")


class MissingScreen(LookupError):
    """A registered screen whose module does not exist (yet)."""


def class_name(name: str) -> str:
    """'parcel' -> 'ParcelScreen'."""
    return f"{name.capitalize()}Screen"


def screen_class(name: str, strict: bool = True) -> type:
    """The KioskScreen subclass for `name` (ValueError for an unregistered name)."""
    if name not in SCREENS:
        raise ValueError(f"unknown screen {name!r} (known: {', '.join(SCREENS)})")
    module_name = f"kiosk.screens.{name}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        if strict:
            raise MissingScreen(f"screen {name!r} is not implemented yet ({module_name} is missing)") from None
        log.warning("screen %s is not implemented yet; using a placeholder", name)
        return _placeholder(name)
    try:
        return getattr(module, class_name(name))
    except AttributeError:
        raise MissingScreen(f"{module_name} has no class {class_name(name)}") from None


def missing() -> list[str]:
    """Registered screens whose module is not there."""
    out = []
    for name in SCREENS:
        try:
            importlib.util.find_spec(f"kiosk.screens.{name}")
        except ModuleNotFoundError:
            out.append(name)
            continue
        if importlib.util.find_spec(f"kiosk.screens.{name}") is None:
            out.append(name)
    return out


_placeholders: dict[str, type] = {}


def _placeholder(name: str) -> type:
    from kiosk.screens.base import KioskScreen  # noqa: PLC0415 - Kivy only when screens are built

    if name not in _placeholders:
        _placeholders[name] = type(
            class_name(name), (KioskScreen,),
            {"title_key": "common.coming_soon", "__module__": __name__,
             "on_kv_post": lambda self, _base: self.set_instructions("common.coming_soon_hint")},
        )
    return _placeholders[name]
