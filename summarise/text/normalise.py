"""Normalise: fold quote marks, dashes, case and whitespace, and keep the way back.

Quotes are matched in a folded copy of the text (curly and straight marks alike, any dash
as ``-``, runs of whitespace as one space, soft hyphens gone), but reported as spans of
the source's own characters: ``Normalised.source_span`` maps folded offsets back.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass

WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
"""A word: letters and digits, with inner hyphens and apostrophes ("Kim's", "co-chair")."""

# One character in, one out: folded text keeps the offsets of its source.
TRANSLATE = str.maketrans(
    {
        **dict.fromkeys("“”„‟«»″＂〝〞〟「」『』", '"'),
        **dict.fromkeys("‘’‚‛′`´‹›", "'"),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a", " "),
    }
)
_GAPS = re.compile(
    # « French » spacing folds away: the words inside match however the marks are spaced
    # (not the outer spaces of »reversed« ones).
    r"(?P<gq>(?<!\S)«[^\S\n]*|[^\S\n]*»(?=[\s,.;:!?)]|$)|[«»])|"
    # A single space is already normal: only longer or other whitespace is a gap.
    r"(?P<dash>\s*-{2,}\s*|\s+-\s+)|(?P<ws>\s{2,}|[^\S ])"
    r"|(?P<zw>[\u00ad\u200b\u200c\u200d\u2060\ufeff])|(?P<ell>…)"
)
# A gap begins at one of these (whitespace but " ", spelled out so that sre skips to it
# in C; a dash, a zero-width character, an ellipsis), at the spaces just before one, or
# at a double space: ``_gaps`` tries ``_GAPS`` only there, not at every offset.
_GAP_START = re.compile(
    r"[\t\n\x0b\x0c\r\x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
    r"\-\u00ad\u200b\u200c\u200d\u2060\ufeff…«»]"
)


@dataclass(frozen=True)
class Normalised:
    """A normalised copy of a text and where its pieces come from.

    ``marks`` holds, for each piece of ``norm``, (norm start, source start, source end,
    verbatim): verbatim pieces map character for character; a folded gap (a run of
    whitespace, a dash, an ellipsis) maps as a whole.
    """

    norm: str
    marks: list[tuple[int, int, int, bool]]
    starts: list[int]

    def _source(self, pos: int, *, end: bool) -> int:
        k = bisect.bisect_right(self.starts, pos) - 1
        n0, s0, s1, verbatim = self.marks[k]
        if verbatim:
            return s0 + (pos - n0) + (1 if end else 0)
        return s1 if end else s0

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets of ``norm[start:end]``."""
        return self._source(start, end=False), self._source(end - 1, end=True)

    def norm_offset(self, source: int) -> int:
        """The offset in ``norm`` of source offset ``source`` (the start of its gap when
        it was folded into one)."""
        k = max(0, bisect.bisect_right(self.marks, source, key=lambda m: m[1]) - 1)
        n0, s0, s1, verbatim = self.marks[k]
        return n0 + min(source - s0, max(0, s1 - s0 - 1)) if verbatim else n0


_TRANSLATED = re.compile("[" + re.escape("".join(map(chr, TRANSLATE))) + "]")


def plain(text: str) -> str:
    """Quote marks, apostrophes, dashes and odd spaces made plain (``TRANSLATE``); same
    length as ``text``."""
    if text.isascii():
        return text.translate(TRANSLATE)
    # str.translate looks up every character of a non-ASCII text: replace only these.
    return _TRANSLATED.sub(lambda m: TRANSLATE[ord(m.group())], text)


def fold(text: str) -> str:
    """Quote marks, apostrophes, dashes and odd spaces made plain, then lower case;
    same length as ``text``."""
    folded = plain(text)
    lowered = folded.lower()
    if len(lowered) != len(folded):  # a few characters lower-case to two ("İ")
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
    return lowered


_GAP_OUT = {"dash": "-", "ws": " ", "ell": "...", "zw": "", "gq": '"'}
_GUILLEMET = re.compile("[«»]")


def _fold_for_gaps(text: str) -> str:
    """``fold(text)`` with its guillemets kept, for ``_gaps`` to fold with their spaces."""
    folded = fold(text)
    if "«" not in text and "»" not in text:
        return folded
    chars = list(folded)
    for m in _GUILLEMET.finditer(text):
        chars[m.start()] = m.group()
    return "".join(chars)


def _gaps(folded: str) -> Iterator[re.Match[str]]:
    """``_GAPS.finditer(folded)``, trying only the offsets where a gap can begin."""
    starts = [m.start() for m in _GAP_START.finditer(folded)]
    double = folded.find("  ")
    if double != -1:  # rare: a run of spaces alone
        while double != -1:
            starts.append(double)
            double = folded.find("  ", double + 2)
        starts.sort()
    pos = 0
    for q in starts:
        if q < pos:
            continue
        s = q
        while s > pos and folded[s - 1] == " ":
            s -= 1
        # Two or more spaces before q always match; after one, q itself may.
        m = _GAPS.match(folded, s) or (_GAPS.match(folded, q) if s < q else None)
        if m:
            yield m
            pos = m.end()


def normalise(text: str) -> str:
    """The matching form of a text: quote marks, dashes, case and whitespace folded."""
    folded = _fold_for_gaps(text)
    parts: list[str] = []
    pos = 0
    for m in _gaps(folded):
        parts.append(folded[pos : m.start()])
        parts.append(_GAP_OUT[m.lastgroup or "zw"])
        pos = m.end()
    parts.append(folded[pos:])
    return "".join(parts)


def normalise_with_offsets(text: str) -> Normalised:
    """``normalise(text)`` with the map from its offsets back to ``text``."""
    folded = _fold_for_gaps(text)
    parts: list[str] = []
    marks: list[tuple[int, int, int, bool]] = []
    n = 0
    pos = 0
    for m in _gaps(folded):
        s, e = m.span()
        if s > pos:
            parts.append(folded[pos:s])
            marks.append((n, pos, s, True))
            n += s - pos
        out = _GAP_OUT[m.lastgroup or "zw"]
        if out:
            parts.append(out)
            marks.append((n, s, e, False))
            n += len(out)
        pos = e
    if pos < len(folded):
        parts.append(folded[pos:])
        marks.append((n, pos, len(folded), True))
    if not marks:
        marks.append((0, 0, 0, True))
    return Normalised("".join(parts), marks, [m[0] for m in marks])
