"""Finding a word in an article: the spans of its tokens that case-fold to the word.

What name checks ask of a text, many times over: searched with ``str.find`` on the
folded text rather than by tokenising it again per word.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from summarise.text.normalise import WORD


def find_word(text: str, folded: str | None, word: str) -> list[tuple[int, int]]:
    """Spans of the ``WORD`` tokens of ``text`` that case-fold to ``word``; ``folded`` is
    ``text.casefold()`` when that maps character to character, else None."""
    # Folding keeps letters and digits what they are, but for "\u0345" (to "ι").
    if folded is None or "\u0345" in text:
        return [w.span() for w in WORD.finditer(text) if w.group(0).casefold() == word]
    spans = []
    for pos in _hits_alone(folded, word) if word else ():
        end = pos + len(word)
        if _starts_word(text, pos) and (w := WORD.match(text, pos)) and w.end() == end:
            spans.append((pos, end))
    return spans


def _hits_alone(folded: str, word: str) -> Iterator[int]:
    """Starts of ``word`` in ``folded`` with no letter or digit after it (nor, for a
    short word, before it): where a word of the text may be it."""
    if len(word) <= 2:  # inside a great many words: a regex skips those in C
        pattern = _alone(word)
        hit = pattern.search(folded)
        while hit:
            yield hit.start()
            hit = pattern.search(folded, hit.start() + 1)
        return
    pos = folded.find(word)
    while pos != -1:
        end = pos + len(word)
        if end == len(folded) or not folded[end].isalnum():
            yield pos
        pos = folded.find(word, pos + 1)


@lru_cache(maxsize=1024)
def _alone(word: str) -> re.Pattern[str]:
    """``word`` with no letter or digit after it, nor before it (bar a hyphen between)."""
    w = re.escape(word)
    return re.compile(rf"{w}(?<![^\W_]{w})(?<![^\W_][-'’]{w})(?![^\W_])")


def _starts_word(text: str, pos: int) -> bool:
    """True when a ``WORD`` token of ``text`` begins at ``pos``, not inside one ("Assad"
    in "al-Assad")."""
    if pos == 0:
        return True
    before = text[pos - 1]
    if before.isalnum():
        return False
    return not (before in "-'’" and pos > 1 and text[pos - 2].isalnum())
