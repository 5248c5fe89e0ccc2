"""String catalogues: assets/strings/<lang>/<namespace>.json, keys "namespace.key".

Simplified Chinese (zh) is the default; English (en) is complete too (a test
checks that every key used in kiosk/ exists in both).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

log = logging.getLogger(__name__)

STRINGS_DIR = Path(__file__).resolve().parent.parent / "assets" / "strings"
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


class Catalog:
    """All strings of all languages, loaded once from disk (on first use, not at import)."""

    def __init__(self, root: Path = STRINGS_DIR) -> None:
        self.root = Path(root)
        self._strings: dict[str, dict[str, str]] | None = None
        self._warned: set[tuple[str, str]] = set()

    def _load(self) -> dict[str, dict[str, str]]:
        if self._strings is None:
            strings: dict[str, dict[str, str]] = {}
            for lang in LANGUAGES:
                table: dict[str, str] = {}
                for path in sorted((self.root / lang).glob("*.json")):
                    try:
                        data = json.loads(path.read_text(encoding="utf-8"))
                    except (OSError, ValueError) as err:
                        log.error("string catalogue %s unreadable: %s", path, err)
                        continue
                    for key, value in data.items():
                        if isinstance(value, str):
                            table[f"{path.stem}.{key}"] = value
                strings[lang] = table
            self._strings = strings
        return self._strings

    def keys(self, lang: str) -> set[str]:
        """Every key defined for `lang`."""
        return set(self._load().get(lang, {}))

    def has(self, key: str, lang: str = DEFAULT_LANGUAGE) -> bool:
        return key in self._load().get(lang, {})

    def t(self, key: str, lang: str = DEFAULT_LANGUAGE, **fmt: object) -> str:
        """Translate `key` ("common.back") into `lang`, formatting {named} fields.

        A missing key falls back to Chinese, then to the key itself, with one
        logged warning: a screen never crashes on a missing string.
        """
        strings = self._load()
        text = strings.get(lang, {}).get(key)
        if text is None:
            text = strings.get(DEFAULT_LANGUAGE, {}).get(key)
            if (lang, key) not in self._warned:
                self._warned.add((lang, key))
                log.warning("missing string %s for language %s", key, lang)
            if text is None:
                return key
        if fmt:
            try:
                return text.format(**fmt)
            except (KeyError, IndexError, ValueError):
                log.warning("string %s: cannot format with %s", key, sorted(fmt))
        return text


_catalog: Catalog | None = None


def catalog() -> Catalog:
    """The process-wide catalogue of assets/strings."""
    global _catalog
    if _catalog is None:
        _catalog = Catalog()
    return _catalog
