"""Issues and outcomes for the offline extractor: the article's own sentences, chosen as a
reader would.

An issue is a subject of the talks: a sentence with a topic's cue words, one sentence per
topic, or a sentence that says what the talks were about ("discussed ...", « ont évoqué
... »); a party's position on it is their first quote with the topic's cue words. An
outcome is a result: an agreement, a disagreement, an announcement or a next
step, with the status its cue words give. Neither is ever a caption, a byline or a
background sentence (what happened in an earlier year, "Then last month ..."): a reader
skips those when asked what the talks were about and what came of them. The sentences are
verbatim; the topic label and the status come from the cue tables below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from summarise.backends.offline import french
from summarise.schema import (
    LONG,
    MAX_ISSUES,
    MAX_OUTCOMES,
    MAX_PARTICIPANTS,
    MAX_POSITIONS,
    SHORT,
    Issue,
    Outcome,
    OutcomeStatus,
    Position,
)
from summarise.text.countries import DEMONYMS, to_iso3
from summarise.text.names import RUN, classify
from summarise.text.normalise import WORD
from summarise.text.reader import REPORTING_VERB, Document

# --- Cue tables (data) ------------------------------------------------------------------

# Phrases (regex syntax allowed) matched as whole words, case-insensitively.

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("war in Ukraine", (r"Ukrain\w*", "Kyiv", "Crimea", "Donbas")),
    ("nuclear arms control", ("nuclear", "arms control", "New START", "non-proliferation")),
    ("detained citizens", ("detained", r"prisoners?", r"hostages?", "espionage")),
    ("sanctions", (r"sanction\w*",)),
    ("Taiwan", (r"Taiwan\w*",)),
    ("trade and the economy", ("trade", r"tariffs?", r"econom\w+")),
    ("human rights", ("human rights",)),
    ("South China Sea", ("South China Sea",)),
    ("fentanyl and opioids", ("fentanyl", r"opioid\w*")),
    ("NATO", ("NATO",)),
    ("Syria", (r"Syria\w*",)),
    ("the Arctic", ("Arctic",)),
    ("terrorism", (r"terror\w*", "attack on")),
    ("energy and food security", ("energy", "food security", r"(?:natural )?gas", "oil",
                                  r"pipelines?")),
    ("cyber attacks", (r"hack\w*", r"cyber\w*")),
    ("military deployments", (r"troops?", "military contingent", r"deploy\w*", "battle group")),
    ("peace talks", (r"peace (?:talks|plan|process|deal)", r"cease-?fire", r"negotiations?",
                     "truce")),
    ("Middle East", (r"Israel\w*", "Gaza", r"Iran\w*", r"Palestin\w*")),
    ("Korean peninsula", (r"North Korea\w*", "Pyongyang")),
    ("missiles and arms", (r"missiles?", r"ballistic", r"arms (?:transfers?|supplies|sales)",
                           r"weapon\w*")),
    ("chemical weapons", ("chemical",)),
    ("climate", ("climate",)),
    ("migration", (r"migra\w+", r"refugees?")),
    ("security guarantees", (r"security (?:guarantees?|commitments?)",)),
    ("territory", (r"territor(?:y|ies|ial)", "occupied areas", "withdraw from")),
    ("political transition", ("political transition", "transitional government")),
    ("defence cooperation", (r"(?:defen[cs]e|military|security) (?:cooperation|ties)",
                             r"joint (?:military |naval )?exercises?", "drills", "trilateral")),
    ("aid", (r"aid", "humanitarian", "assistance")),
    ("infrastructure and investment", (r"infrastructures?", r"invest(?:ment|ments|ing|ed)")),
    ("debt and banks", (r"debts?", r"banks?", r"loans?", r"creditors?")),
    ("the Indo-Pacific", ("Indo-Pacific",)),
    ("Kashmir", ("Kashmir",)),
    ("Libya", (r"Liby\w*",)),
    ("summit", (r"summits?",)),
    ("invitation to visit", ("invitation", "invited")),
    ("joint declaration", (r"communiqu[eé]", "declaration", "joint statement", "consensus")),
    ("diplomatic relations", ("relations", "ties", "dialogue", r"re-engage\w*", "guard ?rails",
                              r"lines of (?:high-level )?communication", r"relationship")),
)  # fmt: skip
"""Issue topics: a label and the words that show a sentence is about it."""

OUTCOME_CUES: tuple[tuple[OutcomeStatus, tuple[str, ...]], ...] = (
    ("no_progress", (r"no (?:sign|indication) of (?:any )?(?:progress|movement|breakthrough)",
                     r"no (?:major |significant )?(?:progress|breakthroughs?)",
                     "inconclusive", "failed to overcome", "little progress",
                     r"no (?:final )?(?:deal|agreement) (?:was|has been) reached")),
    ("disagreed", (r"unable to (?:reach|agree|forge)", r"fail(?:ed|ure) to (?:reach|achieve|agree)",
                   r"could not (?:reconcile|agree)", "objected", "refused", r"disagree[sd]?",
                   "at odds", "collapsed", "rebuffed", r"(?:do|did) not (?:fully )?coincide",
                   "at loggerheads", r"remains? far from", "unresolved", r"wrong perception",
                   "sticking point", r"differ(?:ed)? (?:deeply|sharply|over|on)")),
    # Not "to agree" ("is in Shanghai to agree on"), "if Trump agrees", "to be signed", "an
    # agreement" alone: intentions and conditions, not results.
    ("agreed", (r"(?<!to )agreed", r"(?:sides|both|two|leaders|ministers|countries|parties) agree",
                r"(?<!be )(?<!formally )signed", r"deal (?:was )?reached",
                r"(?:reached|signed|struck|concluded) (?:an? |the )?(?:\w+ )?agreements?",
                r"agreements? (?:was|were|has been|have been) (?:reached|signed)",
                r"to continue (?:the )?(?:talks|consultations)", r"secured? a",
                r"keep up (?:the )?communication", r"signing (?:of|ceremony)")),
    ("pending", ("waiting for", "yet to", r"haven['’]t yet", "not yet", "scheduled",
                 r"will (?:meet|visit|hold|continue|keep|return)", "planned", "proposed",
                 r"next (?:week|month|round|meeting)", "another round", r"to be announced",
                 r"(?:expected|set) to (?:meet|visit|sign|hold)", r"later (?:this|next) \w+",
                 r"be (?:formally )?signed", "pave the way", r"(?:to|will) hold talks")),
    ("announced", ("announced", "invitation", "extended", "banned", "confirmed", "imposed",
                   r"ready (?:to|for)", "open to", r"(?:offered|expressed) condolences",
                   r"warn(?:ed|ing) (?:that|of)", "appropriate measures", r"step forward",
                   r"(?:cautious )?optimism", "indicated", r"patience", r"pledged?",
                   r"vowed", r"(?<!n['’]t )(?<!not )committed to", r"new heights?",
                   r"first \w+ (?:such )?meeting", r"for the first time", r"willing to")),
)  # fmt: skip
"""Outcome statuses and the words that show a sentence reports one; first match wins."""

QUOTED_OUTCOMES: tuple[tuple[OutcomeStatus, tuple[str, ...]], ...] = (
    ("disagreed", (r"(?:positions|opinions|views) (?:do|did) not (?:fully )?coincide",
                   r"we (?:disagree|differ)")),
    ("agreed", (r"we (?:have |had )?(?:agreed|decided|signed)",
                r"nous (?:avons|sommes) (?:convenus?|décidé)")),
    ("pending", (r"(?:we|nous) (?:plan to|expect|prévoyons de)", r"nous nous attendons à")),
    ("announced", (r"(?:further )?step forward", r"(?:we are|nous sommes) déterminés? à",
                   r"patience is (?:not infinite|limited|running out|wearing thin)",
                   r"(?:good|bon) (?:exchange|échange)")),
)  # fmt: skip
"""Results a speaker reports in their own quoted words ("We agreed to push ..."): outcome
cues are otherwise read outside quotes, where the article says what happened."""

DISCUSSION_CUES: tuple[str, ...] = (
    r"discuss(?:ed|es|ing)?", r"talked about", r"(?:will|to|would) focus (?:in part )?on",
    r"focus(?:ed|es) (?:in part )?on", "covered",
    r"raised", r"touched on", r"concerns? (?:over|about)", r"(?:central|key|main) issue",
    r"on the agenda", r"expressed concern",
)  # fmt: skip
"""Phrases that introduce what the talks were about; the sentence is an issue."""

TOPICS = french.joined(TOPICS, french.TOPICS)
OUTCOME_CUES = french.joined(OUTCOME_CUES, french.OUTCOME_CUES)
DISCUSSION_CUES = DISCUSSION_CUES + french.DISCUSSION_CUES

# A sentence that opens with an earlier time is background: "In November 2011, ...",
# "Then last month, ...", « En 2008, ... ».
_BACKGROUND = re.compile(
    r"\s*(?:(?:But|And|However|Yet|Mais|Et),?\s+)?(?:"
    r"(?:In|Since|Back in|By|Until|En|Depuis|Dès)\s+(?:(?:early|late|mid-?)\s*)?"
    r"(?:[^\W\d_]+\s+)?(?:1[89]|20)\d\d\b"
    r"|(?:Then|Previously|Earlier|Last (?:year|month|week)|Years ago|Auparavant"
    r"|L['’]an (?:dernier|passé)|L['’]année (?:dernière|passée))\b)"
)
# A caption: a short label and a colon ("Poker faces: The U.S. is ...") or a photo credit.
_CAPTION_LABEL = re.compile(r"\s*[^\W\d_][\w'’-]*(?:\s+[\w'’-]+){0,4}:\s+[A-Z‘'\"“]")
# A byline: "By Jane Reporter, CNN ...", « Par Jean Dupont et ... ».
_BYLINE = re.compile(
    r"\s*(?:By|Par)\s+[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+){0,2}\s*(?:[,|—–]|\s(?:and|et)\s)"
)
_PHOTO = re.compile(
    r"\((?:left|right|centre|center|pictured|above|below|file)\b|\bpictured\b|\bGetty\b"
    r"|\b(?:AFP|AP|Reuters)\s*/|\bphoto(?:graph)?\s*:",
    re.IGNORECASE,
)

MAX_OUTCOME_SENTENCES = 8
"""A reader's list of results stops before the schema's cap; issues go up to it (one per
subject)."""
SUBJECT_WORDS = 8
"""How many words after a discussion cue name the subject, as the topic label."""


def _cue_regex(phrases: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


def _anchors(phrases: tuple[str, ...]) -> tuple[str, ...]:
    """Word starts one of which every match contains (a cheap pre-check before the regex).

    Only the first four letters of each literal word count, so that optional endings
    ("hostages?") cannot make the check miss a match; a phrase without a literal word of
    three letters ("aid") disables the check.
    """
    words = [re.findall(r"(?<!\\)[A-Za-z][A-Za-z-]{2,}", p) for p in phrases]
    if not all(words):
        return ("",)
    return tuple(sorted({w.lower()[:4] for ws in words for w in ws}))


_TOPIC_RES = tuple((label, _cue_regex(ph), _anchors(ph)) for label, ph in TOPICS)
_OUTCOME_RES = tuple((status, _cue_regex(ph), _anchors(ph)) for status, ph in OUTCOME_CUES)
_TOPIC_BY_LABEL = {label: pattern for label, pattern, _ in _TOPIC_RES}
_QUOTED_START = re.compile(r"(?:[.!?…]|[«“\"])\s*")
_QUOTED_END = re.compile(r"[.!?…](?=\s)|(?=[»”\"])")
_QUOTED_RES = tuple((status, _cue_regex(ph)) for status, ph in QUOTED_OUTCOMES)
_DISCUSSION = _cue_regex(DISCUSSION_CUES)
_SUBJECT_END = re.compile(r"[,;:.·(]|\s(?:with|in|at|during|as|while|after|avec|lors|après)\s")
_QUOTE_MARKS = re.compile(r"[\"“”«»‘]|(?<!\w)'|'(?!\w)")


def reported(doc: Document, sentences: Sequence[int]) -> list[int]:
    """The sentences a reader takes for the report of the talks: no captions, and no
    background (a paragraph that opens with an earlier time is background throughout)."""
    background = {
        p for p in {doc.sentences[i][2] for i in sentences} if _BACKGROUND.match(_opening(doc, p))
    }
    return [i for i in sentences if doc.sentences[i][2] not in background and not _caption(doc, i)]


def _opening(doc: Document, paragraph: int) -> str:
    p0, p1 = doc.paragraphs[paragraph]
    return doc.text[p0 : min(p1, p0 + 80)]


def _caption(doc: Document, i: int) -> bool:
    s0, s1, _ = doc.sentences[i]
    text = doc.text[s0:s1]
    label = _CAPTION_LABEL.match(text)
    if label and not REPORTING_VERB.search(doc.masked, s0, s0 + label.end()):
        return True
    return bool(_PHOTO.search(text) or _BYLINE.match(text))


def issues(
    doc: Document, usable: Sequence[int], quotes: Sequence[tuple[str, str]] = ()
) -> list[Issue]:
    """One issue per topic (its first sentence, verbatim) and per sentence that says what
    the talks were about; topics sharing a sentence share an issue. ``quotes`` (speaker,
    words) give the positions: what each party said, in quotes, about the issue's topics."""
    candidates = set(reported(doc, usable))
    by_sentence: dict[int, list[str]] = {}
    lowered = doc.text.lower()
    for label, pattern, anchors in _TOPIC_RES:
        if not any(a in lowered for a in anchors):
            continue
        for m in pattern.finditer(doc.text):
            i = doc.sentence_at(m.start())
            if i in candidates:
                by_sentence.setdefault(i, []).append(label)
                break
    for m in _DISCUSSION.finditer(doc.masked):
        i = doc.sentence_at(m.start())
        if i in candidates and i not in by_sentence:
            by_sentence[i] = [_subject(doc, m.end(), doc.sentences[i][1])]
    return [
        Issue(
            topic=", ".join(by_sentence[i])[:SHORT],
            summary=_sentence(doc, i),
            positions=positions(by_sentence[i], quotes),
        )
        for i in _kept_sentences(doc, sorted(by_sentence))[:MAX_ISSUES]
    ]


def positions(labels: Sequence[str], quotes: Sequence[tuple[str, str]]) -> list[Position]:
    """Each speaker's first quote with a cue word of one of the topics ``labels``: that
    party's stance on the issue, in their own words."""
    patterns = [_TOPIC_BY_LABEL[label] for label in labels if label in _TOPIC_BY_LABEL]
    found: dict[str, str] = {}
    for speaker, words in quotes:
        if speaker not in found and any(p.search(words) for p in patterns):
            found[speaker] = words
    return [Position(party=party[:SHORT], stance=stance[:LONG]) for party, stance in found.items()][
        :MAX_POSITIONS
    ]


def _subject(doc: Document, start: int, end: int) -> str:
    """The words after a discussion cue, up to the clause's end: the subject as written."""
    after = _QUOTE_MARKS.sub("", doc.text[start:end])
    cut = _SUBJECT_END.search(after)
    words = after[: cut.start() if cut else None].split()[:SUBJECT_WORDS]
    return " ".join(words) if len(words) > 1 else "the talks"


def outcomes(
    doc: Document, usable: Sequence[int], people: Sequence[str], body: Sequence[int] = ()
) -> list[Outcome]:
    """Sentences that report a result, verbatim, with the status their cue words give.
    A result quoted inside a paragraph-long quotation of ``body`` (too long to be a
    summary) is the quoted sentence around it."""
    candidates = set(reported(doc, usable))
    quoted_in = {i for i in reported(doc, body) if doc.sentences[i][1] - doc.sentences[i][0] > LONG}
    found: dict[int, tuple[OutcomeStatus, int]] = {}  # start -> (status, end)
    lowered = doc.masked.lower()
    for status, pattern, anchors in _OUTCOME_RES:
        if not any(a in lowered for a in anchors):
            continue
        for m in pattern.finditer(doc.masked):
            i = doc.sentence_at(m.start())
            s0, s1, _ = doc.sentences[i]
            if i in candidates and s0 not in found:
                found[s0] = (status, s1)  # cues are tried in priority order: the first one wins
    for status, pattern in _QUOTED_RES:
        for m in pattern.finditer(doc.text):
            i = doc.sentence_at(m.start())
            s0, s1, _ = doc.sentences[i]
            if i in quoted_in:
                s0, s1 = _quoted_sentence(doc, m.start(), s0, s1)
            elif i not in candidates:
                continue
            found.setdefault(s0, (status, s1))
    kept = _once(doc, [(s0, found[s0][1]) for s0 in sorted(found)])
    return [
        Outcome(
            description=doc.text[s0:s1].strip(),
            status=found[s0][0],
            parties=parties(doc.masked[s0:s1], people),
        )
        for s0, s1 in kept[: min(MAX_OUTCOMES, MAX_OUTCOME_SENTENCES)]
    ]


def _kept_sentences(doc: Document, sentences: list[int]) -> list[int]:
    kept = set(_once(doc, [doc.sentences[i][:2] for i in sentences]))
    return [i for i in sentences if doc.sentences[i][:2] in kept]


def _quoted_sentence(doc: Document, pos: int, s0: int, s1: int) -> tuple[int, int]:
    """The sentence of a long quotation that holds ``pos``: from the last stop or opening
    mark before it to the next stop or closing mark."""
    starts = [m.end() for m in _QUOTED_START.finditer(doc.text, s0, pos)]
    end = _QUOTED_END.search(doc.text, pos, s1)
    return (starts[-1] if starts else s0), (end.end() if end else s1)


def _once(doc: Document, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The spans without repeats: a page that prints a sentence twice (a summary box, a
    caption) reports one result."""
    seen: set[str] = set()
    kept = []
    for s0, s1 in spans:
        words = " ".join(WORD.findall(doc.text[s0:s1].casefold()))
        if words not in seen:
            seen.add(words)
            kept.append((s0, s1))
    return kept


def parties(sentence: str, people: Sequence[str]) -> list[str]:
    """People (full names) and countries a sentence names, as the article names them."""
    found: list[str] = []
    codes: set[str] = set()
    words = set(WORD.findall(sentence))
    for person in people:
        if person.split()[-1] in words:
            found.append(person)
    for run in RUN.finditer(sentence):
        named = classify(run.group(0))
        if named is not None and named[0] == "place" and named[1] not in DEMONYMS:
            code = to_iso3(named[1])
            if code and code not in codes:
                codes.add(code)
                found.append(named[1][:SHORT])
    return found[:MAX_PARTICIPANTS]


def _sentence(doc: Document, i: int) -> str:
    s0, s1, _ = doc.sentences[i]
    return doc.text[s0:s1].strip()
