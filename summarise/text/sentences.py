"""Sentences: where a sentence of an article ends, read on the text with its quoted words
masked (``reader``), so that none ends inside a quotation, nor at "U.S." or "Mr."."""

from __future__ import annotations

import re

from summarise.text.names import UPPER
from summarise.text.vocabulary import ABBREVIATIONS

# A quotation opening the next sentence is masked: "... said Lavrov. « ··· », a-t-il".
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+(?:[\"“‘(\[]?[0-9" + UPPER + r"]|[\"“«„]\s*·))")
_INITIALS = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]")


def split_sentences(masked: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, paragraph) of each sentence of the masked text (quoted words masked,
    so that a sentence never ends inside a quote)."""
    sentences: list[tuple[int, int, int]] = []
    for number, (p0, p1) in enumerate(paragraphs):
        start = p0
        for m in _SENTENCE_END.finditer(masked, p0, p1):
            if masked[m.start()] == "." and _is_abbreviation(masked, p0, m.start()):
                continue
            end = m.end()
            sentences.append((start, end, number))
            start = end
            while start < p1 and masked[start].isspace():
                start += 1
        if start < p1:
            sentences.append((start, p1, number))
    return sentences


def _is_abbreviation(masked: str, p0: int, dot: int) -> bool:
    """True when the period at ``dot`` ends an abbreviation ("U.S.", "Corp.", "P.")."""
    start = dot
    while start > p0 and not masked[start - 1].isspace():
        start -= 1
    word = masked[start:dot].strip("([\"“‘'")
    if not word:
        return False
    if len(word) == 1 and word.isupper():
        return True
    return word.lower() in ABBREVIATIONS or bool(_INITIALS.fullmatch(word))
