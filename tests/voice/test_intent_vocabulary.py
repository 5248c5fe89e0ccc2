"""The vocabulary file: every example phrase parses to its own category, the codes match the
central API, a community can extend it without code, and a broken file is refused clearly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from voice.intent import IntentParser
from voice.vocabulary import DEFAULT_PATH, URGENCIES, VocabularyError, load

# The category codes of the central API (shared/specs/central-api.md).
CENTRAL_CATEGORIES = {"repair", "public_facility", "sanitation", "safety", "medical", "elderly_care",
                      "parcel", "parking", "neighbor", "consult", "activity", "other"}

PARSER = IntentParser.from_file()


def test_categories_are_exactly_the_central_api_codes():
    assert set(PARSER.vocabulary.categories) == CENTRAL_CATEGORIES
    assert all(c.urgency in URGENCIES for c in PARSER.vocabulary.categories.values())


def test_every_topic_has_example_phrases():
    phrases = PARSER.vocabulary.phrases
    assert len(phrases) >= 60
    assert {code for _, code in phrases} == CENTRAL_CATEGORIES


@pytest.mark.parametrize("phrase, category", PARSER.vocabulary.phrases, ids=[p for p, _ in PARSER.vocabulary.phrases])
def test_every_phrase_parses_to_its_own_category(phrase, category):
    intent = PARSER.parse(phrase)
    assert intent.category == category, intent.summary
    assert intent.tier != "low"


def test_danger_phrases_are_urgent():
    doc_dangers = [t for t in PARSER.vocabulary.terms if t.danger]
    assert {t.label for t in doc_dangers} >= {"有人摔倒", "头晕昏迷", "燃气泄漏", "着火冒烟", "有人困在电梯", "求救"}
    for term in doc_dangers:
        assert PARSER.parse(term.text).urgency == "urgent", term.text


def test_a_community_can_add_words_without_code(tmp_path):
    path = tmp_path / "vocabulary.toml"
    shutil.copy(DEFAULT_PATH, path)
    said = "小黄车 太多 了 走 路 都 费劲"
    assert PARSER.parse(said).category == "other"
    with open(path, "a", encoding="utf-8") as f:
        f.write('\n[[categories.parking.topics]]\nlabel = "共享单车"\nweight = 2.0\n'
                'keywords = ["共享单车", "小黄车"]\nphrases = ["小黄车堵在门口"]\n')
    extended = IntentParser.from_file(path)
    intent = extended.parse(said)
    assert (intent.category, intent.tier) == ("parking", "high")
    assert "共享单车" in intent.summary


@pytest.mark.parametrize("text, message", [
    ("version = 1\n[categories.repair]\nname = '维修'\n", "categories.other: required"),
    ("[categories.other]\nname = ''\n", "categories.other.name"),
    ("[categories.other]\nname = '其他'\nurgency = 'soon'\n", "categories.other.urgency"),
    ("[categories.other]\nname = '其他'\n[[danger]]\nlabel = 'x'\ncategory = 'fire'\nkeywords = ['火']\n",
     "danger[0].category: unknown category 'fire'"),
    ("[categories.other]\nname = '其他'\n[[categories.other.topics]]\nlabel = 'x'\nkeywords = []\n",
     "categories.other.topics[0].keywords"),
    ("[categories.other]\nname = '其他'\n[[categories.other.topics]]\nlabel = 'x'\nkeywords = ['啊']\n"
     "[normalise]\nfillers = ['啊']\n", "nothing but filler"),
    ("[categories.other]\nname = '其他'\n[[combos]]\nlabel = 'x'\ncategory = 'other'\nall = [['a']]\n",
     "combos[0].all"),
    ("[categories.other]\nname = '其他'\n[negation]\nwindow = 99\n", "negation.window"),
    ("[categories.other\n", "not valid TOML"),
    ("[categories.other]\nname = '其他'\n[not_acute]\ncategory = 'fire'\nwords = ['好了']\n", "not_acute.category"),
    ("[categories.other]\nname = '其他'\n[traditional]\npairs = '電电 燈'\n", "traditional.pairs"),
    ("[categories.other]\nname = '其他'\n[[relocate]]\nfrom = 'other'\nto = 'other'\ntarget_evidence = -1\n",
     "relocate[0].target_evidence"),
    ("[categories.other]\nname = '其他'\n[[relocate]]\nfrom = 'other'\nto = 'other'\ncarry_urgency = 'no'\n",
     "relocate[0].carry_urgency"),
    ("[categories.other]\nname = '其他'\n[earlier]\ncategory = 'other'\nall = [['昨天']]\n", "earlier.all"),
    ("[categories.other]\nname = '其他'\n[earlier]\ncategory = 'other'\nurgency = 'soon'\nall = [['昨天'], ['肿']]\n",
     "earlier.urgency"),
])
def test_a_broken_vocabulary_is_refused_naming_the_entry(tmp_path, text, message):
    path = tmp_path / "v.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(VocabularyError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load(path)


def test_a_missing_vocabulary_is_refused(tmp_path):
    with pytest.raises(VocabularyError, match="file not found"):
        load(tmp_path / "nope.toml")


def test_the_shipped_file_is_the_default():
    assert Path(DEFAULT_PATH).name == "vocabulary.toml" and Path(DEFAULT_PATH).parent.name == "assets"
