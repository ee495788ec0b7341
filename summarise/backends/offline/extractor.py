"""The offline extractor: the default backend's summaries when no endpoint is configured.

No capable model can be installed offline, so this backend does not pretend to be one. It
reads the article with the same code that grounds a model's answer (``summarise.text``)
and extracts, without inventing anything:

* quotes: every quotation in the article, verbatim, with the speaker the source
  attributes it to (reporting verbs on either side, "X said" / "said X", "quoted X as",
  "a statement from X", pronouns resolved to the person the text is about);
* participants: people introduced with a title ("Russian Foreign Minister Sergey
  Lavrov"), people who speak, people named in full and again by surname; with role,
  affiliation and country as written; ``present`` when the lead puts them at the event;
* the event: kind, date and place from cue words in the lead;
* issues and outcomes: *source sentences, verbatim*, chosen as a reader would
  (``topics``): by topic, discussion and result cues, never captions or background.
  The pipeline marks such records with an ``extractive`` warning.

Deterministic: the same text always gives the same summary. No network, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from summarise.backends.offline import french, topics
from summarise.backends.offline.participants import participants, speaker_name
from summarise.backends.offline.participants import people as find_people
from summarise.clean import CleanArticle
from summarise.schema import (
    LONG,
    MAX_QUOTES,
    QUOTE,
    SHORT,
    Event,
    EventKind,
    ModelQuote,
    ModelSummary,
)
from summarise.text.countries import to_iso3
from summarise.text.names import RUN, classify
from summarise.text.normalise import WORD
from summarise.text.reader import (
    Document,
    analyse,
)
from summarise.text.vocabulary import (
    ENGLISH_MONTHS,
    MEETING_CUES,
    OTHER_TIME_CUES,
    WEEKDAYS,
)

# --- Cue tables (data) ------------------------------------------------------------------

# Lines that carry no article content: credits, captions, share buttons.
NON_CONTENT = re.compile(
    r"^\s*(?:with files from|photo credit|categories:|tags:|share\s*$|skip to main content"
    r"|advertisement\s*$|related:|read more|.*\bcontributed to this report)",
    re.IGNORECASE,
)

# Cue tables: phrases (regex syntax allowed) matched as whole words, case-insensitively.

EVENT_CUES: tuple[tuple[EventKind, tuple[str, ...]], ...] = (
    ("phone_call", (r"(?:phone|telephone|video) (?:call|conversation|talks?)",
                    r"spoke by (?:tele)?phone", "rare call")),
    ("summit", ("summit",)),
    ("negotiation", (r"negotiat\w*", "peace talks")),
    ("visit", (r"visit(?:s|ed|ing)?", "trip")),
    ("meeting", ("met", r"meet(?:s|ing|ings)?", r"talks?", "talked", "sat down",
                 r"discussions?", "chatted", "encounter", "sidelines", "margins")),
    ("statement", ("statement", "interview", r"announce\w*")),
)  # fmt: skip
"""Event kinds and their cue words; ties go to the kind listed first."""

# French cue words join each label's English ones (same labels, same order).
EVENT_CUES = french.joined(EVENT_CUES, french.EVENT_CUES)

LEAD_PARAGRAPHS = 3
"""How many substantial paragraphs count as the lead (what happened, when, where)."""
PRESENT_PARAGRAPHS = 2
"""People named in the first paragraphs, in a sentence about the event, took part."""
MIN_LEAD_WORDS = 12
MIN_SENTENCE_WORDS = 6
"""Shorter sentences are captions and fragments, not issue or outcome summaries."""


def _cue_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


_EVENT_RES = tuple((kind, _cue_regex(phrases)) for kind, phrases in EVENT_CUES)
_ANY_EVENT = _cue_regex(tuple(p for _, phrases in EVENT_CUES for p in phrases))
# Dates as the lead writes them (capitalised English), copied into ``Event.date`` for
# grounding to resolve: "March 2, 2023", "last Thursday".
_EXPLICIT_DATE = re.compile(
    r"\b(?:"
    + "|".join(sorted((m.capitalize() for m in ENGLISH_MONTHS), key=len, reverse=True))
    + r")\.?\s+\d{1,2},?\s+\d{4}\b"
)
_WEEKDAY = re.compile(
    r"\b(?:(?:last|this|next)\s+)?(?:"
    + "|".join(d.capitalize() for d in WEEKDAYS)
    + r")\b|\b(?:yesterday|today)\b"
)
_IN_PLACE = re.compile(
    r"\b(?:in|à)\s+(?:the\s+)?(" + RUN.pattern + r")(?:,\s+(" + RUN.pattern + r"))?"
)
_LETTERS = re.compile(r"[^\W\d_]{3,}")
_MEETING = _cue_regex(MEETING_CUES)
_OTHER_TIME = re.compile(r"\b(?:" + "|".join(OTHER_TIME_CUES) + r")\b")
_CLAUSE_EDGE = re.compile(r"[,;:·\"”]")


# --- Reading the article ----------------------------------------------------------------


@dataclass
class _Reading:
    doc: Document
    body: list[int]
    """Indices of paragraphs with article content."""
    sentences: list[int]
    """Indices of the sentences in those paragraphs."""
    lead: list[int]
    """Indices of the lead sentences."""
    usable: list[int]
    """Body sentences short enough to be an issue or outcome summary, verbatim."""
    event_words: list[set[str]]
    """Words of the first lead sentences that are about the event, and of the clauses
    around a meeting verb (its subject and object)."""


def _read(doc: Document) -> _Reading:
    body = [
        i
        for i, (p0, p1) in enumerate(doc.paragraphs)
        if not NON_CONTENT.match(doc.text[p0:p1]) and _LETTERS.search(doc.text, p0, p1)
    ]
    body_set = set(body)
    sentences = [i for i, (_, _, p) in enumerate(doc.sentences) if p in body_set]
    lead_paragraphs = [
        i
        for i in body
        if len(doc.text[doc.paragraphs[i][0] : doc.paragraphs[i][1]].split()) >= MIN_LEAD_WORDS
    ][:LEAD_PARAGRAPHS]
    lead_set = set(lead_paragraphs)
    lead = [i for i in sentences if doc.sentences[i][2] in lead_set]
    present = set(lead_paragraphs[:PRESENT_PARAGRAPHS])
    event_words = [
        set(WORD.findall(doc.masked, s0, s1))
        for s0, s1, p in (doc.sentences[i] for i in lead)
        if p in present and _ANY_EVENT.search(doc.masked, s0, s1)
    ]
    event_words += [
        _meeting_words(doc, i) for i in lead if not _OTHER_TIME.search(_sentence_text(doc, i))
    ]
    usable = [
        i
        for i in sentences
        if doc.sentences[i][1] - doc.sentences[i][0] <= LONG
        and len(doc.text[doc.sentences[i][0] : doc.sentences[i][1]].split()) >= MIN_SENTENCE_WORDS
    ]
    return _Reading(doc, body, sentences, lead, usable, event_words)


def _meeting_words(doc: Document, sentence: int) -> set[str]:
    """Words of the subject and the object of a meeting verb in a sentence when they name
    two people: "Blinken met Chinese Foreign Minister Qin Gang" -> Blinken, Qin, Gang (the
    words past a comma or a quote are another clause; "Kuleba visited Hong Kong", "Austin
    met his counterparts" name one person: no evidence of this meeting)."""
    s0, s1, _ = doc.sentences[sentence]
    words: set[str] = set()
    for m in _MEETING.finditer(doc.masked, s0, s1):
        before = doc.masked[s0 : m.start()]
        edges = list(_CLAUSE_EDGE.finditer(before))
        subject = before[edges[-1].end() if edges else 0 :][-80:]
        if not _persons(subject):  # "Putin, shunned by the West, met ...": the sentence's
            subject = before[: edges[0].start() if edges else None][-80:]
        after = doc.masked[m.end() : min(s1, m.end() + 60)]
        cut = _CLAUSE_EDGE.search(after)
        sides = subject + " | " + after[: cut.start() if cut else None]  # two runs, not one
        if len(_persons(sides)) >= 2:
            words.update(WORD.findall(sides))
    return words


def _persons(text: str) -> list[str]:
    return [n[1] for r in RUN.finditer(text) if (n := classify(r.group(0))) and n[0] == "person"]


def _sentence_text(doc: Document, i: int) -> str:
    s0, s1, _ = doc.sentences[i]
    return doc.text[s0:s1].strip()


# --- The summary ------------------------------------------------------------------------


def extract(article: CleanArticle) -> ModelSummary:
    """Summarise one article without a model: deterministic, extractive, offline."""
    doc = analyse(article.text)
    reading = _read(doc)
    people = find_people(doc, reading.body, reading.sentences, reading.event_words)
    body = set(reading.body)

    quotes: list[ModelQuote] = []
    for region in doc.regions:
        if region.paragraph not in body:
            continue
        text = doc.text[region.start : region.end].rstrip(",;: ")
        if not _LETTERS.search(text) or len(text) > QUOTE:
            continue
        speaker = doc.speaker(region) or french.titled_speaker(doc, region, people)
        quotes.append(ModelQuote(speaker=_cap_opt(speaker_name(speaker, people)), text=text))
        if len(quotes) == MAX_QUOTES:
            break

    said = [(q.speaker, q.text) for q in quotes if q.speaker]
    return ModelSummary(
        headline=_headline(article, reading),
        event=_event(reading),
        participants=participants(people, reading.event_words),
        issues=topics.issues(doc, reading.usable, said),
        outcomes=topics.outcomes(doc, reading.usable, [p.name for p in people], reading.sentences),
        quotes=quotes,
    )


def _cap(text: str) -> str:
    return text[:SHORT]


def _cap_opt(text: str | None) -> str | None:
    return text[:SHORT] if text else None


def _headline(article: CleanArticle, reading: _Reading) -> str:
    if article.title and article.title.strip():
        return article.title.strip()[:LONG]
    for i in reading.lead or reading.sentences:
        sentence = _sentence_text(reading.doc, i)
        if len(sentence) <= LONG:
            return sentence
    return (article.text.strip().split("\n", 1)[0] or "(untitled)")[:LONG]


def _event(reading: _Reading) -> Event:
    doc = reading.doc
    lead_text = " ".join(
        doc.masked[doc.sentences[i][0] : doc.sentences[i][1]] for i in reading.lead
    )
    scores = [
        (len(pattern.findall(lead_text)), -n, kind) for n, (kind, pattern) in enumerate(_EVENT_RES)
    ]
    best = max(scores)
    kind: EventKind = best[2] if best[0] > 0 else "other"

    when: str | None = None
    where: str | None = None
    for i in reading.lead:
        s0, s1, _ = doc.sentences[i]
        sentence = doc.masked[s0:s1]
        if not _ANY_EVENT.search(sentence):
            continue
        if when is None:
            m = (
                _EXPLICIT_DATE.search(sentence)
                or french.DATE.search(sentence)
                or _WEEKDAY.search(sentence)
                or french.WEEKDAY.search(sentence)
            )
            when = m.group(0) if m else None
        if where is None and kind != "phone_call":
            where = _place(sentence)
    return Event(kind=kind, date=when, location=where)


def _place(sentence: str) -> str | None:
    for m in _IN_PLACE.finditer(sentence):
        named = classify(m.group(1))
        if named is None or named[0] == "org":
            continue
        place = named[1] if named[0] == "place" else m.group(1)
        if m.group(2) and to_iso3(m.group(2)):
            place = f"{place}, {m.group(2)}"
        return _cap(place)
    return None
