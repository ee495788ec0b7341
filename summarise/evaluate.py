"""Evaluate: score a feed against hand-written gold annotations, field by field.

A gold file (``DIR/<article id>.json``, see ``Gold``) lists the article's participants
(with aliases and a ``core`` flag for those who took part in the event), every direct
quote verbatim with its speaker, and its issues and outcomes as keyword sets. Scores:

* participants: precision (emitted names that are a gold participant) and recall, over all
  gold participants and over the core ones;
* quotes: recall (a gold quote is found when an emitted quote shares >= 80% of the longer
  one's words), speaker accuracy (on found quotes with a gold speaker), and the share of
  emitted quotes that are verbatim in ``article.text`` at their span and marked grounded;
* issues and outcomes: recall (an emitted item mentions every keyword group of a gold one).

Gold can also come from a reviewed feed (``gold_from_reviewed``): each record whose
review is complete (``summarise apply``) is taken as right for its participants and quotes.

Counts are summed over articles (micro averages). ``summarise eval FEED --gold DIR`` (or
``--reviewed REVIEWED_FEED``) prints ``format_table(report)`` or the report as JSON.

Only the fields scored are read from a feed line (``FeedLine``), so feeds of every
schema version (v1 with string warnings, v2 with warning objects) score alike; a line
that cannot be read raises ``FeedError`` naming the file and line.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, computed_field

from summarise.corrections import current_records
from summarise.errors import FatalError
from summarise.schema import Record

QUOTE_OVERLAP = 0.8
"""Least token overlap (shared words / words of the longer quote) for a quote to count."""

_WORDS = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")


# --- Gold annotations -------------------------------------------------------------------


class GoldParticipant(BaseModel):
    name: str
    aliases: list[str] = Field(default_factory=list, description="Other ways the text names them.")
    core: bool = Field(default=False, description="Took part in the event the article reports.")
    role: str | None = None
    country: str | None = None


class GoldQuote(BaseModel):
    speaker: str | None = Field(
        description="A participant's name, another speaker, or null for document text."
    )
    text: str = Field(description="The quoted words, verbatim from the article.")
    speaker_aliases: list[str] = Field(default_factory=list)
    note: str | None = None


class GoldTopic(BaseModel):
    label: str
    keywords: list[list[str]] = Field(
        description="Groups of alternatives: every group must have a word in the text."
    )


class Gold(BaseModel):
    """The hand-written annotation of one article."""

    id: str
    source: str | None = None
    annotation: str | None = None
    participants: list[GoldParticipant]
    quotes: list[GoldQuote]
    issues: list[GoldTopic] = Field(default_factory=list)
    outcomes: list[GoldTopic] = Field(default_factory=list)


def load_gold(directory: str | Path) -> dict[str, Gold]:
    """Every ``*.json`` directly in ``directory``, by article id."""
    gold: dict[str, Gold] = {}
    for path in sorted(Path(directory).glob("*.json")):
        try:
            entry = Gold.model_validate_json(path.read_bytes())
        except (OSError, ValidationError) as exc:
            raise FeedError(f"{path}: not a gold annotation: {_first_problem(exc)}") from exc
        gold[entry.id] = entry
    return gold


def gold_from_reviewed(path: str | Path) -> tuple[dict[str, Gold], list[str]]:
    """Gold from a reviewed feed (``summarise apply``): by id, the current records whose
    review is complete; and the ids left out because their review is not (or there is none).

    A reviewed record's participants and quotes are its gold; issues and outcomes are not
    reviewed, so they have no gold (their scores stay null).
    """
    gold: dict[str, Gold] = {}
    skipped: list[str] = []
    for record in current_records(Path(path)):
        review = record.provenance.review
        if review is not None and review.complete:
            gold[record.id] = gold_from_record(record)
        else:
            skipped.append(record.id)
    return gold, skipped


def gold_from_record(record: Record) -> Gold:
    """A record taken as right: its participants (the surname as an alias) and quotes."""
    return Gold(
        id=record.id,
        source=record.source.path,
        annotation="reviewed record",
        participants=[
            GoldParticipant(
                name=p.name,
                aliases=_surname(p.name),
                core=p.present,
                role=p.role,
                country=p.country,
            )
            for p in record.summary.participants
        ],
        quotes=[GoldQuote(speaker=q.speaker, text=q.text) for q in record.summary.quotes],
    )


def _surname(name: str) -> list[str]:
    """The last word of a name of several words: how articles name a person again."""
    words = name.split()
    return [words[-1]] if len(words) > 1 else []


def _first_problem(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        return f"{where}: {problem['msg']}" if where else str(problem["msg"])
    return str(exc)


class FeedError(FatalError):
    """A feed line that cannot be scored: not JSON, or without the fields scored."""

    default_code = "feed_unreadable"
    default_stage = "eval"


class _Scored(BaseModel):
    """Base of the scored views: fields not scored are ignored, whatever the version."""

    model_config = {"extra": "ignore"}


class _ScoredName(_Scored):
    name: str = ""


class _ScoredQuote(_Scored):
    speaker: str | None = None
    text: str = ""
    span: tuple[int, int] | None = None
    grounded: bool = False


class _ScoredPosition(_Scored):
    party: str = ""
    stance: str = ""


class _ScoredIssue(_Scored):
    topic: str = ""
    summary: str = ""
    positions: list[_ScoredPosition] = Field(default_factory=list)


class _ScoredOutcome(_Scored):
    description: str = ""
    parties: list[str] = Field(default_factory=list)


class _ScoredSummary(_Scored):
    participants: list[_ScoredName] = Field(default_factory=list)
    quotes: list[_ScoredQuote] = Field(default_factory=list)
    issues: list[_ScoredIssue] = Field(default_factory=list)
    outcomes: list[_ScoredOutcome] = Field(default_factory=list)


class _ScoredArticle(_Scored):
    text: str = ""


class FeedLine(_Scored):
    """What scoring reads of a feed line: the same in schema versions 1 and 2."""

    id: str
    article: _ScoredArticle = Field(default_factory=_ScoredArticle)
    summary: _ScoredSummary = Field(default_factory=_ScoredSummary)


def read_feed(path: str | Path) -> Iterator[dict[str, Any]]:
    """The scored fields of each record of a JSONL feed, one dict per non-blank line.

    Raises ``FeedError`` (file and line number, what is wrong) for a line it cannot read.
    """
    try:
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if line.strip():
                    yield _scored_fields(line, f"{path}:{number}")
    except OSError as exc:
        raise FeedError(f"cannot read the feed {path}: {exc}") from exc


def _scored_fields(line: bytes, where: str) -> dict[str, Any]:
    try:
        return FeedLine.model_validate_json(line).model_dump()
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"]) or "line"
        raise FeedError(
            f"{where}: not a feed record ({field}: {problem['msg']}); "
            "pass a feed written by 'summarise run'"
        ) from exc


# --- Scores -----------------------------------------------------------------------------


class Ratio(BaseModel):
    """hits / total; ``value`` is null when there is nothing to score."""

    hits: int = 0
    total: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return round(self.hits / self.total, 4) if self.total else None

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(hits=self.hits + other.hits, total=self.total + other.total)


class Scores(BaseModel):
    """Field scores for one article or for the whole feed."""

    participant_precision: Ratio = Field(default_factory=Ratio)
    participant_recall: Ratio = Field(default_factory=Ratio)
    core_participant_recall: Ratio = Field(default_factory=Ratio)
    quote_recall: Ratio = Field(default_factory=Ratio)
    speaker_accuracy: Ratio = Field(default_factory=Ratio)
    quotes_verbatim: Ratio = Field(default_factory=Ratio)
    quotes_grounded: Ratio = Field(default_factory=Ratio)
    issue_recall: Ratio = Field(default_factory=Ratio)
    outcome_recall: Ratio = Field(default_factory=Ratio)

    def __add__(self, other: Scores) -> Scores:
        return Scores(
            **{name: getattr(self, name) + getattr(other, name) for name in Scores.model_fields}
        )

    def values(self) -> dict[str, float | None]:
        return {name: getattr(self, name).value for name in Scores.model_fields}


class ArticleReport(BaseModel):
    id: str
    scores: Scores
    missed_participants: list[str] = Field(default_factory=list)
    missed_quotes: list[str] = Field(default_factory=list)
    wrong_speakers: list[str] = Field(default_factory=list)
    missed_issues: list[str] = Field(default_factory=list)
    missed_outcomes: list[str] = Field(default_factory=list)


class EvalReport(BaseModel):
    """Per-article and overall scores of a feed against gold annotations."""

    overall: Scores
    articles: list[ArticleReport]
    missing: list[str] = Field(
        default_factory=list, description="Gold articles with no record in the feed (scored empty)."
    )
    unscored: list[str] = Field(default_factory=list, description="Feed records without gold.")

    def summary(self) -> dict[str, float | None]:
        """Overall scores as plain numbers."""
        return self.overall.values()


def evaluate(records: Iterable[Record | Mapping[str, Any]], gold: Mapping[str, Gold]) -> EvalReport:
    """Score feed records (``Record`` objects or their JSON dicts) against gold by id."""
    by_id: dict[str, Mapping[str, Any]] = {}
    unscored: list[str] = []
    for record in records:
        data = record.model_dump(mode="json") if isinstance(record, Record) else record
        record_id = str(data.get("id"))
        if record_id in gold:
            by_id[record_id] = data
        else:
            unscored.append(record_id)
    articles = [
        _score(entry, by_id.get(article_id, {})) for article_id, entry in sorted(gold.items())
    ]
    overall = Scores()
    for article in articles:
        overall = overall + article.scores
    return EvalReport(
        overall=overall,
        articles=articles,
        missing=sorted(set(gold) - set(by_id)),
        unscored=sorted(unscored),
    )


def _score(gold: Gold, record: Mapping[str, Any]) -> ArticleReport:
    summary: Mapping[str, Any] = record.get("summary") or {}
    text: str = (record.get("article") or {}).get("text") or ""
    report = ArticleReport(id=gold.id, scores=Scores())
    s = report.scores

    # Participants: one emitted name per gold participant; extras and duplicates are misses.
    emitted = [str(p.get("name", "")) for p in summary.get("participants") or []]
    claimed: set[int] = set()
    for name in emitted:
        k = next(
            (
                i
                for i, g in enumerate(gold.participants)
                if i not in claimed and _is(name, _aliases(g))
            ),
            None,
        )
        s.participant_precision.total += 1
        if k is not None:
            claimed.add(k)
            s.participant_precision.hits += 1
    for i, g in enumerate(gold.participants):
        s.participant_recall.total += 1
        s.participant_recall.hits += i in claimed
        if g.core:
            s.core_participant_recall.total += 1
            s.core_participant_recall.hits += i in claimed
        if i not in claimed:
            report.missed_participants.append(g.name)

    # Quotes: best one-to-one pairs by token overlap.
    quotes: list[Mapping[str, Any]] = list(summary.get("quotes") or [])
    pairs = sorted(
        (
            (overlap, gi, qi)
            for gi, gq in enumerate(gold.quotes)
            for qi, q in enumerate(quotes)
            if (overlap := token_overlap(gq.text, str(q.get("text", "")))) >= QUOTE_OVERLAP
        ),
        reverse=True,
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, gi, qi in pairs:
        if gi not in matched and qi not in used:
            matched[gi] = qi
            used.add(qi)
    for gi, gq in enumerate(gold.quotes):
        s.quote_recall.total += 1
        if gi not in matched:
            report.missed_quotes.append(gq.text)
            continue
        s.quote_recall.hits += 1
        if gq.speaker is None:
            continue
        speaker = quotes[matched[gi]].get("speaker")
        s.speaker_accuracy.total += 1
        if speaker and _is(str(speaker), _speaker_aliases(gq, gold)):
            s.speaker_accuracy.hits += 1
        else:
            report.wrong_speakers.append(f"{gq.text[:50]!r}: {speaker!r}, expected {gq.speaker!r}")
    for q in quotes:
        s.quotes_verbatim.total += 1
        s.quotes_grounded.total += 1
        s.quotes_verbatim.hits += _verbatim(q, text)
        s.quotes_grounded.hits += bool(q.get("grounded")) and q.get("span") is not None

    # Issues and outcomes: keyword groups against each emitted item's words.
    issue_texts = [_issue_text(i) for i in summary.get("issues") or []]
    outcome_texts = [_outcome_text(o) for o in summary.get("outcomes") or []]
    report.missed_issues += _topic_recall(s.issue_recall, gold.issues, issue_texts)
    report.missed_outcomes += _topic_recall(s.outcome_recall, gold.outcomes, outcome_texts)
    return report


# --- Matching helpers -------------------------------------------------------------------


def _plain(text: str) -> str:
    """Lower case, accents off, quote marks and apostrophes straightened."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.replace("’", "'").replace("‘", "'").replace("`", "'").lower()


def tokens(text: str) -> list[str]:
    """The words of a text, folded (for quote overlap and name matching)."""
    return _WORDS.findall(_plain(text))


def token_overlap(a: str, b: str) -> float:
    """Shared words (with multiplicity) over the words of the longer text, 0..1."""
    ta, tb = tokens(a), tokens(b)
    if not ta or not tb:
        return 0.0
    shared = sum((Counter(ta) & Counter(tb)).values())
    return shared / max(len(ta), len(tb))


def _aliases(g: GoldParticipant) -> list[str]:
    return [g.name, *g.aliases]


def _speaker_aliases(q: GoldQuote, gold: Gold) -> list[str]:
    if q.speaker_aliases:
        return [q.speaker or "", *q.speaker_aliases]
    for g in gold.participants:
        if g.name == q.speaker:
            return _aliases(g)
    return [q.speaker or ""]


def _is(name: str, aliases: Sequence[str]) -> bool:
    """True when every word of some alias is a word of ``name`` ("Sergey Lavrov" is "Lavrov")."""
    words = set(tokens(name))
    return any(set(alias_words) <= words for alias in aliases if (alias_words := tokens(alias)))


def _verbatim(quote: Mapping[str, Any], text: str) -> bool:
    """The quote's text is in the article, exactly at its span when it has one."""
    quoted = str(quote.get("text", ""))
    if not quoted or quoted not in text:
        return False
    span = quote.get("span")
    if span is None:
        return True
    start, end = int(span[0]), int(span[1])
    return text[start:end] == quoted


def _issue_text(issue: Mapping[str, Any]) -> str:
    positions = " ".join(
        f"{p.get('party', '')} {p.get('stance', '')}" for p in issue.get("positions") or []
    )
    return f"{issue.get('topic', '')} {issue.get('summary', '')} {positions}"


def _outcome_text(outcome: Mapping[str, Any]) -> str:
    return f"{outcome.get('description', '')} {' '.join(outcome.get('parties') or [])}"


def _topic_recall(ratio: Ratio, topics: Sequence[GoldTopic], texts: list[str]) -> list[str]:
    """Count each gold topic found in one of ``texts`` into ``ratio``; return the missed labels."""
    missed = []
    for topic in topics:
        ratio.total += 1
        if any(_mentions(t, topic.keywords) for t in texts):
            ratio.hits += 1
        else:
            missed.append(topic.label)
    return missed


def _mentions(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """Every group has a keyword in ``text`` (whole words; plural and verb endings allowed)."""
    folded = " ".join(tokens(text))
    return all(any(_keyword(k).search(folded) for k in group) for group in groups)


_KEYWORD_CACHE: dict[str, re.Pattern[str]] = {}


def _keyword(keyword: str) -> re.Pattern[str]:
    pattern = _KEYWORD_CACHE.get(keyword)
    if pattern is None:
        words = " ".join(tokens(keyword))
        pattern = re.compile(r"\b" + re.escape(words) + r"(?:s|es|d|ed|ing)?\b")
        _KEYWORD_CACHE[keyword] = pattern
    return pattern


# --- Output -----------------------------------------------------------------------------

_COLUMNS: tuple[tuple[str, str], ...] = (
    ("participant_precision", "part P"),
    ("participant_recall", "part R"),
    ("core_participant_recall", "core R"),
    ("quote_recall", "quote R"),
    ("speaker_accuracy", "speaker"),
    ("quotes_verbatim", "verbatim"),
    ("quotes_grounded", "grounded"),
    ("issue_recall", "issue R"),
    ("outcome_recall", "outcome R"),
)


def format_table(report: EvalReport) -> str:
    """The scores as a plain-text table: one row per article, then the overall row."""
    width = max([len("overall"), *(len(a.id) for a in report.articles)])
    header = f"{'article':<{width}}  " + "  ".join(f"{title:>9}" for _, title in _COLUMNS)
    lines = [header, "-" * len(header)]
    rows = [(a.id, a.scores) for a in report.articles]
    for name, scores in [*rows, ("overall", report.overall)]:
        if name == "overall":
            lines.append("-" * len(header))
        cells = []
        for field, _ in _COLUMNS:
            value = getattr(scores, field).value
            cells.append(f"{'-' if value is None else f'{value:.2f}':>9}")
        lines.append(f"{name:<{width}}  " + "  ".join(cells))
    counts = "  ".join(
        f"{title}={getattr(report.overall, field).hits}/{getattr(report.overall, field).total}"
        for field, title in _COLUMNS
    )
    lines.append(f"counts: {counts}")
    if report.missing:
        lines.append(f"no record for (scored empty): {', '.join(report.missing)}")
    return "\n".join(lines)
