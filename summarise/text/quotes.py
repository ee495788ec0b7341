"""Quotes: where the quotations of a text are, in every convention news text uses.

``quote_regions(text, paragraphs)`` finds, paragraph by paragraph, the words between
quotation marks: straight and curly doubles, „German“ and ‚German‘, « French » (with or
without no-break spaces) and »reversed«, 「Japanese」 and 『』, wire copy's ``backticks'',
single quotes used for speech ('…,' he said), and dialogue paragraphs opened by a dash
("— Nous voulons la paix, a déclaré le ministre"). A quote inside a quote is part of the
outer one; an unclosed quote runs to the end of its paragraph (the English convention for
a quote over several paragraphs: each reopens with a mark, only the last closes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarise.text.vocabulary import INCISE_CUES, REPORTING_VERBS, TITLE_SMALL_WORDS


@dataclass(frozen=True)
class QuoteRegion:
    """Words between quotation marks in the source."""

    open: int
    """Offset of the opening mark."""
    close: int
    """Offset of the closing mark (or the paragraph end when the quote is not closed)."""
    start: int
    """Start of the quoted words (after the mark and any space)."""
    end: int
    """End of the quoted words."""
    paragraph: int


# --- The marks (data) -------------------------------------------------------------------

_WESTERN = frozenset('"“”„‟＂〝〞〟')
"""Double marks that close one another (typists mix them: “…" is one quotation)."""
CLOSERS: dict[str, frozenset[str]] = {
    **dict.fromkeys(_WESTERN, _WESTERN),
    "«": frozenset("»"),
    "»": frozenset("«"),  # »reversed« (German, Danish)
    "‹": frozenset("›"),
    "›": frozenset("‹"),
    "「": frozenset("」"),
    "『": frozenset("』"),
    "``": frozenset({"''"}),
    "''": frozenset({"''"}),  # ''wire copy'' typed with two apostrophes each side
    "‘": frozenset("’"),
    "‚": frozenset("‘’"),
    "‛": frozenset("’"),
    "'": frozenset("'"),
}
"""Each opening mark and the marks that close it."""
_ALWAYS_OPEN = frozenset("“„‟«‹〝「『") | {"``"}
_BEFORE_A_WORD = frozenset("”»›〞")
"""Closing marks that open only before a word: ”Swedish”, »reversed«."""
_STRAIGHT = frozenset('"＂')
_SINGLES = frozenset("‘‚‛'")
"""Single marks: speech in some outlets, but the same characters are apostrophes."""
_MARK = re.compile(r"``|''|[\"“”„‟«»＂〝〞〟‘’‚‛'‹›「」『』]")
_DECADE = re.compile(r"\d\ds?\b")  # the '90s: an apostrophe, not a quote
_DIALOGUE = re.compile(r"(?:—|―|–(?=\s))\s*(?=\S)")
"""A paragraph that opens with a dash is speech (French, Spanish, Russian dialogue)."""
_VERB = re.compile(r"\b(?:" + "|".join(sorted(REPORTING_VERBS, key=len, reverse=True)) + r")\b")
_INCISE = re.compile(
    r"\s+[—–]|,\s+(?=(?:\S+\s+){0,2}?\S*-(?:t-)?(?:il|elle|ils|elles)\b|(?:"
    + "|".join(INCISE_CUES)
    + r")\b|(?:"
    + _VERB.pattern
    + r"))"
)
"""Where a dialogue paragraph's speech stops: a dash before the incise ("— ¡No! —dijo"),
or a comma before "a-t-il déclaré", "a déclaré", "said"."""
_ATTRIBUTED = re.compile(
    r",?\s+(?:(?:he|she|they|il|elle)\s+)?(?=\S*-(?:t-)?(?:il|elle|ils|elles)\b|(?:"
    + "|".join(INCISE_CUES)
    + r")\b|(?:"
    + _VERB.pattern
    + r"))"
)
"""An attribution right after a closing mark: ', a indiqué', ' he said', ', said'."""
_SPEECH_END = ",.!?…:;"
_SINGLE_AFTER_SPEECH = re.compile(r"[,.!?…:;][’'](?![^\W_])")
_LOOKAHEAD = 400
"""How far past a possessive-looking mark the close of a single quotation is looked for."""
_SPEECH_CUE = re.compile(_VERB.pattern + r"|\baccording to\b")
_CUE_REACH = 60
_CUE_BEFORE = 20
"""How far after (before) a single-quoted run a reporting verb still marks it speech."""
_MAX_DEPTH = 4
"""Quotes inside quotes inside quotes, at most: what bounds the cost of a run of marks."""
_RETRIES = 8
"""Most single marks a paragraph may leave unclosed that are rescanned past: bounded."""


def quote_regions(text: str, paragraphs: list[tuple[int, int]]) -> list[QuoteRegion]:
    """Every quotation of ``text``, paragraph by paragraph (the outer one of a nesting)."""
    regions: list[QuoteRegion] = []
    for number, (p0, p1) in enumerate(paragraphs):
        dialogue = _DIALOGUE.match(text, p0, p1)
        if dialogue and _in_dialogue(text, paragraphs, number):
            regions.extend(_dialogue(text, p0, p1, dialogue.end(), number))
            continue
        skip: set[int] = set()
        reopened = number + 1 < len(paragraphs) and bool(
            _MARK.match(text, paragraphs[number + 1][0])
        )
        while True:
            found, stray = _scan(text, p0, p1, number, skip, reopened=reopened)
            if stray is None or len(skip) >= _RETRIES:
                regions.extend(found)
                break
            skip.add(stray)  # an apostrophe taken for a quote: read again without it
    return regions


def _in_dialogue(text: str, paragraphs: list[tuple[int, int]], number: int) -> bool:
    """A dash paragraph is speech when it, or a dash paragraph next to it, has an incise
    (", a déclaré le ministre"); a run of dash paragraphs with none is a list."""
    for p0, p1 in paragraphs[max(0, number - 1) : number + 2]:
        dialogue = _DIALOGUE.match(text, p0, p1)
        if dialogue and _INCISE.search(text, dialogue.end(), p1):
            return True
    return False


def _dialogue(text: str, p0: int, p1: int, start: int, number: int) -> list[QuoteRegion]:
    """The speech of a dialogue paragraph: up to the incise, and on after a dashed one
    ("— Queremos la paz —dijo el ministro—, y la queremos ya")."""
    regions: list[QuoteRegion] = []
    open_at = p0
    while start < p1:
        cut = _INCISE.search(text, start, p1)
        dashed = cut is not None and text[cut.end() - 1] in "—–"
        close = p1 if cut is None else cut.end() - 1 if dashed else cut.start()
        regions.extend(_region(text, open_at, close, number, width=start - open_at))
        resume = text.find(text[close], close + 1, p1) if cut is not None and dashed else -1
        if resume == -1:
            break
        open_at, start = resume, resume + 1
        while start < p1 and (text[start].isspace() or text[start] in ",;"):
            start += 1
    return regions


def _scan(
    text: str, p0: int, p1: int, number: int, skip: set[int], *, reopened: bool
) -> tuple[list[QuoteRegion], int | None]:
    """The quotations of one paragraph, and the single mark left unclosed at its bottom
    (an apostrophe after all), if any. A single mark that opens the paragraph and stays
    open is a quote over paragraphs when the next paragraph opens with a mark again."""
    regions: list[QuoteRegion] = []
    stack: list[tuple[str, int]] = []  # (opening mark, offset)
    first = True
    for m in _MARK.finditer(text, p0, p1):
        i, mark = m.start(), m.group()
        if i in skip:
            continue
        prev = text[i - 1] if i > p0 else " "
        nxt = text[m.end()] if m.end() < p1 else " "
        depth = _closes(text, stack, mark, i, m.end(), p1, prev, nxt)
        if depth is not None:
            opener, at = stack[depth]
            del stack[depth:]
            if not stack and (opener not in _SINGLES or _is_speech(text, p0, p1, at, i, m.end())):
                regions.extend(_region(text, at, i, number, width=len(opener)))
        elif len(stack) < _MAX_DEPTH and _opens(mark, prev, nxt, text, m.end(), nested=bool(stack)):
            stack.append((mark, i))
        elif first and mark in _WESTERN and _ATTRIBUTED.match(text, m.end(), p1):
            # The paragraph's opening mark was lost ('Nous voulons la paix", a déclaré'):
            # its words are the quote when an attribution follows the closing one.
            regions.extend(_region(text, p0, i, number, width=0))
        first = False
    if stack:
        opener, at = stack[0]
        if opener in _SINGLES and not (reopened and at == p0):
            return regions, at
        regions.extend(_region(text, at, p1, number, width=len(opener)))
    return regions, None


def _closes(
    text: str, stack: list[tuple[str, int]], mark: str, i: int, after: int, p1: int, prev: str,
    nxt: str,
) -> int | None:  # fmt: skip
    """The depth of the open quotation ``mark`` closes (inner ones left open close with
    it), or None."""
    for depth in range(len(stack) - 1, -1, -1):
        opener = stack[depth][0]
        if mark not in CLOSERS[opener]:
            continue
        if opener in _SINGLES and not _closes_single(text, i, after, p1, prev, nxt):
            return None
        return depth
    return None


def _closes_single(text: str, i: int, after: int, p1: int, prev: str, nxt: str) -> bool:
    """A single mark that ends a quotation: after a word, before no letter; a possessive
    ("the ministers’ talks") when a later mark after punctuation closes instead."""
    if prev.isspace() or nxt.isalnum():
        return False
    if prev in _SPEECH_END:
        return True
    rest = text[after : after + 2].lstrip()
    if not rest[:1].islower():
        return True
    return _SINGLE_AFTER_SPEECH.search(text, after, min(p1, after + _LOOKAHEAD)) is None


def _opens(mark: str, prev: str, nxt: str, text: str, after: int, *, nested: bool) -> bool:
    if mark in _SINGLES:
        # Inside a quotation a single mark changes nothing: left open it would hide the
        # close of the outer one.
        return (
            not nested and not prev.isalnum() and nxt.isalnum() and not _DECADE.match(text, after)
        )
    if mark in _ALWAYS_OPEN:
        return True
    if mark in _BEFORE_A_WORD:
        return prev.isspace() and nxt.isalnum()
    if mark == "''":
        return not nested and not prev.isalnum() and nxt.isalnum()
    if mark not in _STRAIGHT:
        return False  # a closing mark with nothing open: stray
    # After a word and before none, a straight double is a stray closing mark.
    looks_closing = not prev.isspace() and prev not in "([{—–-" and not nxt.isalnum()
    return not looks_closing and not (nested and nxt.isspace())


def _is_speech(text: str, p0: int, p1: int, open_at: int, close: int, after: int) -> bool:
    """Single quotes are speech when a cue says so (a reporting verb or "according to"
    next to them, a colon before), or, curly ones, when they hold several words; one or
    two words without a cue, or a title ('Bad at Love'), are a term or scare quotes."""
    words = text[open_at + 1 : close].split()
    if len(words) < 2 or all(w[0].isupper() or w in TITLE_SMALL_WORDS for w in words):
        return False
    cue = (
        _SPEECH_CUE.search(text, after, min(p1, after + _CUE_REACH)) is not None
        or _VERB.search(text, max(p0, open_at - _CUE_BEFORE), open_at) is not None
        or text[p0:open_at].rstrip().endswith(":")
    )
    return cue or (len(words) >= 3 and text[open_at] != "'")


def inner_marks(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """``[start, end)`` with the marks of a quote inside the quotation (words ``[lo, hi)``)
    that it begins or ends with ("‘one China’ policy"): the edges of a quote found are
    trimmed of marks, not these."""
    before = text[start - 1] if start > lo else ""
    if before in CLOSERS and any(c in CLOSERS[before] for c in text[start:end]):
        start -= 1
    after = text[end] if end < hi else ""
    if after and any(after in CLOSERS.get(c, ()) for c in text[start:end]):
        end += 1
    return start, end


def _region(
    text: str, open_at: int, close: int, paragraph: int, *, width: int
) -> list[QuoteRegion]:
    start, end = open_at + width, close
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or not _ALNUM.search(text, start, end):
        return []
    return [QuoteRegion(open_at, close, start, end, paragraph)]


_ALNUM = re.compile(r"[^\W_]")
