"""Grounding: quotes, speakers, names, countries and dates checked against the source text.

The model answers here are hand-written (never a real model's), built on the sample
articles; the property tests throw paraphrases, truncations, swapped speakers and quotes
from other articles at ``ground_summary``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from summarise.clean import CleanArticle, clean
from summarise.ground import find_quote, ground_summary
from summarise.schema import (
    ModelSummary,
    Participant,
    RecordWarning,
    WarningCode,
    feed_schema,
)
from summarise.text.countries import to_iso3
from summarise.text.dates import resolve_date
from summarise.text.names import same_person
from summarise.text.normalise import (
    _GAP_START,
    _GAPS,
    TRANSLATE,
    WORD,
    _gaps,
    fold,
    normalise,
    normalise_with_offsets,
    plain,
)
from summarise.text.reader import analyse
from tests.helpers import EXAMPLES, raw_seed, synthetic

GOLD = Path(__file__).resolve().parent / "gold"
SEED_IDS = sorted(p.stem for p in EXAMPLES.glob("*.txt"))


@cache
def article(seed: str) -> CleanArticle:
    path = EXAMPLES / f"{seed}.txt"
    return clean(raw_seed(path))


@cache
def gold(seed: str) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((GOLD / f"{seed}.json").read_text(encoding="utf-8"))
    return value


def summary(quotes: list[dict[str, Any]], **fields: Any) -> ModelSummary:
    """A hand-written model answer: only what a test needs, the rest empty."""
    base: dict[str, Any] = {
        "headline": "A hand-written headline.",
        "event": {"kind": "meeting", "date": None, "location": None},
        "participants": [],
        "issues": [],
        "outcomes": [],
        "quotes": quotes,
    }
    base.update(fields)
    return ModelSummary.model_validate(base)


def codes(warnings: list[RecordWarning]) -> list[str]:
    return [w.code for w in warnings]


SHOIGU_004 = "004_8546a322da682372"
BLINKEN_000 = "000_5132f6c47e1c0e2b"


# --- Quotes -----------------------------------------------------------------------------


def test_a_verbatim_quote_is_an_exact_match() -> None:
    text = 'Shoigu said "it will create problems for France itself," the ministry said.'
    [quote], warnings = ground(text, "it will create problems for France itself")
    assert quote.grounded and quote.match == "exact" and warnings == []


def test_normalised_match_ignores_quote_marks_dashes_soft_hyphens_and_whitespace() -> None:
    text = "He said: “We won’t accept\u00a0a cease\u00adfire — not now,” the minister added."
    [found] = find_quote("We won't accept a ceasefire - not now", analyse(text))
    assert found.kind == "normalised"
    assert text[found.start : found.end] == "We won’t accept\u00a0a cease\u00adfire — not now"


def test_exact_match_is_case_insensitive_but_returns_the_source_words() -> None:
    text = 'Shoigu said "it will create problems for France itself," the ministry said.'
    [quote], warnings = ground(text, "It will create problems for France itself")
    assert quote.grounded and quote.text == "it will create problems for France itself"
    assert quote.match == "normalised" and warnings == []


def test_a_quote_never_matches_inside_a_word() -> None:
    assert find_quote("ear", analyse("Last year was hard.")) == []
    [quote], _ = ground("Last year was hard.", "ear")
    assert not quote.grounded and quote.match == "none" and quote.span is None


def ground(
    text: str, quote: str, speaker: str | None = None
) -> tuple[list[Any], list[RecordWarning]]:
    grounded, warnings = ground_summary(summary([{"speaker": speaker, "text": quote}]), text)
    return list(grounded.quotes), warnings


def test_paraphrased_quote_is_snapped_to_the_source_words_with_a_warning() -> None:
    a = article(SHOIGU_004)
    answer = summary(
        [
            {
                "speaker": "Sergei Shoigu",
                "text": "The Kyiv regime does nothing without the approval of its Western masters",
            }
        ]
    )
    grounded, warnings = ground_summary(answer, a.text, published=a.published)
    [quote] = grounded.quotes
    assert quote.grounded and quote.span is not None
    assert quote.text == a.text[quote.span[0] : quote.span[1]]
    assert quote.text == "The Kyiv regime does nothing without approval of its Western handlers"
    assert quote.match == "fuzzy"
    assert codes(warnings) == ["quote_snapped"]
    assert "masters" in warnings[0].message and "handlers" in warnings[0].message


def test_invented_quote_is_kept_ungrounded_and_dropped_when_strict() -> None:
    a = article(SHOIGU_004)
    answer = summary(
        [{"speaker": "Sergei Shoigu", "text": "France will pay a heavy price for its arrogance"}]
    )
    grounded, warnings = ground_summary(answer, a.text)
    [quote] = grounded.quotes
    assert not quote.grounded and quote.span is None
    assert quote.text == "France will pay a heavy price for its arrogance"
    assert codes(warnings) == ["quote_ungrounded"]

    strict, strict_warnings = ground_summary(answer, a.text, strict=True)
    assert strict.quotes == [] and codes(strict_warnings) == ["quote_dropped"]


def test_wrong_speaker_is_flagged_against_the_attribution_in_the_source() -> None:
    a = article(SHOIGU_004)
    text = "We hope that the French special services weren't involved in it."
    _, right = ground_summary(summary([{"speaker": "Sergei Shoigu", "text": text}]), a.text)
    _, wrong = ground_summary(summary([{"speaker": "Sebastien Lecornu", "text": text}]), a.text)
    assert right == []
    assert codes(wrong) == ["speaker_mismatch"]
    assert "'Shoigu'" in wrong[0].message and "'Sebastien Lecornu'" in wrong[0].message


def test_the_synthetic_fault_answer_gives_snap_ungrounded_and_speaker_warnings() -> None:
    """The shared fixture the pipeline's replay test uses behaves the same here."""
    a = article(SHOIGU_004)
    answer = ModelSummary.model_validate(synthetic("summary_004_faults.json"))
    grounded, warnings = ground_summary(answer, a.text, published=a.published)
    assert [q.grounded for q in grounded.quotes] == [True, False, True]
    assert sorted(set(codes(warnings))) == ["quote_snapped", "quote_ungrounded", "speaker_mismatch"]


def test_correct_answer_grounds_every_quote_without_warnings() -> None:
    a = article(SHOIGU_004)
    answer = ModelSummary.model_validate(synthetic("summary_004.json"))
    grounded, warnings = ground_summary(answer, a.text, published=a.published)
    assert all(q.grounded and q.span for q in grounded.quotes)
    assert not [w for w in warnings if not w.code.startswith(("date_", "country_"))]


def test_quote_split_by_an_attribution_becomes_two_grounded_parts() -> None:
    a = article(BLINKEN_000)
    merged = (
        "Mutual compliance is in the interest of both our countries, that no matter what else "
        "is happening in the world, in our relationship, the United States is always ready"
    )
    grounded, warnings = ground_summary(summary([{"speaker": "Blinken", "text": merged}]), a.text)
    assert [q.grounded for q in grounded.quotes] == [True, True]
    assert [q.match for q in grounded.quotes] == ["split", "split"]
    for quote in grounded.quotes:
        assert quote.span and a.text[quote.span[0] : quote.span[1]] == quote.text
    assert codes(warnings) == ["quote_split"]


def test_quote_given_as_two_parts_is_grounded_twice() -> None:
    text = '"We want peace," he said, "but not at any price." Then he left.'
    quotes, warnings = ground(text, "We want peace")
    more, _ = ground(text, "but not at any price.")
    assert quotes[0].grounded and more[0].grounded and not warnings


def test_a_repeated_quote_grounds_to_each_occurrence_in_turn() -> None:
    a = article("002_4344feba75e5fee7")
    answer = summary([{"speaker": "Stepanov", "text": "open invitation"}] * 2)
    grounded, warnings = ground_summary(answer, a.text)
    spans = [q.span for q in grounded.quotes]
    assert len(set(spans)) == 2 and "quote_duplicate" not in codes(warnings)


def test_words_outside_quotation_marks_are_grounded_but_flagged_unmarked() -> None:
    a = article(SHOIGU_004)
    quotes, warnings = ground(
        a.text, "No final deal was reached and the talks collapsed quickly after."
    )
    assert quotes[0].grounded and codes(warnings) == ["quote_unmarked"]


# --- Names, countries, dates ------------------------------------------------------------


def test_unattested_names_warn_and_a_surname_match_counts() -> None:
    a = article(SHOIGU_004)
    people = [
        {
            "name": "Sergey Shoigu",
            "role": None,
            "affiliation": None,
            "country": "RUS",
            "present": True,
        },
        {
            "name": "Olaf Scholz",
            "role": None,
            "affiliation": None,
            "country": "DEU",
            "present": False,
        },
    ]
    grounded, warnings = ground_summary(summary([], participants=people), a.text)
    assert [p.name for p in grounded.participants] == ["Sergey Shoigu", "Olaf Scholz"]
    assert codes(warnings) == ["name_unattested"] and "Olaf Scholz" in warnings[0].message


def test_participants_carry_the_spans_that_name_them() -> None:
    text = "Sergey Lavrov met Blinken. Lavrov said little."
    people = [
        {"name": name, "role": None, "affiliation": None, "country": None, "present": True}
        for name in ("Sergey Lavrov", "Olaf Scholz")
    ]
    grounded, _ = ground_summary(summary([], participants=people), text)
    lavrov, scholz = grounded.participants
    assert lavrov.attested and [text[a:b] for a, b in lavrov.mentions] == [
        "Sergey Lavrov",
        "Lavrov",
    ]
    assert not scholz.attested and scholz.mentions == []


def test_countries_become_iso_alpha3_and_invalid_codes_become_null() -> None:
    people = [
        Participant(name="A", role=None, affiliation=None, country="RUS", present=True),
        Participant(name="B", role=None, affiliation=None, country="XYZ", present=True),
        # A backend that skips validation can hand over a demonym; grounding still copes.
        Participant.model_construct(
            name="C", role=None, affiliation=None, country="Russian", present=True
        ),
    ]
    answer = summary([]).model_copy(update={"participants": people})
    grounded, warnings = ground_summary(answer, "A and B and C met.")
    assert [p.country for p in grounded.participants] == ["RUS", None, "RUS"]
    assert codes(warnings) == ["country_invalid", "country_normalised"]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Russian", "RUS"),
        ("Russia", "RUS"),
        ("U.S.", "USA"),
        ("American", "USA"),
        ("the United States", "USA"),
        ("Canada’s", "CAN"),
        ("Moscow", "RUS"),
        ("Laos", "LAO"),
        ("FR", "FRA"),
        ("RUS", "RUS"),
        ("us", None),
        ("in", None),
        ("Atlantis", None),
    ],
)
def test_to_iso3_knows_names_demonyms_capitals_and_codes(name: str, code: str | None) -> None:
    assert to_iso3(name) == code


@pytest.mark.parametrize(
    ("value", "published", "expected"),
    [
        ("Thursday", "2023-03-02", "2023-03-02"),  # published on a Thursday: that day
        ("Wednesday", "2023-03-02", "2023-03-01"),
        ("last Friday", "2023-03-02", "2023-02-24"),
        ("next Monday", "2023-03-02", "2023-03-06"),
        ("yesterday", "2023-03-02", "2023-03-01"),
        ("July 25, 2016", None, "2016-07-25"),
        ("Feb. 24, 2022", None, "2022-02-24"),
        ("25 July 2016", None, "2016-07-25"),
        ("March 22", "2024-04-03", "2024-03-22"),
        ("2023-06-18", None, "2023-06-18"),
        ("2023-06", None, "2023-06"),
        ("Thursday", None, None),
        ("sometime soon", "2023-03-02", None),
        ("2023-02-30", None, None),
    ],
)
def test_event_dates_are_resolved_against_the_publication_date(
    value: str, published: str | None, expected: str | None
) -> None:
    resolved, _ = resolve_date(value, published)
    assert resolved == expected


def test_a_resolved_relative_date_reports_how() -> None:
    answer = summary([], event={"kind": "meeting", "date": "Thursday", "location": None})
    grounded, warnings = ground_summary(answer, "They met Thursday.", published="2023-03-02")
    assert grounded.event.date == "2023-03-02"
    assert warnings == [
        RecordWarning(
            code=WarningCode.date_resolved,
            message="'Thursday' -> 2023-03-02 (published 2023-03-02)",
        )
    ]


def test_same_person_compares_distinctive_words() -> None:
    assert same_person("Shoigu", "Russian Defence Minister Sergei Shoigu")
    assert not same_person("Sebastien Lecornu", "Shoigu")


# --- Attribution in the source ----------------------------------------------------------


@pytest.mark.parametrize("seed", SEED_IDS)
def test_the_source_attribution_of_gold_quotes_matches_the_gold_speaker(seed: str) -> None:
    """Whatever a backend says, the speaker check compares it with this reading."""
    doc = analyse(article(seed).text)
    wrong = []
    for q in gold(seed)["quotes"]:
        if q["speaker"] is None:
            continue
        found = find_quote(q["text"], doc)
        assert len(found) == 1, q["text"]
        region = doc.region_containing(found[0].start, found[0].end)
        assert region is not None
        attributed = doc.speaker(region)
        aliases = [q["speaker"], *q.get("speaker_aliases", [])]
        if not attributed or not any(same_person(attributed, a) for a in aliases):
            wrong.append((q["text"][:40], attributed, q["speaker"]))
    # One gold quote in 002 is the wording of Canada's sanctions ("... over 'gross and
    # systematic violations'"), with no reporting verb: the reader leaves it unattributed.
    assert len(wrong) <= (1 if seed == "002_4344feba75e5fee7" else 0), wrong


# --- Properties -------------------------------------------------------------------------

# Kept small for the fast suite; SUMMARISE_PROPERTY_EXAMPLES=1000 for a longer hunt.
PROPERTY = settings(
    max_examples=int(os.environ.get("SUMMARISE_PROPERTY_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FOREIGN_WORDS = [
    "zebra",
    "quantum",
    "marmalade",
    "tundra",
    "violin",
    "glacier",
    "saxophone",
    "orchid",
]


def gold_quotes() -> list[tuple[str, dict[str, Any]]]:
    return [(seed, q) for seed in SEED_IDS for q in gold(seed)["quotes"]]


def assert_grounded_means_verbatim(grounded: Any, text: str) -> None:
    for quote in grounded.quotes:
        if quote.grounded:
            assert quote.span is not None
            start, end = quote.span
            assert text[start:end] == quote.text
        else:
            assert quote.span is None


@PROPERTY
@given(st.sampled_from(gold_quotes()), st.data())
def test_property_truncated_quotes_ground_exactly(
    item: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    seed, q = item
    words = q["text"].split()
    assume(len(words) >= 3)
    start = data.draw(st.integers(0, len(words) - 3))
    end = data.draw(st.integers(start + 3, len(words)))
    piece = " ".join(words[start:end])
    text = article(seed).text
    grounded, warnings = ground_summary(summary([{"speaker": None, "text": piece}]), text)
    assert_grounded_means_verbatim(grounded, text)
    [quote] = grounded.quotes
    assert quote.grounded and "quote_snapped" not in codes(warnings)
    assert normalise(quote.text).strip(" \"'.,;:!?-") == normalise(piece).strip(" \"'.,;:!?-")


@PROPERTY
@given(st.sampled_from(gold_quotes()), st.data())
def test_property_paraphrases_are_snapped_verbatim_or_left_ungrounded(
    item: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    seed, q = item
    words = q["text"].split()
    assume(len(words) >= 4)
    edits = data.draw(st.integers(1, max(1, len(words) // 2)))
    for _ in range(edits):
        i = data.draw(st.integers(0, len(words) - 1))
        op = data.draw(st.sampled_from(["replace", "delete", "swap"]))
        if op == "replace":
            words[i] = data.draw(st.sampled_from(FOREIGN_WORDS))
        elif op == "delete" and len(words) > 2:
            del words[i]
        elif op == "swap" and i + 1 < len(words):
            words[i], words[i + 1] = words[i + 1], words[i]
    paraphrase = " ".join(words)
    text = article(seed).text
    grounded, warnings = ground_summary(summary([{"speaker": None, "text": paraphrase}]), text)
    assert_grounded_means_verbatim(grounded, text)
    for quote in grounded.quotes:
        # Grounded text is the source's own words: never an invented word.
        assert (
            not any(w in quote.text for w in FOREIGN_WORDS if w not in text) or not quote.grounded
        )
    replaced = sum(w in FOREIGN_WORDS for w in words)
    if replaced * 3 >= len(words):  # a third of the words invented: not this quote any more
        assert not any(quote.grounded for quote in grounded.quotes), warnings


@PROPERTY
@given(st.sampled_from(gold_quotes()), st.sampled_from(SEED_IDS))
def test_property_quotes_from_another_article_are_not_grounded(
    item: tuple[str, dict[str, Any]], other: str
) -> None:
    seed, q = item
    assume(other != seed)
    text = article(other).text
    assume(len(q["text"].split()) >= 3 and normalise(q["text"]) not in normalise(text))
    grounded, _ = ground_summary(summary([{"speaker": None, "text": q["text"]}]), text)
    assert_grounded_means_verbatim(grounded, text)
    assert not any(quote.grounded for quote in grounded.quotes)


@PROPERTY
@given(st.sampled_from(gold_quotes()), st.data())
def test_property_swapped_speakers_are_flagged(
    item: tuple[str, dict[str, Any]], data: st.DataObject
) -> None:
    seed, q = item
    assume(q["speaker"] is not None)
    text = article(seed).text
    _, right = ground_summary(summary([{"speaker": q["speaker"], "text": q["text"]}]), text)
    assume("speaker_mismatch" not in codes(right))  # the source names this speaker
    others = [
        p["name"] for p in gold(seed)["participants"] if not same_person(p["name"], q["speaker"])
    ]
    assume(others)
    swapped = data.draw(st.sampled_from(others))
    grounded, wrong = ground_summary(summary([{"speaker": swapped, "text": q["text"]}]), text)
    assert_grounded_means_verbatim(grounded, text)
    attributed = analyse(text).region_containing(*grounded.quotes[0].span)  # type: ignore[misc]
    assume(attributed is not None and analyse(text).speaker(attributed) is not None)
    assert "speaker_mismatch" in codes(wrong)


@PROPERTY
@given(st.sampled_from(SEED_IDS), st.text(min_size=1, max_size=120))
def test_property_any_text_is_grounded_only_where_it_is_verbatim(seed: str, quote: str) -> None:
    assume(quote.strip())
    text = article(seed).text
    grounded, _ = ground_summary(summary([{"speaker": None, "text": quote}]), text)
    assert_grounded_means_verbatim(grounded, text)


def test_warning_codes_are_an_enum_in_the_feed_schema() -> None:
    schema = feed_schema()
    codes_schema = schema["$defs"]["WarningCode"]
    assert codes_schema["type"] == "string"
    assert set(codes_schema["enum"]) == {code.value for code in WarningCode}
    assert {"quote_snapped", "reasked", "truncated_retry", "extractive"} <= set(
        codes_schema["enum"]
    )
    warning = schema["$defs"]["RecordWarning"]["properties"]
    assert warning["code"]["$ref"] == "#/$defs/WarningCode"


# --- Normalising and reading: the fast paths find what their definitions do -------------

# Whitespace, dashes, quote marks, and letters whose case folding changes their length
# ("ß", "İ") or kind ("\u0345" folds to a letter).
TRICKY_PIECES = [
    *" \t\n-—…\u00ad\u200b\u00a0\u3000\x85“’`_'1aßİΣ\u0345",
    "  ",
    "\n\n",
    "\r\n",
    " - ",
    "--",
    "Al",
    "SS",
]
TRICKY = st.lists(st.sampled_from(TRICKY_PIECES), max_size=30).map("".join)


@PROPERTY
@given(TRICKY)
def test_property_gaps_are_where_the_gap_regex_finds_them(text: str) -> None:
    folded = fold(text)
    expected = [(m.span(), m.lastgroup) for m in _GAPS.finditer(folded)]
    assert [(m.span(), m.lastgroup) for m in _gaps(folded)] == expected
    assert normalise_with_offsets(text).norm == normalise(text)
    assert plain(text) == text.translate(TRANSLATE)


def test_gap_starts_spell_out_all_whitespace_but_the_space() -> None:
    chars = "".join(map(chr, range(sys.maxunicode + 1)))
    assert set(re.findall(r"[^\S ]", chars)) <= set(_GAP_START.findall(chars))


@PROPERTY
@given(TRICKY)
def test_property_word_spans_are_the_words_that_case_fold_to_the_word(text: str) -> None:
    words = list(WORD.finditer(text.translate(TRANSLATE)))
    doc = analyse(text)
    for word in {w.group(0).casefold() for w in words} | {"a", "al", "ss", "ß"}:
        assert doc.word_spans(word) == [w.span() for w in words if w.group(0).casefold() == word]
