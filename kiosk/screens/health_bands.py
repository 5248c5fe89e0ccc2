"""Blood-pressure bands for the health screen.

Bands follow the Chinese hypertension guideline: 中国高血压防治指南（2018年修订版）,
中华心血管病杂志 2019;24(1):24-56, table "血压水平分类和定义", whose office-reading
grades the 2024 revision (中国高血压防治指南（2024年修订版）, 中华高血压杂志
2024;32(7):603-700) keeps:

| band          | systolic mmHg |        | diastolic mmHg |
|---------------|---------------|--------|----------------|
| 正常           | < 120         | and    | < 80           |
| 正常高值       | 120-139       | and/or | 80-89          |
| 1级高血压(轻度) | 140-159       | and/or | 90-99          |
| 2级高血压(中度) | 160-179       | and/or | 100-109        |
| 3级高血压(重度) | >= 180        | and/or | >= 110         |

When systolic and diastolic fall in different bands, the higher band wins
(the guideline's rule). A reading under 90/60 (systolic < 90 or diastolic
< 60) is low blood pressure, worth mentioning on its own. A grade-3 reading
(>= 180 and/or >= 110) offers an urgent help request in one tap.

This module only classifies; the words shown come from
assets/strings/<lang>/health.json (keys `band_<code>`, `advice_<code>`).
A single kiosk reading is not a diagnosis, which the advice sentences say.
"""

from __future__ import annotations

from dataclasses import dataclass

# (code, lowest systolic, lowest diastolic, colour role in the theme), lowest band first.
_BANDS: tuple[tuple[str, int, int, str], ...] = (
    ("normal", 0, 0, "ok"),
    ("high_normal", 120, 80, "warn"),
    ("grade1", 140, 90, "warn"),
    ("grade2", 160, 100, "danger"),
    ("grade3", 180, 110, "danger"),
)
BAND_CODES = tuple(b[0] for b in _BANDS)
URGENT_SYSTOLIC = 180
URGENT_DIASTOLIC = 110
LOW_SYSTOLIC = 90
LOW_DIASTOLIC = 60


class ImplausibleReading(ValueError):
    """The numbers cannot be a real blood-pressure reading (a failed measurement)."""


@dataclass(frozen=True)
class BloodPressureBand:
    """Where a reading falls: the band code, its colour role, and what to offer."""

    code: str             # one of BAND_CODES
    role: str             # theme colour role: "ok", "warn" or "danger" (always shown with words)
    low: bool             # under 90/60: mention low blood pressure
    urgent: bool          # >= 180/110: offer the one-tap urgent help request

    @property
    def name_key(self) -> str:
        """String key of the band's name, e.g. "health.band_grade1"."""
        return f"health.band_{self.code}"

    @property
    def advice_key(self) -> str:
        """String key of the one-sentence advice; low blood pressure has its own."""
        return "health.advice_low" if self.low and self.code == "normal" else f"health.advice_{self.code}"


def _band_of(value: int, index: int) -> int:
    """Index of the highest band whose threshold (systolic index 1, diastolic 2) value reaches."""
    found = 0
    for i, band in enumerate(_BANDS):
        if value >= band[index]:
            found = i
    return found


def classify(systolic: int, diastolic: int) -> BloodPressureBand:
    """Classify a reading in mmHg; the higher band of systolic and diastolic wins.

    Raises ImplausibleReading for numbers no cuff should report (a failed
    measurement, shown as "请重新测量" rather than as a band).
    """
    if not (isinstance(systolic, int) and isinstance(diastolic, int)):
        raise ImplausibleReading("systolic and diastolic must be whole numbers")
    if not (40 <= systolic <= 300 and 20 <= diastolic <= 200 and systolic > diastolic):
        raise ImplausibleReading(f"not a blood-pressure reading: {systolic}/{diastolic}")
    code, _, _, role = _BANDS[max(_band_of(systolic, 1), _band_of(diastolic, 2))]
    low = systolic < LOW_SYSTOLIC or diastolic < LOW_DIASTOLIC
    return BloodPressureBand(
        code=code,
        role="warn" if low and role == "ok" else role,
        low=low,
        urgent=systolic >= URGENT_SYSTOLIC or diastolic >= URGENT_DIASTOLIC,
    )
