"""Articles longer than a model's context: split into parts, one answer made of theirs.

``part_spans`` cuts the text at paragraph boundaries (else lines, sentences, words), each
part opening with the tail of the one before, so that a quote or a name cut by one
boundary is whole in one part. ``merge_summaries`` makes one ``ModelSummary`` of the
parts' answers without duplicates (participants by name or alias, quotes by their words,
issues and outcomes by near-identical text); ``merge_extractions`` sums what the parts
cost. Grounding then runs once, on the whole text, so every span indexes into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from difflib import SequenceMatcher
from typing import TypeVar

from summarise.backends.base import Extraction, fit_text
from summarise.schema import (
    MAX_ISSUES,
    MAX_OUTCOMES,
    MAX_PARTICIPANTS,
    MAX_POSITIONS,
    MAX_QUOTES,
    Issue,
    ModelQuote,
    ModelSummary,
    Outcome,
    Participant,
    RecordWarning,
    Usage,
    WarningCode,
)
from summarise.text.names import name_tokens
from summarise.text.normalise import fold

T = TypeVar("T")

# How much of a part the next one repeats: enough for a paragraph or two of news, little
# enough that the parts still move on through the text.
OVERLAP_SHARE = 0.15
# Texts this alike (difflib ratio, after folding) say the same thing twice.
NEAR_IDENTICAL = 0.9
# Fewer words than this inside a longer quote are a phrase of it, not a cut-off copy.
MIN_HELD_WORDS = 4
# Where a part may begin, best first: a paragraph, a line, a sentence.
_STARTS = (re.compile(r"\n\s*\n\s*"), re.compile(r"\n\s*"), re.compile(r"(?<=[.!?])\s+"))
_SPACE = re.compile(r"\s*")


def part_spans(text: str, limit: int) -> list[tuple[int, int]]:
    """``[start, end)`` spans of ``text``, each at most ``limit`` characters, cut at
    boundaries as ``fit_text`` cuts, the next one starting inside the previous one's last
    ``OVERLAP_SHARE`` at the earliest paragraph (else line, else sentence) start there."""
    spans: list[tuple[int, int]] = []
    start, length = 0, len(text.rstrip())
    while True:
        part, _ = fit_text(text[start:], limit)
        end = start + len(part)
        spans.append((start, end))
        if end >= length:
            return spans
        start = _next_start(text, start, end, int(limit * OVERLAP_SHARE))


def _next_start(text: str, start: int, end: int, overlap: int) -> int:
    """Where the part after ``[start, end)`` begins: a boundary within the last
    ``overlap`` characters (and past the middle, so that parts always move on), else
    right after ``end``."""
    window = max(end - overlap, (start + end) // 2 + 1)
    for boundary in _STARTS:
        found = boundary.search(text, window, end)
        if found is not None and found.end() < end:
            return found.end()
    space = _SPACE.match(text, end)
    return space.end() if space else end


def merge_summaries(parts: Sequence[ModelSummary]) -> ModelSummary:
    """One summary of the parts' answers: headline and event from the first part (a news
    text's lede), the lists merged in text order without duplicates and cut to the
    schema's caps."""
    first = parts[0]
    return ModelSummary(
        headline=first.headline,
        event=first.event,
        participants=_merged(
            [p for s in parts for p in s.participants],
            lambda a, b: _alias(a.name, b.name),
            _join_participants,
        )[:MAX_PARTICIPANTS],
        issues=_merged(
            [i for s in parts for i in s.issues],
            lambda a, b: _alike(a.topic, b.topic) or _alike(a.summary, b.summary),
            _join_issues,
        )[:MAX_ISSUES],
        outcomes=_merged(
            [o for s in parts for o in s.outcomes],
            lambda a, b: _alike(a.description, b.description),
            _join_outcomes,
        )[:MAX_OUTCOMES],
        quotes=_merged([q for s in parts for q in s.quotes], _same_quote, _join_quotes)[
            :MAX_QUOTES
        ],
    )


def _merged(items: list[T], same: Callable[[T, T], bool], join: Callable[[T, T], T]) -> list[T]:
    """``items`` with each one that ``same`` matches to an earlier one joined into it."""
    kept: list[T] = []
    for item in items:
        for index, earlier in enumerate(kept):
            if same(earlier, item):
                kept[index] = join(earlier, item)
                break
        else:
            kept.append(item)
    return kept


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text).casefold()))


def _alike(a: str, b: str) -> bool:
    ka, kb = _key(a), _key(b)
    return ka == kb or SequenceMatcher(None, ka, kb, autojunk=False).ratio() >= NEAR_IDENTICAL


def _alias(a: str, b: str) -> bool:
    """One name is the other or part of it ("Putin", "Vladimir Putin"); a shared first name
    alone ("Vladimir Putin", "Vladimir Zelensky") is not enough."""
    ta, tb = set(name_tokens(a)), set(name_tokens(b))
    if not ta or not tb:
        return _key(a) == _key(b)
    return ta <= tb or tb <= ta


def _same_quote(a: ModelQuote, b: ModelQuote) -> bool:
    # A quote cut by a part boundary comes back whole from the next part: one holds the
    # other (whole words, and enough of them that a short phrase keeps its own entry).
    ka, kb = _key(a.text), _key(b.text)
    if not ka or not kb:
        return False
    short, long = sorted((ka, kb), key=len)
    held = len(short.split()) >= MIN_HELD_WORDS and f" {short} " in f" {long} "
    return held or _alike(a.text, b.text)


def _join_quotes(a: ModelQuote, b: ModelQuote) -> ModelQuote:
    longer = b if len(_key(b.text)) > len(_key(a.text)) else a
    return longer.model_copy(update={"speaker": longer.speaker or a.speaker or b.speaker})


def _join_participants(a: Participant, b: Participant) -> Participant:
    # The longer name ("Sergei Lavrov" over "Lavrov"); fields one part left null, from the other.
    name = b.name if len(b.name) > len(a.name) else a.name
    return a.model_copy(
        update={
            "name": name,
            "role": a.role or b.role,
            "affiliation": a.affiliation or b.affiliation,
            "country": a.country or b.country,
            "present": a.present or b.present,
        }
    )


def _join_issues(a: Issue, b: Issue) -> Issue:
    positions = _merged(
        [*a.positions, *b.positions],
        lambda x, y: _alias(x.party, y.party) and _alike(x.stance, y.stance),
        lambda x, _: x,
    )
    return a.model_copy(update={"positions": positions[:MAX_POSITIONS]})


def _join_outcomes(a: Outcome, b: Outcome) -> Outcome:
    parties = _merged([*a.parties, *b.parties], _alias, lambda x, _: x)
    return a.model_copy(update={"parties": parties[:MAX_PARTICIPANTS]})


def merge_extractions(parts: Sequence[Extraction], summary: ModelSummary) -> Extraction:
    """One extraction for the article: ``summary``, and the parts' calls, tokens and time
    summed, their warnings kept."""
    last = parts[-1]
    return Extraction(
        summary=summary,
        attempts=sum(p.attempts for p in parts),
        usage=sum_usage(p.usage for p in parts),
        finish_reason=last.finish_reason,
        latency_s=round(sum(p.latency_s for p in parts), 3),
        response_id=last.response_id,
        warnings=[w for p in parts for w in p.warnings],
    )


def sum_usage(usages: Iterable[Usage]) -> Usage:
    """The token counts of several calls added up."""
    total = Usage()
    for usage in usages:
        total.prompt_tokens += usage.prompt_tokens
        total.completion_tokens += usage.completion_tokens
        total.cached_tokens += usage.cached_tokens
    return total


def split_warning(parts: int, length: int, limit: int) -> RecordWarning:
    """The ``article_split`` warning of an article summarised in ``parts`` parts."""
    return RecordWarning(
        code=WarningCode.article_split,
        message=(
            f"{length} characters split into {parts} parts of at most {limit} to fit the "
            "model's context; their answers merged"
        ),
    )
