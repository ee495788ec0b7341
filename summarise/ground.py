"""Ground: check every field of a summary against the article text it was made from.

Any backend's answer (a model's or the offline extractor's) goes through
``ground_summary``:

* quotes are aligned to ``article.text`` by ``find_quote``: verbatim (``exact``); else
  after folding quote marks, apostrophes, dashes, soft hyphens, case and whitespace
  (``normalised``); else a quote that spans an attribution ("A," he said, "B") is split
  into its grounded parts (``split``); else a fuzzy alignment (``rapidfuzz``) snaps a
  near-verbatim quote to the source's own words (``fuzzy``). A grounded quote's ``text``
  is always ``article.text[start:end]``; what cannot be found is kept with
  ``grounded: false`` and ``match: none`` (or dropped with ``strict``). Each search has a
  bounded cost, whatever a model sends: a few milliseconds for a quote on 60 KB of text;
* the speaker of a grounded quote is checked against the attribution around it in the
  source (``Document.speaker``);
* every named person must occur in the text (a surname match counts); participants
  carry the spans where the text names them;
* participant countries become ISO 3166-1 alpha-3 codes; event dates become ISO 8601,
  relative ones ("Thursday", "last Friday") resolved against the publication date.

What grounding changes or doubts comes back as ``RecordWarning`` objects (codes in
``schema.WarningCode``). The reading of the source is ``summarise.text``.
"""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate
from typing import Literal

from rapidfuzz import fuzz, process

from summarise.schema import (
    QUOTE,
    Event,
    GroundedParticipant,
    ModelQuote,
    ModelSummary,
    Quote,
    RecordWarning,
    Summary,
    WarningCode,
)
from summarise.text.countries import is_iso3, to_iso3
from summarise.text.dates import resolve_date
from summarise.text.names import name_tokens, same_person
from summarise.text.normalise import fold, normalise
from summarise.text.quotes import inner_marks
from summarise.text.reader import DOUBLE_QUOTES, Document, analyse
from summarise.text.sources import is_unnamed, stated_country

# --- Tunables ---------------------------------------------------------------------------

SNAP_MIN_SCORE = 85.0
"""Least ``fuzz.ratio`` (0-100) between a quote and the source words it is snapped to."""
SNAP_MIN_CHARS = 16
"""Shorter quotes are grounded only by an exact match: a fuzzy one would be chance."""
SPLIT_MAX_GAP = 160
"""Most characters of attribution ("," he said, ") allowed between the parts of a quote."""
SPLIT_ATTEMPTS = 64
"""Most ways to split one quote that are tried (each a search for the rest of it): what
bounds the cost of a long quote that is not in the text."""
SNAP_MAX_CHARS = QUOTE
"""Quotes longer than a model may give (``schema.QUOTE``) are grounded only exactly or in
parts: aligning them would cost more than a few milliseconds."""
_SNAP_SEARCH_CUTOFF = 70.0
_SNAP_WINDOW = 24
_SNAP_PIECE = 64  # rapidfuzz aligns a quote up to this long in one pass over the text
_SNAP_SEARCH_MAX = 256  # partial_ratio over all the text up to this length: ~1 ms on 60 KB
_MAX_OCCURRENCES = 40  # a phrase said more often than this is no quote worth placing
_EDGE_PUNCT = " \"'.,;:!?-"
_QUOTE_EDGES = " \t\n'‘’`" + DOUBLE_QUOTES

# --- Quotes -----------------------------------------------------------------------------

MatchKind = Literal["exact", "normalised", "split", "fuzzy"]


@dataclass(frozen=True)
class Match:
    """Where a quote is in the source: ``text[start:end]`` are the source's own words."""

    start: int
    end: int
    kind: MatchKind
    score: float
    """100 for an exact, normalised or split match; the ``fuzz.ratio`` of a fuzzy one."""

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def find_quote(
    quote: str, doc: Document, taken: frozenset[tuple[int, int]] = frozenset()
) -> list[Match]:
    """Where ``quote`` is in the source: one match, the parts of a split quote, or [].

    Occurrences whose span is in ``taken`` are skipped, so that a quote given twice
    grounds to each occurrence in turn.

    >>> doc = analyse('He said "it will create problems for France."')
    >>> find_quote("create problems for France", doc)
    [Match(start=17, end=43, kind='exact', score=100.0)]
    """
    q = _quote_key(quote)
    if not q:
        return []
    found = _find_exact(doc, q, taken) or _find_exact(doc, q.strip(_EDGE_PUNCT), taken)
    if found is not None:
        found = _with_inner_marks(doc, found)
        verbatim = doc.text[found.start : found.end] in (quote.strip(_QUOTE_EDGES), quote.strip())
        return [Match(found.start, found.end, "exact" if verbatim else "normalised", 100.0)]
    parts = _find_parts(doc, q)
    if parts:
        return [Match(p.start, p.end, "split", p.score) for p in parts]
    snapped = _find_fuzzy(doc, q)
    return [snapped] if snapped is not None else []


def _quote_key(quote: str) -> str:
    return normalise(quote).strip(" \"'")


def _trimmed(doc: Document, start: int, end: int, kind: MatchKind, score: float) -> Match | None:
    """The match without the quotation marks and spaces at its edges."""
    text = doc.text
    while start < end and (
        text[start].isspace() or text[start] in DOUBLE_QUOTES or text[start] in "‘’'`"
    ):
        start += 1
    while end > start and (
        text[end - 1].isspace() or text[end - 1] in DOUBLE_QUOTES or text[end - 1] in "‘"
    ):
        end -= 1
    if end <= start:
        return None
    return Match(start, end, kind, score)


def _with_inner_marks(doc: Document, match: Match) -> Match:
    region = doc.region_containing(match.start, match.end)
    if region is None:
        return match
    span = inner_marks(doc.text, match.start, match.end, region.start, region.end)
    return match if span == match.span else Match(*span, match.kind, match.score)


def _bounded(norm: str, start: int, end: int) -> bool:
    if norm[start].isalnum() and start > 0 and norm[start - 1].isalnum():
        return False
    return not (norm[end - 1].isalnum() and end < len(norm) and norm[end].isalnum())


def _hits(norm: str, q: str, lo: int, hi: int) -> Iterator[int]:
    """Starts of ``q`` in ``norm[lo:hi]``: the first ``_MAX_OCCURRENCES``."""
    pos = norm.find(q, lo, hi)
    n = 0
    while pos != -1 and n < _MAX_OCCURRENCES:
        yield pos
        n += 1
        pos = norm.find(q, pos + 1, hi)


def _occurrences(doc: Document, q: str, lo: int = 0, hi: int | None = None) -> Iterator[int]:
    """Starts of ``q`` in the normalised text that begin and end at word boundaries."""
    norm = doc.normalised.norm
    hi = len(norm) if hi is None else hi
    return (pos for pos in _hits(norm, q, lo, hi) if _bounded(norm, pos, pos + len(q)))


def _exact_at(doc: Document, pos: int, length: int) -> Match | None:
    return _trimmed(doc, *doc.normalised.source_span(pos, pos + length), "exact", 100.0)


def _find_exact(
    doc: Document, q: str, taken: frozenset[tuple[int, int]] = frozenset()
) -> Match | None:
    """The first occurrence inside quotation marks, else the first; ``taken`` spans skipped."""
    if not q:
        return None
    first: tuple[int, int] | None = None
    for pos in _occurrences(doc, q):
        span = doc.normalised.source_span(pos, pos + len(q))
        trimmed = _trimmed(doc, *span, "exact", 100.0)
        if trimmed is None or trimmed.span in taken:
            continue
        if doc.region_containing(*span) is not None:
            return trimmed
        first = first or span
    return _trimmed(doc, *first, "exact", 100.0) if first else None


def _find_parts(doc: Document, q: str) -> list[Match] | None:
    """A quote that runs across an attribution ("A," he said, "B"), as its exact parts."""
    split = _Split(doc, q)
    return split.parts(0, 0, split.word_count, 0, len(doc.normalised.norm), 0, None)


class _Split:
    """The search for the parts of one normalised quote ``q``.

    A head of the quote (its first k words: the longest first, each occurrence in text
    order) is its first part when the rest is found whole soon after it, past a quotation
    mark, or splits the same way in turn (to four parts). Only heads that a quotation mark
    follows closely enough are tried, at most ``SPLIT_ATTEMPTS`` of them, so the cost is
    bounded, not a product of the ways to cut a long quote; and a later part must start
    close past a quotation mark (what the part before it needs), so each search stays near
    the part before.

    Heads and tails are slices of ``q``: for a tail of ``q`` that starts at offset ``s``
    inside word ``first``, the head of its words up to word ``j`` is ``q[s:head_end[j]]``
    and the tail after them ``q[tail_start[j]:end]``, edge punctuation stripped.
    """

    def __init__(self, doc: Document, q: str) -> None:
        self.doc = doc
        self.q = q
        self.budget = SPLIT_ATTEMPTS
        words = q.split(" ")
        self.word_count = len(words)
        self.word_start = [0]
        for word in words[:-1]:
            self.word_start.append(self.word_start[-1] + len(word) + 1)
        self.head_end = [0]
        for start, word in zip(self.word_start, words, strict=True):
            kept = len(word.rstrip(_EDGE_PUNCT))
            self.head_end.append(start + kept if kept else self.head_end[-1])
        self.tail_start = [len(q)] * (len(words) + 1)
        for i in range(len(words) - 1, -1, -1):
            lead = len(words[i]) - len(words[i].lstrip(_EDGE_PUNCT))
            inside = lead < len(words[i])
            self.tail_start[i] = self.word_start[i] + lead if inside else self.tail_start[i + 1]
        self.end = len(q.rstrip(_EDGE_PUNCT))
        self.last_word = bisect.bisect_right(self.word_start, self.end - 1) - 1

    def parts(
        self, s: int, first: int, count: int, lo: int, hi: int, depth: int, after: int | None
    ) -> list[Match] | None:
        """The parts of ``q[s:end]``, ``count`` words from word ``first``, in ``norm[lo:hi]``;
        given ``after``, the first part starts past a quotation mark after that offset."""
        if count < 4 or depth > 2:
            return None
        # Heads of k_min to k_max words leave at least 8 characters to head and tail.
        k_min = max(2, bisect.bisect_left(self.head_end, s + 8, first + 2) - first)
        k_max = min(count - 2, bisect.bisect_right(self.tail_start, self.end - 8) - 1 - first)
        if k_min > k_max:
            return None
        norm = self.doc.normalised.norm
        shortest = self.q[s : self.head_end[first + k_min]]
        # The normalised text has at most three characters for one of the source's ("…"),
        # so a part due within SPLIT_MAX_GAP of ``after`` starts before this.
        reach = hi if after is None else min(hi, lo + 3 * SPLIT_MAX_GAP + len(shortest))
        heads = [
            self._heads(p, s, first, k_min, k_max, hi, after)
            for p in _hits(norm, shortest, lo, reach)
            if not (norm[p].isalnum() and p > 0 and norm[p - 1].isalnum())
        ]
        for k, p, head in heapq.merge(*heads, key=lambda h: (-h[0], h[1])):
            if self.budget <= 0:
                return None
            self.budget -= 1
            end = p + self.head_end[first + k] - s
            tail_at = self.tail_start[first + k]
            tail = self.q[tail_at : self.end]
            limit = end + SPLIT_MAX_GAP + len(tail)
            nxt = next(_occurrences(self.doc, tail, end, limit), None)
            rest: list[Match] | None = None
            if nxt is not None:
                match = _exact_at(self.doc, nxt, len(tail))
                rest = [match] if match else None
            else:
                word = bisect.bisect_right(self.word_start, tail_at) - 1
                words = self.last_word - word + 1
                rest = self.parts(tail_at, word, words, end, limit, depth + 1, head.end)
            if rest and _between_quotes(self.doc, head.end, rest[0].start):
                return [head, *rest]
        return None

    def _heads(
        self, p: int, s: int, first: int, k_min: int, k_max: int, hi: int, after: int | None
    ) -> Iterator[tuple[int, int, Match]]:
        """(k, p, match) for the heads of ``k`` words found at ``norm[p:]``, the longest
        first, that a quotation mark follows within ``SPLIT_MAX_GAP``."""
        doc, norm = self.doc, self.doc.normalised.norm
        if after is not None:  # every head at p starts where the shortest does
            shortest = _exact_at(doc, p, self.head_end[first + k_min] - s)
            if shortest is None or not _between_quotes(doc, after, shortest.start):
                return
        longest = self._longest(p, s, first, k_min, k_max, hi)
        marks, marks_norm = doc.quote_marks
        k = longest
        while k >= k_min:
            end = p + self.head_end[first + k] - s
            # Shorter heads at p end before a space or punctuation; the longest may not.
            if k == longest and end < len(norm) and norm[end - 1].isalnum() and norm[end].isalnum():
                k -= 1
                continue
            match = _exact_at(doc, p, end - p)
            if match is None:
                k -= 1
                continue
            j = bisect.bisect_left(marks, match.end)
            if j < len(marks) and marks[j] < match.end + SPLIT_MAX_GAP:
                yield k, p, match
                k -= 1
            elif j == 0:
                return
            else:
                # A shorter head is followed closely enough only if it ends by the mark before.
                bound = marks_norm[j - 1] - p + s
                k = bisect.bisect_right(self.head_end, bound, first + k_min, first + k) - 1 - first

    def _longest(self, p: int, s: int, first: int, k_min: int, k_max: int, hi: int) -> int:
        """The most words (k_min to k_max) of a head of ``q[s:]`` that ``norm[p:hi]``
        starts with; heads of more words start with those of fewer."""
        norm = self.doc.normalised.norm

        def found(k: int) -> bool:
            return norm.startswith(self.q[s : self.head_end[first + k]], p, hi)

        # Gallop up from k_min, then bisect: the cost follows the head found, not the quote.
        good, step = k_min, 1
        while good + step <= k_max and found(good + step):
            good += step
            step *= 2
        bad = min(good + step, k_max + 1)
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if found(mid) else (good, mid)
        return good


def _between_quotes(doc: Document, start: int, end: int) -> bool:
    """True when ``doc.text[start:end]`` closes one quotation and opens another (holds a
    quotation mark)."""
    if end - start > SPLIT_MAX_GAP:
        return False
    marks = doc.quote_marks[0]
    j = bisect.bisect_left(marks, start)
    return j < len(marks) and marks[j] < end


def _word_edges(norm: str, lo: int, hi: int) -> tuple[list[int], list[int]]:
    """Word starts near ``lo`` and word ends near ``hi``: where a snapped quote may lie."""
    starts = [i for i in range(max(0, lo - _SNAP_WINDOW), min(len(norm), lo + _SNAP_WINDOW))
              if norm[i].isalnum() and (i == 0 or not norm[i - 1].isalnum())]  # fmt: skip
    ends = [i for i in range(max(1, hi - _SNAP_WINDOW), min(len(norm), hi + _SNAP_WINDOW) + 1)
            if norm[i - 1].isalnum() and (i == len(norm) or not norm[i].isalnum())]  # fmt: skip
    return starts, ends


def _find_fuzzy(doc: Document, q: str) -> Match | None:
    if len(q) < SNAP_MIN_CHARS or len(q.split(" ")) < 3 or len(q) > SNAP_MAX_CHARS:
        return None
    norm = doc.normalised.norm
    if len(q) > len(norm):
        return None
    placed = _placed(q, norm)
    if placed is None:
        return None
    starts, ends = _word_edges(norm, *placed)
    core = q.strip(_EDGE_PUNCT)
    spans = [(s, e) for s in starts for e in ends if e - s >= len(core) // 2]
    # The first of the best spans, as a loop over them would keep it.
    best = process.extractOne(
        core, [norm[s:e] for s, e in spans], scorer=fuzz.ratio, score_cutoff=SNAP_MIN_SCORE
    )
    if best is None:
        return None
    score, (s, e) = best[1], spans[best[2]]
    # Keep the source's closing punctuation when the quote had it ("... itself,").
    while e < len(norm) and norm[e] in ".,;:!?" and q.endswith(norm[e]):
        e += 1
    return _trimmed(doc, *doc.normalised.source_span(s, e), "fuzzy", round(score, 1))


def _placed(q: str, norm: str) -> tuple[int, int] | None:
    """Where in ``norm`` the quote seems to start and end, if the words there are like it."""
    if len(q) <= _SNAP_SEARCH_MAX:
        found = fuzz.partial_ratio_alignment(q, norm, score_cutoff=_SNAP_SEARCH_CUTOFF)
        return None if found is None else (found.dest_start, found.dest_end)
    # On a longer quote partial_ratio costs up to the cube of its length: place the quote
    # by its words, then its edges where its first and last characters are alike nearby
    # (short needles on a few hundred characters), if they are.
    around = _anchored(q, norm)
    if around is None:
        return None
    n, reach, cutoff = len(norm), _SNAP_PIECE + 4 * _SNAP_WINDOW, _SNAP_SEARCH_CUTOFF
    a, b = max(0, around[0] - reach), min(n, around[0] + reach)
    head = fuzz.partial_ratio_alignment(q[:_SNAP_PIECE], norm[a:b], score_cutoff=cutoff)
    c, d = max(0, around[1] - reach), min(n, around[1] + reach)
    tail = fuzz.partial_ratio_alignment(q[-_SNAP_PIECE:], norm[c:d], score_cutoff=cutoff)
    lo = a + head.dest_start if head else max(0, around[0])
    hi = c + tail.dest_end if tail else min(n, around[1])
    return (lo, hi) if fuzz.ratio(q, norm[lo:hi]) >= cutoff else None


def _anchored(q: str, norm: str) -> tuple[int, int] | None:
    """Where most of eight three-word runs of ``q`` agree it starts (a repeated paragraph
    has only the runs it repeats), from the first of them found to the last."""
    words = q.split(" ")
    offsets = list(accumulate((len(w) + 1 for w in words), initial=0))
    runs = sorted({k * (len(words) - 3) // 7 for k in range(8)})
    votes = sorted(
        (pos - offsets[i], i, pos)
        for i in runs
        for pos in _hits(norm, " ".join(words[i : i + 3]), 0, len(norm))
    )
    groups: list[list[tuple[int, int, int]]] = []
    for vote in votes:
        if groups and vote[0] - groups[-1][0][0] <= _SNAP_WINDOW:
            groups[-1].append(vote)
        else:
            groups.append([vote])
    if not groups:
        return None
    best = max(groups, key=lambda group: len({run for _, run, _ in group}))
    _, first, at = min(best, key=lambda vote: vote[1])
    _, last, to = max(best, key=lambda vote: vote[1])
    return at - offsets[first], to + len(q) - offsets[last]


def _short(text: str, limit: int = 120) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


# --- Names, countries -------------------------------------------------------------------


def _name_key(name: str) -> str:
    return fold(" ".join(name.split()))


def name_attested(name: str, doc: Document) -> bool:
    """True if the name, or its last word (a surname), occurs in the text."""
    key = _name_key(name)
    if key and key in doc.normalised.norm:
        return True
    tokens = name_tokens(name)
    return bool(tokens) and bool(doc.word_spans(tokens[-1]))


def name_mentions(name: str, doc: Document) -> list[tuple[int, int]]:
    """Spans of ``doc.text`` that name the person: the full name, or the surname alone.

    Non-empty exactly when ``name_attested`` is true.
    """
    full: set[tuple[int, int]] = set()
    key = _name_key(name)
    norm = doc.normalised.norm
    pos = norm.find(key) if key else -1
    while pos != -1:
        full.add(doc.normalised.source_span(pos, pos + len(key)))
        pos = norm.find(key, pos + 1)
    tokens = name_tokens(name)
    surnames = set(doc.word_spans(tokens[-1])) if tokens else set()
    # A surname inside a full-name mention is the same mention.
    inside = {s for s in surnames if any(f[0] <= s[0] and s[1] <= f[1] for f in full)}
    return sorted(full | (surnames - inside))


def normalise_country(value: str | None) -> tuple[str | None, RecordWarning | None]:
    """(ISO alpha-3 or None, warning or None) for a participant's country field."""
    if value is None or not value.strip():
        return None, None
    if is_iso3(value):
        return value, None
    code = to_iso3(value)
    if code is not None:
        return code, _warn(WarningCode.country_normalised, f"{value!r} -> {code}")
    return None, _warn(
        WarningCode.country_invalid,
        f"{value!r} is not an ISO 3166-1 alpha-3 code; set to null",
    )


def _warn(code: WarningCode, message: str) -> RecordWarning:
    return RecordWarning(code=code, message=message)


# --- Grounding a summary ----------------------------------------------------------------


def ground_summary(
    summary: ModelSummary, text: str, *, published: str | None = None, strict: bool = False
) -> tuple[Summary, list[RecordWarning]]:
    """Align a backend's summary to ``text``; return the grounded ``Summary`` and warnings."""
    doc = analyse(text)
    warnings: list[RecordWarning] = []
    quotes = _ground_quotes(summary.quotes, doc, strict, warnings)

    participants: list[GroundedParticipant] = []
    for p in summary.participants:
        mentions = name_mentions(p.name, doc)
        if not mentions:
            warnings.append(
                _warn(
                    WarningCode.name_unattested,
                    f"participant {p.name!r} does not occur in the article",
                )
            )
        country, note = normalise_country(p.country)
        if note:
            warnings.append(_warn(note.code, f"{note.message} (participant {p.name!r})"))
        stated = stated_country(doc.titled(), p.name)
        if country and stated and country != stated:
            message = f"participant {p.name!r}: {country} given, the article's title says {stated}"
            warnings.append(_warn(WarningCode.country_contradicted, message))
        participants.append(
            GroundedParticipant(
                **{**p.model_dump(), "country": country},
                mentions=mentions,
                attested=bool(mentions),
            )
        )

    event_date, date_note = resolve_date(summary.event.date, published)
    if date_note:
        code = WarningCode.date_resolved if event_date else WarningCode.date_unresolved
        warnings.append(_warn(code, date_note))
    event = Event(kind=summary.event.kind, date=event_date, location=summary.event.location)
    grounded = Summary(
        headline=summary.headline,
        event=event,
        participants=participants,
        issues=list(summary.issues),
        outcomes=list(summary.outcomes),
        quotes=quotes,
    )
    return grounded, warnings


def _ground_quotes(
    model_quotes: list[ModelQuote], doc: Document, strict: bool, warnings: list[RecordWarning]
) -> list[Quote]:
    out: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    checked_speakers: set[str] = set()
    for mq in model_quotes:
        if mq.speaker and mq.speaker not in checked_speakers:
            checked_speakers.add(mq.speaker)
            if not name_attested(mq.speaker, doc):
                warnings.append(
                    _warn(
                        WarningCode.name_unattested,
                        f"speaker {mq.speaker!r} does not occur in the article",
                    )
                )
        if not _quote_key(mq.text):
            warnings.append(_warn(WarningCode.quote_dropped, "an empty quote"))
            continue
        matches = find_quote(mq.text, doc, frozenset(seen))
        if not matches:
            _unfound(mq, strict, out, warnings)
            continue
        _note_match(mq, matches, doc, warnings)
        for m in matches:
            if m.span in seen:
                warnings.append(
                    _warn(
                        WarningCode.quote_duplicate,
                        f"{_short(doc.text[m.start : m.end])!r} given twice; kept once",
                    )
                )
                continue
            seen.add(m.span)
            _check_speaker(mq.speaker, m, doc, warnings)
            out.append(
                Quote(
                    speaker=mq.speaker,
                    text=doc.text[m.start : m.end],
                    span=m.span,
                    grounded=True,
                    match=m.kind,
                )
            )
    return out


def _unfound(mq: ModelQuote, strict: bool, out: list[Quote], warnings: list[RecordWarning]) -> None:
    """A quote not in the article: dropped when strict, else kept ungrounded."""
    if strict:
        warnings.append(
            _warn(WarningCode.quote_dropped, f"{_short(mq.text)!r} is not in the article (strict)")
        )
        return
    warnings.append(
        _warn(WarningCode.quote_ungrounded, f"{_short(mq.text)!r} is not in the article")
    )
    out.append(Quote(speaker=mq.speaker, text=mq.text, span=None, grounded=False, match="none"))


def _note_match(
    mq: ModelQuote, matches: list[Match], doc: Document, warnings: list[RecordWarning]
) -> None:
    """Warn when a quote was split or snapped to be found."""
    kind = matches[0].kind
    if kind == "split":
        warnings.append(
            _warn(
                WarningCode.quote_split,
                f"{_short(mq.text)!r} runs across an attribution in the source; "
                f"kept as {len(matches)} grounded parts",
            )
        )
    elif kind == "fuzzy":
        m = matches[0]
        warnings.append(
            _warn(
                WarningCode.quote_snapped,
                f"{_short(mq.text)!r} is not verbatim; snapped to the source's words "
                f"{_short(doc.text[m.start : m.end])!r} (similarity {m.score:.0f})",
            )
        )


def _check_speaker(
    speaker: str | None, m: Match, doc: Document, warnings: list[RecordWarning]
) -> None:
    region = doc.region_containing(m.start, m.end)
    quoted = _short(doc.text[m.start : m.end], 50)
    if region is None:
        warnings.append(
            _warn(
                WarningCode.quote_unmarked,
                f"{quoted!r} is in the article but not between quotation marks",
            )
        )
        return
    attributed = doc.speaker(region)
    if (
        speaker
        and attributed
        and not is_unnamed(attributed)
        and not same_person(speaker, attributed)
    ):
        warnings.append(
            _warn(
                WarningCode.speaker_mismatch,
                f"{quoted!r} is attributed to {attributed!r} in the article, not {speaker!r}",
            )
        )
