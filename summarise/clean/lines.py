"""Lines: the plain-text cleaner, which scores each line for how much it reads like prose.

The body is the contiguous run of lines (joined into paragraphs when hard-wrapped) with
the highest total score, never crossing an end-of-article marker; furniture inside it is
dropped line by line, each with its reason. The HTML path reuses the line rules on what
``trafilatura`` extracted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import compress
from string import ascii_lowercase, ascii_uppercase

from summarise.clean.boilerplate import HEADER_KEYS, NOT_PLACES, PROMPT_ROLES, classify_line
from summarise.clean.decode import is_mojibake
from summarise.clean.models import CleanArticle, removed_lines
from summarise.text.dates import TIMESTAMP, parse_date

# --- Line features --------------------------------------------------------------------

_TRAILING_CLOSERS = "'\"”’»)]"
_ENDERS = tuple(".!?。！？")  # not "…": a line ending in one is a truncated teaser
_HEADER_DATE = re.compile(r"^date\s+(\d{4}-\d{2}-\d{2})\s+(\S.*)$", re.IGNORECASE)
_HEADER_KV = re.compile(r"^([A-Za-z][A-Za-z ]{1,20}?)\s*:\s*(\S.*)$")
_DATELINE_LINE = re.compile(
    r"^([A-Z][A-Z.'’ ]{1,40}?[A-Z.])(?:,\s*[A-Z][A-Za-z. ]{1,30})?\s*[-–—]+$"
)
_DATELINE_INLINE = re.compile(
    r"^([A-Z][A-Z.'’ ]{1,40}?[A-Z])(?:,\s*[A-Z][A-Za-z.]*(?:\s+[A-Za-z.]+)?(?:\s+\d{1,2})?)?"
    r"\s*(?:\([A-Za-z .]{2,20}\))?\s*(?:[-–—]{1,2}|:)\s+\S"
)
_BYLINE = re.compile(r"^(by|par|von|por|di|door)\s+\S", re.IGNORECASE)
SEPARATED = re.compile(r"\s+[|\-–—:·•»/]\s+|\s+::\s+")
URL = re.compile(r"^(https?://|www\.)\S+$")
_ROLE_LABEL = re.compile(r"^\W{0,3}([A-Za-z][A-Za-z .'’]{0,30}?)\s*(?::|[-–—]+\s)")


@dataclass(slots=True)
class Unit:
    """A paragraph of the input: one line, or several when the text is hard-wrapped."""

    first: int  # 0-based index of its first line in the input
    last: int  # 0-based index of its last line
    text: str
    words: int  # counted when the unit is read (``mark_units``)
    prose: bool
    key: str = ""  # lower-cased, whitespace-normalised text, for comparisons
    score: float = 0.0
    drop: str | None = None  # why it is dropped wherever it stands
    barrier: str | None = None  # end-of-article marker label
    related: bool = False  # a related-stories header


@dataclass(slots=True)
class LineResult:
    units: list[Unit]
    dropped: dict[int, str] = field(default_factory=dict)  # line index -> reason
    kept: list[Unit] = field(default_factory=list)
    title: str | None = None
    published: str | None = None
    url: str | None = None
    dateline: str | None = None


def _ends_sentence(text: str) -> bool:
    return text.rstrip(_TRAILING_CLOSERS).endswith(_ENDERS)


def _word_count(text: str, words: int) -> int:
    # Scripts written without spaces: count characters, roughly two to a word.
    if words * 12 < len(text):
        wide = sum(map("\u2e80".__lt__, text))  # characters past U+2E80, counted in C
        if wide > 10:
            words = max(words, wide // 2)
    return words


def _is_prose(text: str, spaced: str, words: int) -> bool:
    """Reads like running text: long enough, punctuated like a sentence, mostly lower-case.

    Only words that start with a cased letter vote on case, so scripts without case
    (Chinese, Japanese, Korean, Arabic, ...) are judged on length and punctuation alone.
    ``spaced`` is the text's words joined by single spaces.
    """
    if words < 4 or (words <= 8 and _has_timestamp(text)):
        return False
    ends = _ends_sentence(text)
    if not ends and words < 20:
        return False
    lower, cased = _initial_cases(spaced)
    ratio = lower / cased if cased >= 0.5 * words else 1.0
    if ends:
        return ratio >= 0.3 or (words >= 12 and ratio >= 0.15)
    return ratio >= 0.45


# UTF-8 bytes -> "a" (ASCII lower case), "A" (upper case), "u" (the first byte of any other
# character), the rest as they are: no byte of a non-ASCII character is ASCII, so " a" is
# a word that starts with a lower-case ASCII letter.
_BYTE_CLASSES = bytes.maketrans(
    (ascii_lowercase + ascii_uppercase).encode() + bytes(range(0xC0, 0x100)),
    b"a" * 26 + b"A" * 26 + b"u" * 64,
)


def _initial_cases(spaced: str) -> tuple[int, int]:
    """How many words start with a lower-case letter, and how many with a cased one.

    Counted in C on the byte classes of the UTF-8 rather than a call per word; only
    initials outside ASCII are looked at one by one.
    """
    data = f" {spaced}".encode("utf-8", "surrogatepass")
    classes = data.translate(_BYTE_CLASSES)
    lower, upper = classes.count(b" a"), classes.count(b" A")
    at = classes.find(b" u")
    while at >= 0:
        lead = data[at + 1]
        size = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
        initial = data[at + 1 : at + 1 + size].decode("utf-8", "surrogatepass")
        lower += initial.islower()
        upper += initial.isupper()
        at = classes.find(b" u", at + 1)
    return lower, lower + upper


_DIGIT = re.compile(r"\d")


def _has_timestamp(text: str) -> bool:
    # Every timestamp has a digit: a quick search for one spares most lines the slow one.
    return _DIGIT.search(text) is not None and TIMESTAMP.search(text) is not None


def _date_in(text: str) -> str | None:
    # Likewise every date ``parse_date`` reads has a year.
    return parse_date(text) if _DIGIT.search(text) else None


def _is_headline(unit: Unit) -> bool:
    """Could be a headline: a short capitalised line that is not a sentence or a label."""
    text = unit.text
    if unit.drop or unit.barrier or unit.related or not 3 <= unit.words <= 30:
        return False
    if text.endswith((".", ",", ";", ":")) or _BYLINE.match(text) or URL.match(text):
        return False
    if not (text[:1].isupper() or text[:1].isdigit() or text[:1] in "'\"‘“¿¡["):
        return False
    if _DATELINE_LINE.match(text) or (unit.words <= 8 and _has_timestamp(text)):
        return False
    if _prompt_role(text):
        return False
    return any(map(str.islower, text)) or unit.words >= 4


def _prompt_role(text: str) -> bool:
    """The line opens with a chat role label ("SYSTEM:", "User -"): text, not metadata."""
    match = _ROLE_LABEL.match(text)
    return match is not None and _names_a_role(match.group(1))


def _names_a_role(label: str) -> bool:
    return any(word in PROMPT_ROLES for word in re.split(r"[\s.'’]+", label.lower()))


def _under_headline(pos: int, title_pos: int | None) -> bool:
    """Below the headline, or near the top of a text without one."""
    return pos > title_pos if title_pos is not None else pos <= 2


def _is_lead(unit: Unit) -> bool:
    """A sentence under the headline that reads as the lead even when too many of its
    words are names to score as prose ("Armenian Foreign Minister Ararat Mirzoyan met
    Azerbaijani Foreign Minister Jeyhun Bayramov.")."""
    if unit.drop or unit.barrier or unit.related or unit.words < 6:
        return False
    if not _ends_sentence(unit.text) or _prompt_role(unit.text) or URL.match(unit.text):
        return False
    return any(len(t) > 1 and t[0].islower() and t.isalpha() for t in unit.text.split())


# Scores: prose counts its words; anything else costs a little, more for longer lines
# (a long line that is not prose is a headline in a list, a caption or a legal notice).
_DROPPED = -4.0
_DEDUPLICATE = 8  # lines this long said twice are a repeated caption or teaser; shorter
# repeats (list items, "Eat every 2-3 hours") are often the article's own structure
_DUPLICATE = -2.0
_CAPTION_WORDS = 25  # a photo's caption is shorter than an article's standfirst
_RELATED = -10.0
_ISOLATED = 0.3  # weight of a prose line with no prose neighbour (teaser lists)
_SETTLED = 50.0  # a run of prose worth this much after the headline is the article
_BEFORE_ANCHOR = 0.25  # weight of prose above the repeated headline (teasers, promos)
_AFTER_END = 0.1  # weight of prose after an end marker that follows the article


def _score(unit: Unit) -> float:
    if unit.related:
        return _RELATED
    if unit.drop is not None:
        return _DUPLICATE if unit.drop.startswith("duplicate") else _DROPPED
    if unit.prose:
        return float(unit.words)
    return -(2.0 + min(unit.words, 15) * 0.75)


# --- The plain-text path --------------------------------------------------------------


def clean_text(text: str, title: str | None = None) -> CleanArticle:
    """Clean a plain-text article or page dump (already decoded and repaired).

    ``title``, when the caller knows it, is removed from the text and anchors the body.
    """
    lines = text.split("\n")
    result = _clean_lines(lines, title)
    body = "\n\n".join(u.text for u in result.kept)
    removed = removed_lines(lines, result.dropped)
    return CleanArticle(
        title=result.title,
        published=result.published,
        dateline=result.dateline,
        text=body,
        url=result.url,
        removed=removed,
    )


def _clean_lines(lines: list[str], known_title: str | None) -> LineResult:
    header: dict[str, str] = {}
    dropped: dict[int, str] = {}
    start_line = _read_header(lines, header, dropped)
    title = known_title or header.get("title")
    units = mark_units(iter_units(lines, start_line), title, lines)
    result = LineResult(units=units, dropped=dropped, title=title)
    result.published = parse_date(header["published"]) if "published" in header else None
    url = header.get("url", "")
    result.url = url if URL.match(url) else None

    anchor = _anchor(units, result.title)
    _mark_headline_again(units, anchor)
    start, end = _body_span(units, anchor)
    if end <= start:  # no run of prose at all: a short note, keep what is not furniture
        start, end = 0, len(units)
    title_pos = _find_title(result, units, anchor, start)
    body_start, start = start, _extend_head(units, start, title_pos)
    _find_date_and_dateline(result, units, body_start, end, title_pos)

    after_reason = "after the article: page furniture"
    for pos, unit in enumerate(units):
        if pos == title_pos:
            reason: str | None = "title"
        elif unit.drop is not None:
            reason = unit.drop
        elif unit.related:
            reason = "related stories"
        elif unit.barrier is not None:
            reason = f"end of article: {unit.barrier}"
        elif pos < start:
            reason = "before the article: navigation or header"
        elif pos >= end:
            reason = after_reason
        else:
            reason = None
        if pos >= end and unit.barrier is not None and after_reason.endswith("furniture"):
            after_reason = f"after the article (it ends at line {unit.first + 1}: {unit.barrier})"
        if reason is None:
            result.kept.append(unit)
        else:
            for i in range(unit.first, unit.last + 1):
                if lines[i].strip():
                    dropped[i] = reason
    rest = units[-1].last + 1 if units else start_line  # unread: the article ended above
    nonblank = compress(range(rest, len(lines)), map(str.strip, lines[rest:]))
    dropped.update(dict.fromkeys(nonblank, after_reason))
    return result


def _read_header(lines: list[str], header: dict[str, str], dropped: dict[int, str]) -> int:
    """Parse a ``' date 2023-03-02 Title'`` line or ``Key: value`` lines at the top."""
    pos = 0
    while pos < len(lines) and not lines[pos].strip():
        pos += 1
    if pos == len(lines):
        return pos
    first = lines[pos].strip()
    match = _HEADER_DATE.match(first)
    if match:
        header["published"] = match.group(1)
        header["title"] = match.group(2).strip()
        dropped[pos] = "header: date and title"
        return pos + 1
    fields: dict[int, tuple[str, str]] = {}
    while pos < len(lines) and lines[pos].strip():
        kv = _HEADER_KV.match(lines[pos].strip())
        key = HEADER_KEYS.get(kv.group(1).strip().lower()) if kv else None
        if kv is None or key is None:
            break
        fields[pos] = (key, kv.group(2).strip())
        pos += 1
    if len(fields) >= 2 or (fields and pos < len(lines) and not lines[pos].strip()):
        for i, (key, value) in fields.items():
            header.setdefault(key, value)
            dropped[i] = f"header: {key}"
        return pos
    return 0


def split_units(lines: list[str], start: int) -> list[Unit]:
    """Non-blank lines as units, joining the lines of hard-wrapped paragraphs."""
    return list(iter_units(lines, start))


def iter_units(lines: list[str], start: int) -> Iterator[Unit]:
    """``split_units`` one unit at a time, for a reader that may stop early."""
    unit: Unit | None = None
    prev_blank = True
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if not text:
            prev_blank = True
            continue
        if unit is not None and not prev_blank and _continues(unit.text, text):
            unit.text = f"{unit.text} {text}"
            unit.last = i
        else:
            if unit is not None:
                yield unit
            unit = Unit(i, i, text, 0, False)
        prev_blank = False
    if unit is not None:
        yield unit


def _describe(unit: Unit) -> None:
    spaced = _single_spaced(unit.text)
    unit.words = _word_count(unit.text, spaced.count(" ") + 1)
    unit.prose = _is_prose(unit.text, spaced, unit.words)
    unit.key = spaced.lower()


def _single_spaced(text: str) -> str:
    """The words of ``text`` (a stripped unit) joined by single spaces."""
    # Most lines already are, told in C without splitting them into words: every
    # whitespace character but the space is unprintable.
    if "  " not in text and text.isprintable():
        return text
    return " ".join(text.split())


def _continues(prev: str, text: str) -> bool:
    """``text`` carries on the sentence that ``prev`` broke off (hard-wrapped text)."""
    # Cheapest test first: most lines start with a capital, a digit or a quote.
    if not text[0].islower() or len(prev) < 30 or _ends_sentence(prev) or prev.endswith(":"):
        return False
    head, *rest = text.split(maxsplit=2)
    if not (head[:2].isalpha() and len(rest) == 2):
        return False
    words = prev.split()  # a sentence, not a Title Case headline followed by "by ..."
    return sum(w[0].islower() for w in words) >= 0.4 * len(words)


def mark_units(
    source: Iterable[Unit], title: str | None, lines: list[str] | None = None
) -> list[Unit]:
    """Mark mojibake, end markers, related headers, boilerplate, duplicates; score.
    Returns the units read.

    Given the ``lines`` the units come from, stop at an end marker that closes an
    unbroken run of prose (the article) which even an all-prose rest, discounted as it is
    there, could not outweigh: the rest is left unread (with ``iter_units``, unsplit).
    """
    units: list[Unit] = []
    seen: dict[str, int] = {}
    title_key = normal_key(title) if title else None
    prose_words = 0  # the headline again after this much prose starts a related list
    run = run_before = 0  # words of the current run of prose paragraphs, and the last one
    for unit in source:
        units.append(unit)
        _describe(unit)
        text = unit.text
        key = unit.key
        found = classify_line(text) if unit.words <= 40 else None
        if is_mojibake(text):
            unit.drop = "mojibake that could not be repaired"
        elif found is not None and found[0] == "end":
            unit.barrier = found[1]
        elif found is not None and found[0] == "related":
            unit.related = True
        elif found is not None:
            unit.drop = f"boilerplate: {found[1]}"
        elif key == title_key and prose_words >= _SETTLED:
            unit.barrier = _HEADLINE_AGAIN
        elif unit.words >= _DEDUPLICATE and key in seen:
            unit.drop = f"duplicate of line {seen[key] + 1}"
        seen.setdefault(key, unit.first)
        if unit.drop is not None or unit.barrier is not None or unit.related:
            unit.prose = False
        prose_words += unit.words if unit.prose else 0
        if unit.prose:
            run += unit.words
        elif unit.drop is None:
            run_before, run = run, 0
        unit.score = _score(unit)
        if (
            lines is not None
            and unit.barrier is not None
            and run_before >= _SETTLED
            and _outweighs(run_before, lines, unit.last + 1)
        ):
            break
    for pos, unit in enumerate(units):
        if unit.score > 0:
            before = pos > 0 and units[pos - 1].prose
            after = pos + 1 < len(units) and units[pos + 1].prose
            if not before and not after:
                unit.score *= _ISOLATED
    return units


def _outweighs(run: int, lines: list[str], first: int) -> bool:
    """A run of prose this long outweighs the lines from ``first`` on even if all of them
    are prose, discounted as they are past an end marker."""
    if _AFTER_END * _most_words("\n".join(lines[first:])) < 0.5 * run:
        return True  # settles most pages without splitting the rest into words
    words = sum(_word_count(unit.text, len(unit.text.split())) for unit in iter_units(lines, first))
    return _AFTER_END * words < 0.5 * run


# What str.split() splits at in ASCII, bar the space and the line break.
_ODD_SPACES = b"\t\x0b\x0c\r\x1c\x1d\x1e\x1f"


def _most_words(text: str) -> int:
    """An upper bound, counted in C, on the words of the units ``text`` splits into."""
    # A word ends at a space or the text's end; any non-ASCII character could be a space,
    # or a wide character that ``_word_count`` counts half a word.
    ascii = text.encode("ascii", "ignore")
    spaces = (
        ascii.count(b" ")
        + ascii.count(b"\n")
        + len(ascii)
        - len(ascii.translate(None, _ODD_SPACES))
    )
    others = len(text) - len(ascii)
    return spaces + 1 + others + others // 2


_HEADLINE_AGAIN = "headline repeated in a related-stories list"


def _mark_headline_again(units: list[Unit], anchor: int | None) -> None:
    """The anchoring headline seen again further down starts a related-stories list."""
    if anchor is None:
        return
    key = units[anchor].key
    for unit in units[anchor + 1 :]:
        if unit.barrier is None and unit.key == key:
            unit.barrier = _HEADLINE_AGAIN
            unit.drop = None
            unit.prose = False
            unit.score = _score(unit)


def normal_key(text: str) -> str:
    return " ".join(text.lower().split())


def _anchor(units: list[Unit], title: str | None) -> int | None:
    """Position of the headline just above the body, when the text tells it.

    A known title is the anchor where it appears. Page dumps start with the page's
    ``<title>`` ("Headline | Site"); the article's own headline repeats it (or its
    longest part) just above the body.
    """
    if len(units) < 2:
        return None
    if title is not None:
        key = normal_key(title)
        for pos, unit in enumerate(units):
            if unit.key == key and unit.barrier is None:  # not a later related-list copy
                return pos
        return None
    first = units[0].key
    parts = {p for p in (normal_key(p) for p in SEPARATED.split(units[0].text)) if len(p) >= 15}
    best: tuple[int, float, int] | None = None  # (length of the match, prose after, position)
    for pos in range(1, len(units)):
        unit = units[pos]
        key = unit.key
        if len(key) < 15 or unit.words > 25 or not (key in parts or first.startswith(key)):
            continue
        prose = sum(u.score for u in units[pos + 1 : pos + 13] if u.score > 0)
        if prose > 0 and (best is None or (len(key), prose) > best[:2]):
            best = (len(key), prose, pos)
    return best[2] if best is not None else None


def _body_span(units: list[Unit], anchor: int | None) -> tuple[int, int]:
    """The [start, end) run of units with the highest weighted score, within barriers.

    A maximum-sum subsequence (Kadane) over unit scores. Prose above the anchoring
    headline counts a quarter; once a run of prose worth ``_SETTLED`` has been seen,
    prose after the next end marker (comments, footer) counts a tenth.
    """
    best = (0.0, 0, 0)
    weight = _BEFORE_ANCHOR if anchor is not None else 1.0
    settled = False
    run_score = 0.0
    run_start = 0
    for pos, unit in enumerate(units):
        if pos == anchor:
            weight = 1.0
            run_score = 0.0  # the article starts at its headline
        if unit.barrier is not None:
            if settled:
                weight = _AFTER_END
            run_score = 0.0
            run_start = pos + 1
            continue
        if run_score <= 0.0:
            run_score = 0.0
            run_start = pos
        run_score += unit.score * weight if unit.score > 0 else unit.score
        if weight == 1.0 and run_score >= _SETTLED:
            settled = True
        if run_score > best[0]:
            best = (run_score, run_start, pos + 1)
    return best[1], best[2]


def _find_title(
    result: LineResult, units: list[Unit], anchor: int | None, start: int
) -> int | None:
    """Set ``result.title`` and return the position of the unit that holds it, if any."""
    if result.title is not None:
        key = normal_key(result.title)
        if anchor is not None and units[anchor].key == key:
            return anchor
        return None
    if anchor is not None:
        result.title = units[anchor].text
        return anchor
    # A headline-like line above the body that shares most of its words with the first
    # line (a page dump's <title>), else that first line, else the nearest headline-like
    # line of four words or more.
    page_words = set(units[0].key.split()) if units else set()
    nearest = overlap = None
    for pos in range(start - 1, max(-1, start - 15), -1):
        unit = units[pos]
        if unit.barrier is not None or unit.related:
            break
        if not _is_headline(unit):
            continue
        words = set(unit.key.split())
        if len(words & page_words) >= 0.6 * len(words):
            overlap = pos
            break
        if nearest is None and unit.words >= 4:
            nearest = pos
    if overlap is not None:
        result.title = units[overlap].text
        return overlap
    # A page dump's first line is its <title>: "Headline | Site".
    if units and start > 0 and _is_headline(units[0]):
        parts = SEPARATED.split(units[0].text)
        result.title = max(parts, key=len) if len(parts) > 1 else units[0].text
        return 0
    if nearest is not None:
        result.title = units[nearest].text
        return nearest
    return None


def _extend_head(units: list[Unit], start: int, title_pos: int | None) -> int:
    """Take back prose just above the body separated from it only by furniture.

    A lead photo's caption often sits above the headline, next to its duplicate and
    a credit line; it belongs to the article. So does a lead sentence right under the
    headline, even one too full of names to score as prose.
    """
    pos = start - 1
    new_start = start
    while pos >= 0:
        unit = units[pos]
        if unit.barrier is not None or unit.related:
            break
        if unit.prose and _is_caption(units, pos, title_pos):
            unit.drop = "photo caption"
        elif unit.prose or (_under_headline(pos, title_pos) and _is_lead(unit)):
            new_start = pos
        elif not (pos == title_pos or unit.drop is not None):
            break
        pos -= 1
    return new_start


def _is_caption(units: list[Unit], pos: int, title_pos: int | None) -> bool:
    """A short line above the headline followed by a photo credit describes the photo;
    a long one (003's) is the article's standfirst under its photo, and is kept."""
    if title_pos is None or pos >= title_pos or units[pos].words >= _CAPTION_WORDS:
        return False
    after = next((u for u in units[pos + 1 :] if not (u.drop or "").startswith("dup")), None)
    return after is not None and after.drop == "boilerplate: photo credit"


def _find_date_and_dateline(
    result: LineResult, units: list[Unit], start: int, end: int, title_pos: int | None
) -> None:
    """Publication date from the header lines above the body; the dateline if any."""
    head_from = max(0, (title_pos if title_pos is not None else start) - 2)
    for pos in range(head_from, min(start + 1, len(units))):
        unit = units[pos]
        if pos >= start and unit.prose:
            break
        if unit.prose or unit.words > 20:
            continue
        match = _DATELINE_LINE.match(unit.text)
        if match and pos != title_pos and result.dateline is None:
            if _not_a_place(match.group(1).strip()):
                continue
            result.dateline = match.group(1).strip()
            unit.drop = "dateline"
            continue
        if result.published is None and pos != title_pos:
            result.published = _date_in(unit.text)
    for unit in units[start:end]:
        if unit.drop is None and unit.barrier is None and not unit.related:
            result.dateline = result.dateline or inline_dateline(unit.text)
            break


def inline_dateline(text: str) -> str | None:
    """'WASHINGTON (AP) — The ...' -> 'WASHINGTON'; labels like 'BREAKING:' are not places."""
    match = _DATELINE_INLINE.match(text)
    if match is None:
        return None
    place = match.group(1).strip()
    return place if len(place) >= 3 and not _not_a_place(place) else None


def _not_a_place(name: str) -> bool:
    """A label ("BREAKING") or a chat role ("SYSTEM", "USER"), never a dateline's place."""
    return name.lower() in NOT_PLACES or _names_a_role(name)
