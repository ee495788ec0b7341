"""Attribution as a careful reader does it: who spoke each quote (named people, "the
minister", unnamed sources; never a demonym or a place), the countries titles give
participants, who was present, and a model's countries checked against the titles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from summarise.backends.offline.extractor import extract
from summarise.clean import CleanArticle
from summarise.ground import ground_summary
from summarise.schema import ModelSummary, WarningCode
from summarise.text.reader import analyse

ROOT = Path(__file__).parent
TALKS = (ROOT / "synthetic" / "attribution_talks.txt").read_text(encoding="utf-8")


def _speakers(text: str) -> dict[str, str | None]:
    doc = analyse(text)
    return {text[r.start : r.end]: doc.speaker(r) for r in doc.regions}


def _speaker_of(text: str, quoted: str) -> str | None:
    return next(s for q, s in _speakers(text).items() if q.startswith(quoted))


def _article(text: str) -> CleanArticle:
    return CleanArticle(title=None, published=None, dateline=None, text=text)


@pytest.mark.parametrize(
    ("quoted", "speaker"),
    [
        ("We had a frank", "Blinken"),  # "X told reporters"
        ("There is no breakthrough", "Sergei Ryabkov"),  # "X was quoted by Interfax as saying"
        ("appalled", "Eric Reeves"),  # past an appositive with a demonym in it
    ],
)
def test_named_speakers_from_cues_either_side(quoted: str, speaker: str) -> None:
    assert _speaker_of(TALKS, quoted) == speaker


def test_a_definite_description_is_the_last_person_it_fits() -> None:
    # "the Russian diplomat" fits Lavrov (Russian, a minister), not Blinken, named last.
    assert _speaker_of(TALKS, "We will not yield") == "Sergei Lavrov"
    text = (
        "Chinese Foreign Minister Wang Yi met U.S. President Joe Biden in Bali.\n\n"
        "Biden spoke first.\n\n"
        '"We will not yield," the minister said.'
    )
    assert _speaker_of(text, "We will not yield") == "Wang Yi"


def test_a_description_nobody_fits_is_kept_as_written() -> None:
    text = 'President Joe Biden met reporters.\n\n"No comment," the ambassador said.'
    assert _speaker_of(text, "No comment") == "the ambassador"


@pytest.mark.parametrize(
    ("quoted", "speaker"),
    [
        ("The next round", "A spokesman for the ministry"),
        ("nobody expected", "One official"),
        ("The mood was tense", "diplomats"),
    ],
)
def test_unnamed_sources_are_kept_as_the_article_words_them(quoted: str, speaker: str) -> None:
    assert _speaker_of(TALKS, quoted) == speaker


def test_inverted_unnamed_source() -> None:
    text = '"We reject this," said a senior State Department official.'
    assert _speaker_of(text, "We reject this") == "a senior State Department official"


def test_a_pronoun_after_another_speakers_quote_is_the_previous_attribution() -> None:
    text = (
        'Antony Blinken spoke first. "We want stability," he said. Wang Yi replied to '
        'Blinken. "Then lift the sanctions," he said.'
    )
    assert _speaker_of(text, "We want stability") == "Antony Blinken"
    assert _speaker_of(text, "Then lift") == "Wang Yi"


@pytest.mark.parametrize(
    "text",
    [
        'Talks opened in Geneva on Monday. "We will not yield," the Russian said.',
        'Eric Reeves, one of the leading American academic voices on Sudan, said "appalled".',
        'Britain\'s low unemployment meant less "neurosis" about eastern European workers.',
    ],
)
def test_a_speaker_is_never_a_demonym_or_a_place(text: str) -> None:
    assert all(s not in {"Russian", "American", "European"} for s in _speakers(text).values())


def test_a_country_speaks_for_its_government() -> None:
    text = 'China rejected the report as "far-fetched and unprofessional".'
    assert _speaker_of(text, "far-fetched") == "China"


def test_a_possessive_before_a_name_is_not_the_name() -> None:
    text = (
        "ONGC's Mr Raha said the two firms could work together.\n\n"
        'He added: "Our cash flow situation is good," he told Reuters.'
    )
    assert _speaker_of(text, "Our cash flow") == "Raha"


def test_never_across_a_paragraph_unless_the_quote_continues() -> None:
    text = 'Lavrov spoke on Monday, Peskov said.\n\n"No comment." The talks ended.'
    assert _speaker_of(text, "No comment") is None
    continued = '"We had a frank exchange," Lavrov said.\n\n"The next round is in May."'
    assert _speaker_of(continued, "The next round") == "Lavrov"


def test_titles_give_participants_their_countries() -> None:
    summary = extract(_article(TALKS))
    countries = {p.name: p.country for p in summary.participants}
    assert countries["Antony Blinken"] == "USA"  # "U.S. Secretary of State"
    assert countries["Sergei Lavrov"] == "RUS"  # "Russian Foreign Minister"
    assert countries["Dmitry Peskov"] == "RUS"  # "Kremlin spokesman"
    bare = extract(_article("Secretary of State Mike Pompeo met Afghan leaders on Monday."))
    assert {p.name: p.country for p in bare.participants}["Mike Pompeo"] == "USA"


def test_present_is_told_from_who_met_whom() -> None:
    present = {p.name: p.present for p in extract(_article(TALKS)).participants}
    assert present["Antony Blinken"] and present["Sergei Lavrov"]
    assert not present["Dmitry Peskov"]  # only mentioned: "was not at the talks"
    later = (
        "The ministry said the talks would go on. Officials gave no date for a new round.\n\n"
        "On Tuesday French Defence Minister Sebastien Lecornu held talks with "
        "Russian Defence Minister Sergei Shoigu by phone, the first call in a year.\n\n"
        "President Emmanuel Macron was not told of the call in advance, aides said."
    )
    present = {p.name: p.present for p in extract(_article(later)).participants}
    assert present["Sebastien Lecornu"] and present["Sergei Shoigu"]
    assert not present["Emmanuel Macron"]


def _answer_004() -> tuple[dict[str, object], str]:
    answer = json.loads((ROOT / "synthetic" / "summary_004.json").read_text(encoding="utf-8"))
    text = (ROOT.parent / "examples" / "004_8546a322da682372.txt").read_text(encoding="utf-8")
    return answer, text


def test_a_country_against_the_articles_title_is_flagged() -> None:
    answer, text = _answer_004()
    for p in answer["participants"]:  # type: ignore[attr-defined]
        if p["name"] == "Sebastien Lecornu":
            p["country"] = "DEU"  # the article says "French Defence Minister"
    _, warnings = ground_summary(ModelSummary.model_validate(answer), text)
    flagged = [w.message for w in warnings if w.code == WarningCode.country_contradicted]
    assert len(flagged) == 1
    assert "DEU" in flagged[0] and "FRA" in flagged[0] and "Lecornu" in flagged[0]


def test_a_country_the_article_agrees_with_or_never_states_is_not_flagged() -> None:
    answer, text = _answer_004()
    for p in answer["participants"]:  # type: ignore[attr-defined]
        if p["name"] == "Sergei Shoigu":
            p["country"] = "FIN"  # no title in this article gives Shoigu a country
    _, warnings = ground_summary(ModelSummary.model_validate(answer), text)
    assert not [w for w in warnings if w.code == WarningCode.country_contradicted]


def test_an_unnamed_source_is_not_held_against_a_models_speaker() -> None:
    text = '"The next round depends on Washington," a spokesman for the ministry said.'
    answer = {
        "headline": "Talks",
        "event": {"kind": "statement", "date": None, "location": None},
        "participants": [],
        "issues": [],
        "outcomes": [],
        "quotes": [{"speaker": "ministry", "text": "The next round depends on Washington"}],
    }
    _, warnings = ground_summary(ModelSummary.model_validate(answer), text)
    assert not [w for w in warnings if w.code == WarningCode.speaker_mismatch]


def test_the_official_is_the_unnamed_official_met_before_not_the_last_minister() -> None:
    text = (
        'The US seeks "guard rails" with China, according to senior defense officials, as '
        "Defense Secretary Lloyd Austin meets his Chinese counterpart. The talks will focus "
        'on "crisis communications," one official said.\n\n'
        '"This has been a priority for us," the official said.'
    )
    assert _speaker_of(text, "guard rails") == "senior defense officials"
    assert _speaker_of(text, "This has been a priority") == "one official"


def test_a_body_as_worded_rather_than_a_place_before_it() -> None:
    text = (
        "After lawmakers visited Taiwan last month, the Chinese embassy in Washington "
        'urged the US to "avoid sending wrong signals".'
    )
    assert _speaker_of(text, "avoid sending") == "the Chinese embassy in Washington"


def test_a_second_verb_of_the_same_subject() -> None:
    text = (
        "Kremlin spokesman Dmitry Peskov spoke on Monday. He reported no breakthrough, "
        'however, and added: "There is still serious work ahead."'
    )
    assert _speaker_of(text, "There is still") == "Dmitry Peskov"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ('Secretary of State Antony Blinken said: "We will see."', "Antony Blinken"),
        ('Minister of Foreign Affairs Sergey Lavrov said: "We will see."', "Sergey Lavrov"),
        ('"We will see," said Gen. Brown, sitting alongside his counterparts.', "Brown"),
        ('"We will see," said Mr. Reeves, a senior fellow at Harvard.', "Reeves"),
    ],
)
def test_titles_with_of_and_abbreviated_honorifics(text: str, speaker: str) -> None:
    assert _speaker_of(text, "We will see") == speaker


def test_the_nearest_cue_wins_over_a_statement_reporting_it() -> None:
    text = (
        "A statement from the Chinese foreign ministry said that Wang told Blinken the US "
        "holds “a wrong perception of China”."
    )
    assert _speaker_of(text, "a wrong perception") == "Wang"


def test_a_name_after_a_comma_is_not_an_object() -> None:
    text = (
        "In the meeting, Blinken also discussed China’s support for Russia’s defense "
        "industry, warning that the US will take “appropriate measures”, according to Miller."
    )
    assert _speaker_of(text, "appropriate measures") == "Blinken"


def test_a_document_speaks_as_worded() -> None:
    text = "When NATO leaders met, a joint declaration labeled Beijing a “decisive enabler”."
    assert _speaker_of(text, "decisive enabler") == "a joint declaration"


def test_an_adverb_between_subject_and_verb() -> None:
    text = "The NATO communique specifically mentioned Asia, “given that it affects Europe.”"
    assert _speaker_of(text, "given that") == "The NATO communique"


def test_the_second_verb_of_a_titled_speaker() -> None:
    text = (
        "Oxfam senior policy adviser Max Lawson welcomed the statement and said G7 ministers "
        'had "passed the first hurdle of 2005".'
    )
    assert _speaker_of(text, "passed the first") == "Max Lawson"


def test_present_needs_two_people_meeting_not_one_travelling() -> None:
    text = (
        "Chinese Foreign Minister Wang Yi met Ukrainian Foreign Minister Dmytro Kuleba in "
        "Guangzhou on Wednesday, the first such talks since the war began.\n\n"
        "Beijing has presented itself as neutral in the war, a claim Western governments "
        "have long rejected as hollow.\n\n"
        "Putin, shunned by the West over Ukraine, met with Chinese President Xi Jinping on "
        "Thursday. Russian Foreign Minister Sergei Lavrov visited Hong Kong. U.S. Secretary "
        "of State Antony Blinken met Wang Yi in Laos last month."
    )
    present = {p.name: p.present for p in extract(_article(text)).participants}
    assert present["Wang Yi"] and present["Dmytro Kuleba"]
    assert present["Xi Jinping"]  # past an appositive: "Putin, shunned ..., met with Xi"
    assert not present["Sergei Lavrov"]  # visited a place, met nobody named
    assert not present["Antony Blinken"]  # another meeting: "last month"


def test_he_is_the_previous_speaker_not_the_last_name_mentioned() -> None:
    text = (
        '"We made progress," Blinken said after meeting Wang Yi in Vientiane. "We will keep '
        'talking," he added.\n\n'
        '"The US must stop its provocations," Wang said, after the meeting with Blinken. '
        '"It is not our fault," he said.'
    )
    assert _speaker_of(text, "We will keep") == "Blinken"
    assert _speaker_of(text, "It is not our fault") == "Wang"
