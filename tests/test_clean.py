"""Cleaning: raw scrapes (plain text or HTML) -> the article alone, with title and date.

The seed gold (``tests/gold/clean/*.json``) was annotated by hand: which lines of each
seed are the article body, its title, date and dateline.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from string import ascii_lowercase

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from summarise.clean import CleanArticle, CleanError, clean, clean_text, decode, explain
from summarise.clean.boilerplate import _TABLES, _UNFOLDED
from summarise.clean.lines import _initial_cases, _single_spaced
from summarise.ingest import RawArticle, read
from summarise.text.dates import parse_date

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "examples").glob("*.txt"))
GOLD = {
    p.stem: json.loads(p.read_text(encoding="utf-8"))
    for p in (ROOT / "tests/gold/clean").glob("*.json")
}


def _text(data: bytes, **kw: str) -> RawArticle:
    return RawArticle("t", None, data, "text", **kw)


def _cleaned(stem: str) -> tuple[list[str], CleanArticle]:
    path = ROOT / "examples" / f"{stem}.txt"
    (raw,) = read([str(path)])
    return decode(raw.data).splitlines(), clean(raw)


def _kept_lines(lines: list[str], article: CleanArticle) -> set[int]:
    dropped = {r.line for r in article.removed}
    return {n for n, line in enumerate(lines, 1) if line.strip() and n not in dropped}


def _gold_lines(lines: list[str], gold: dict[str, object]) -> set[int]:
    ranges = gold["body"]
    assert isinstance(ranges, list)
    return {n for lo, hi in ranges for n in range(lo, hi + 1) if lines[n - 1].strip()}


def test_every_seed_has_gold() -> None:
    assert {p.stem for p in SEEDS} == set(GOLD)


# --- The seeds: no article line dropped, tails gone -----------------------------------


@pytest.mark.parametrize("stem", sorted(GOLD))
def test_seed_keeps_every_body_line_and_little_else(stem: str) -> None:
    lines, article = _cleaned(stem)
    kept, gold = _kept_lines(lines, article), _gold_lines(lines, GOLD[stem])
    assert not gold - kept, f"article lines dropped: {sorted(gold - kept)}"
    precision = len(kept & gold) / len(kept)
    assert precision >= 0.98, f"non-article lines kept: {sorted(kept - gold)}"


@pytest.mark.parametrize("stem", sorted(GOLD))
def test_seed_title_date_and_dateline_match_gold(stem: str) -> None:
    _, article = _cleaned(stem)
    gold = GOLD[stem]
    assert article.title == gold["title"]
    assert article.published == gold["published"]
    assert article.dateline == gold["dateline"]


@pytest.mark.parametrize("stem", sorted(GOLD))
def test_seed_text_is_the_body_lines_verbatim_as_paragraphs(stem: str) -> None:
    lines, article = _cleaned(stem)
    body = [lines[n - 1].strip() for n in sorted(_gold_lines(lines, GOLD[stem]))]
    assert article.text == "\n\n".join(body)


@pytest.mark.parametrize("stem", sorted(GOLD))
def test_seed_title_is_not_repeated_in_text(stem: str) -> None:
    _, article = _cleaned(stem)
    assert article.title
    assert article.text.split("\n\n")[0] != article.title


def test_004_mojibake_line_and_teasers_are_gone() -> None:
    _, article = _cleaned("004_8546a322da682372")
    assert "Â" not in article.text
    assert "Four puppies" not in article.text
    assert "Top Stories" not in article.text
    reasons = {r.line: r.reason for r in article.removed}
    assert reasons[1].startswith("mojibake")
    assert reasons[8] == "dateline"


def test_related_story_tails_are_gone() -> None:
    _, a000 = _cleaned("000_5132f6c47e1c0e2b")
    _, a001 = _cleaned("001_708934a6f6b6cdcb")
    assert "avalanche" not in a000.text
    assert "MORE WORLD NEWS" not in a000.text
    assert "contributed to this report" not in a001.text
    assert "wildfires" not in a001.text


def test_003_repeated_caption_is_kept_once() -> None:
    _, article = _cleaned("003_7d411593f19f2ef7")
    assert article.text.count("frank discussions") == 1
    assert "Photo Credit" not in article.text
    assert "Categories:" not in article.text


def test_english_caption_and_credit_above_the_headline_are_dropped() -> None:
    page = (
        "Foreign Minister Sergey Lavrov and Secretary of State Antony Blinken in Geneva.\n"
        "Photo: Reuters\n\n"
        "Lavrov and Blinken speak by phone for the first time in months\n\n"
        "Russian Foreign Minister Sergey Lavrov spoke by telephone with U.S. Secretary of "
        "State Antony Blinken on Tuesday, the first call between the two in months.\n\n"
        "The two men discussed a possible prisoner exchange and the war in Ukraine, the "
        "State Department said in a statement after the call.\n"
    )
    article = clean_text(page)
    assert article.title == "Lavrov and Blinken speak by phone for the first time in months"
    assert article.text.startswith("Russian Foreign Minister Sergey Lavrov spoke")


def test_curly_quotes_and_apostrophes_are_kept_exactly() -> None:
    lines, article = _cleaned("002_4344feba75e5fee7")
    assert "an “open invitation” to visit Moscow" in article.text
    assert "Canada’s Foreign Affairs Minister" in article.text
    assert lines[10] in article.text  # a paragraph with “ ” and ’ exactly as the source


def test_explain_lists_each_dropped_line_with_its_reason() -> None:
    _, article = _cleaned("004_8546a322da682372")
    report = explain(article)
    assert "title:     In rare call" in report
    assert "dateline:  MOSCOW" in report
    for removed in article.removed:
        assert f"{removed.line:>5}  {removed.reason}" in report
    assert "boilerplate: navigation" in report


# --- Plain text beyond the seeds ------------------------------------------------------

PROSE = (
    "The two ministers met for three hours on Tuesday and agreed to meet again next month, "
    "officials said after the talks ended in the capital."
)


def test_header_lines_give_title_date_and_url() -> None:
    data = (
        "Title: Ministers meet in Geneva\nDate: 19 November 2019\nURL: https://example.org/a\n\n"
        f"{PROSE}\n{PROSE.replace('two', 'both')}\n"
    ).encode()
    article = clean(_text(data))
    assert article.title == "Ministers meet in Geneva"
    assert article.published == "2019-11-19"
    assert article.url == "https://example.org/a"
    assert article.text.startswith("The two ministers")


def test_jsonl_title_and_published_win_over_detected_ones() -> None:
    data = f" date 2023-03-02 Detected title\n{PROSE}\n".encode()
    article = clean(_text(data, title="Given title", published="2024-01-05T10:00:00Z"))
    assert article.title == "Given title"
    assert article.published == "2024-01-05"


def test_inline_dateline_is_detected_and_text_kept() -> None:
    data = f"Ministers meet\n\nWASHINGTON (AP) — {PROSE}\n\n{PROSE}\n".encode()
    article = clean(_text(data))
    assert article.dateline == "WASHINGTON"
    assert article.text.startswith("WASHINGTON (AP) — The two")


def test_hard_wrapped_paragraph_is_joined_into_one() -> None:
    data = (
        "The two ministers met for three hours on Tuesday and\n"
        "agreed to meet again next month, officials said after\n"
        "the talks ended in the capital on a cold afternoon.\n\n"
        f"{PROSE}\n"
    ).encode()
    article = clean(_text(data))
    first = article.text.split("\n\n")[0]
    assert first.startswith("The two ministers met for three hours on Tuesday and agreed")
    assert first.endswith("cold afternoon.")


def test_input_of_only_page_furniture_is_an_error() -> None:
    with pytest.raises(CleanError) as err:
        clean(_text(b"Skip to main content\nShare\nAdvertisement\n"))
    assert err.value.code == "no_article"


def test_ingest_error_is_raised_with_its_code() -> None:
    raw = RawArticle("x", "x.txt", b"", error="unreadable", message="permission denied")
    with pytest.raises(CleanError) as err:
        clean(raw)
    assert err.value.code == "unreadable"


# --- Encodings and repair -------------------------------------------------------------


def test_utf8_with_bom_is_decoded_without_the_bom() -> None:
    assert decode("\ufeffCanada’s".encode()) == "Canada’s"


def test_cp1252_falls_back_and_keeps_curly_quotes() -> None:
    assert decode("caf\xe9 “quoted” it’s".encode("cp1252")) == "café “quoted” it’s"


def test_utf16_with_bom_is_decoded() -> None:
    assert decode("Moscow talks".encode("utf-16")) == "Moscow talks"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"  \n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"%PDF-1.7\n", "binary"),
        (b"abc\x00def\x00", "binary"),
        (bytes(range(1, 32)) * 20, "undecodable"),
    ],
)
def test_unusable_input_is_an_error_record_not_a_crash(data: bytes, code: str) -> None:
    with pytest.raises(CleanError) as err:
        clean(_text(data))
    assert err.value.code == code
    assert err.value.message


def test_mojibake_is_repaired_and_curly_apostrophe_kept() -> None:
    data = f"Lavrovâ€™s ministry said “no”. {PROSE}\n{PROSE}\n".encode()
    article = clean(_text(data))
    assert article.text.startswith("Lavrov’s ministry said “no”.")


def test_stray_control_characters_are_removed() -> None:
    data = f"The ministers\x07 met. {PROSE}\n{PROSE}\n".encode()
    assert "\x07" not in clean(_text(data)).text


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("Published: November 19, 2019 10:31 pm", "2019-11-19"),
        ("Chris Davies - Nov 19, 2019, 10:31 pm CST", "2019-11-19"),
        ("19 November 2019", "2019-11-19"),
        ("2023-06-18T10:00:00Z", "2023-06-18"),
        ("27/09/2018", "2018-09-27"),
        ("03/04/2018", None),  # day and month could be either way round
        ("no date here", None),
    ],
)
def test_parse_date(text: str, iso: str | None) -> None:
    assert parse_date(text) == iso


# --- HTML -----------------------------------------------------------------------------

HTML = f"""<!DOCTYPE html>
<html><head><title>Ministers agree to talk again | Example News</title>
<meta property="og:title" content="Ministers agree to talk again">
<meta property="article:published_time" content="2024-03-05T09:00:00Z">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/share">Share</a></nav>
<article><h1>Ministers agree to talk again</h1>
<p>{PROSE}</p>
<p>“We have agreed to keep talking,” the foreign minister said, adding that the next round
would take place in Vienna before the end of the year, according to a statement.</p>
<p>Neither side gave details of the proposals discussed, and both said further work would be
needed before any agreement on the disputed border could be reached by the two governments.</p>
<p>With files from The Associated Press.</p>
</article>
<footer><p>© 2024 Example News. All rights reserved.</p></footer>
</body></html>"""


def test_html_gives_title_date_and_body_without_furniture() -> None:
    article = clean(RawArticle("h", "a.html", HTML.encode(), "html"))
    assert article.title == "Ministers agree to talk again"
    assert article.published == "2024-03-05"
    assert article.text.startswith("The two ministers met")
    assert "“We have agreed to keep talking,”" in article.text
    assert "With files from" not in article.text
    assert "All rights reserved" not in article.text
    assert "Home" not in article.text


def test_html_sent_as_text_is_still_treated_as_html() -> None:
    article = clean(_text(HTML.encode()))
    assert article.title == "Ministers agree to talk again"
    assert "<p>" not in article.text


def test_tiny_html_falls_back_to_its_plain_text() -> None:
    page = f"<html><body><p>{PROSE}</p></body></html>".encode()
    assert clean(RawArticle("h", "a.html", page, "html")).text == PROSE


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=400), st.sampled_from(["text", "html"]))
def test_any_bytes_give_an_article_or_a_clean_error(data: bytes, kind: str) -> None:
    try:
        article = clean(RawArticle("f", None, data, kind))  # type: ignore[arg-type]
    except CleanError as err:
        assert err.code and err.message
    else:
        assert article.text.strip()


def test_a_label_is_not_taken_for_a_dateline() -> None:
    article = clean(_text(f"BREAKING: {PROSE}\n\n{PROSE}\n".encode()))
    assert article.dateline is None


def test_standalone_dateline_line_is_moved_to_the_dateline_field() -> None:
    data = f"Ministers meet in Geneva\n\nGENEVA —\n\n{PROSE}\n\n{PROSE}\n".encode()
    article = clean(_text(data))
    assert article.dateline == "GENEVA"
    assert "GENEVA —" not in article.text
    assert article.title == "Ministers meet in Geneva"


# --- Fast paths agree with the plain definitions they replace -------------------------

_ODD_CHARS = st.sampled_from(" \t\x1c\x85\xa0\u2009\u3000aZéÉ“’ıİſΣ1.")
_ODD_TEXT = st.text(st.one_of(_ODD_CHARS, st.characters()))


@settings(max_examples=300, deadline=None)
@given(_ODD_TEXT)
def test_single_spacing_and_initial_cases_agree_with_str_split(text: str) -> None:
    text = text.strip()
    words = text.split()
    assert _single_spaced(text) == " ".join(words)
    lower = sum(w[0].islower() for w in words)
    assert _initial_cases(" ".join(words)) == (lower, lower + sum(w[0].isupper() for w in words))


def test_lower_case_keeps_what_ignorecase_matches_bar_the_unfolded_letters() -> None:
    # What the folded pre-test of the boilerplate tables relies on, for every character.
    chars = "".join(chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF)
    for letter in ascii_lowercase:
        matched = set(re.findall(letter, chars, re.IGNORECASE))
        assert {c for c in matched if c.lower() != letter} <= set(_UNFOLDED)
    for c in chars:
        low = c.lower()
        if low != c and c not in _UNFOLDED:
            assert len(low) == 1
            for cls in (r"\s", r"\d", r"\w"):
                assert bool(re.match(cls, c)) == bool(re.match(cls, low))


_BOILERPLATE_TEXT = (
    "more world news top stories in canada share this article on facebook twitter © (c) 2023 "
    "getty images via afp reuters photo credit: comments (3) [ 12 ] replies to leave a comment "
    "read more to continue skip the main content tags : — • | sign in subscribe now related "
    "you may also like advertisement with files from the canadian press all rights reserved"
)
_BOILERPLATE_WORDS = tuple(_BOILERPLATE_TEXT.split())


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_BOILERPLATE_WORDS), min_size=1, max_size=7),
    st.sampled_from([str, str.upper, str.title]),
    st.sampled_from([("", ""), ("s", "ſ"), ("i", "ı"), ("i", "İ"), ("I", "İ"), ("S", "ſ")]),
)
def test_folded_pretest_never_rules_out_a_row(
    words: list[str], case: Callable[[str], str], swap: tuple[str, str]
) -> None:
    reference = copy.copy(_TABLES)
    reference.folded = None  # always the real alternation
    line = case(" ".join(words))
    line = line.replace(*swap) if swap[0] else line
    assert _TABLES.classify(line) == reference.classify(line)
