"""Blood-pressure bands: the Chinese guideline's table, the higher band wins, edges exact."""

import pytest

from kiosk.screens.health_bands import ImplausibleReading, classify

# Expected bands written from the guideline's table, not from the code.
CASES = [
    ((119, 79), "normal"), ((120, 79), "high_normal"), ((119, 80), "high_normal"),
    ((139, 89), "high_normal"), ((140, 70), "grade1"), ((110, 90), "grade1"),
    ((159, 99), "grade1"), ((160, 80), "grade2"), ((130, 100), "grade2"),
    ((179, 109), "grade2"), ((180, 100), "grade3"), ((150, 110), "grade3"), ((220, 130), "grade3"),
]


@pytest.mark.parametrize(("reading", "code"), CASES)
def test_band_edges(reading, code):
    assert classify(*reading).code == code


def test_higher_of_systolic_and_diastolic_wins():
    assert classify(125, 105).code == "grade2"      # systolic high-normal, diastolic grade 2
    assert classify(165, 85).code == "grade2"       # systolic grade 2, diastolic high-normal


def test_urgent_only_from_180_or_110():
    assert not classify(179, 109).urgent
    assert classify(180, 90).urgent and classify(140, 110).urgent


def test_low_blood_pressure_is_mentioned():
    low = classify(88, 58)
    assert low.low and low.code == "normal" and low.advice_key == "health.advice_low"
    assert classify(95, 59).low
    assert not classify(90, 60).low
    assert classify(118, 76).advice_key == "health.advice_normal"


def test_colour_role_follows_severity():
    assert [classify(*r).role for r in ((110, 70), (130, 85), (150, 95), (170, 105), (190, 120))] == [
        "ok", "warn", "warn", "danger", "danger"]


@pytest.mark.parametrize("reading", [(0, 0), (80, 90), (400, 90), (120, 10), (120.5, 80)])
def test_implausible_readings_are_refused(reading):
    with pytest.raises(ImplausibleReading):
        classify(*reading)

