"""Ground: check every field of a summary against the article text it was made from.

Any backend's answer (a model's or the offline extractor's) goes through
``ground_summary``:

* quotes are aligned to ``article.text``: an exact match after normalising quote marks,
  apostrophes, dashes, soft hyphens, case and whitespace; else a quote that spans an
  attribution ("A," he said, "B") is split into its grounded parts; else a fuzzy
  alignment (``rapidfuzz``) snaps a near-verbatim quote to the source's own words. A
  grounded quote's ``text`` is always ``article.text[start:end]``; what cannot be found
  is kept with ``grounded: false`` (or dropped with ``strict``);
* the speaker of a grounded quote is checked against the attribution around it in the
  source (reporting verbs: said, told, added, noted, warned, according to, ...);
* every named person must occur in the text (a surname match counts);
* participant countries become ISO 3166-1 alpha-3 codes; relative event dates
  ("Thursday", "last Friday") are resolved against the publication date.

What grounding changes or doubts comes back as warnings, one string each, prefixed with a
stable code: ``quote_snapped``, ``quote_split``, ``quote_ungrounded``, ``quote_dropped``,
``quote_duplicate``, ``quote_unmarked``, ``speaker_mismatch``, ``name_unattested``,
``country_normalised``, ``country_invalid``, ``date_resolved``, ``date_unresolved``.

The reading of the source that this needs (paragraphs, sentences, quotation marks, names,
who said what) is ``Document``; the offline extractor is built on the same reading.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

from rapidfuzz import fuzz

from summarise.countries import is_iso3, to_iso3
from summarise.schema import Event, ModelQuote, ModelSummary, Participant, Quote, Summary

# --- Tunables ---------------------------------------------------------------------------

SNAP_MIN_SCORE = 85.0
"""Least ``fuzz.ratio`` (0-100) between a quote and the source words it is snapped to."""
SNAP_MIN_CHARS = 16
"""Shorter quotes are grounded only by an exact match: a fuzzy one would be chance."""
SPLIT_MAX_GAP = 160
"""Most characters of attribution ("," he said, ") allowed between the parts of a quote."""
_SNAP_SEARCH_CUTOFF = 70.0
_SNAP_WINDOW = 24
_MAX_OCCURRENCES = 40

# --- Vocabulary (data) ------------------------------------------------------------------


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


REPORTING_VERBS: tuple[str, ...] = (
    "said", "says", "say", "saying", "told", "tells", "telling", "added", "adds", "adding",
    "noted", "noting", "warned", "warns", "warning", "stressed", "stresses",
    "stressing", "emphasized", "emphasised", "emphasizing", "emphasising", "insisted",
    "insists", "insisting", "urged", "urges", "urging", "lamented", "laments", "asked",
    "asks", "replied", "replies", "responded", "explained", "explains", "wrote", "writes",
    "declared", "declares", "argued", "argues", "arguing", "acknowledged", "admitted",
    "claimed", "claiming", "accused", "accuses", "accusing", "announced",
    "pledged", "promised", "vowed", "called", "calling", "described", "describing",
    "rejected", "dismissed", "criticized", "criticised", "complained", "repeated",
    "reiterated", "recalled", "cautioned", "predicted", "suggested", "conceded", "denied",
    "stated", "mocked", "quipped", "tweeted", "posted",
)  # fmt: skip
"""Verbs that introduce speech; their subject is the speaker."""

PARTICIPLES = frozenset(v for v in REPORTING_VERBS if v.endswith("ing"))
# Verbs that can come before their subject: '"...," said Joseph Pickerill'.
INVERTIBLE = frozenset({"said", "says", "added", "adds", "noted", "asked", "wrote", "replied"})

ROLE_TITLES: tuple[str, ...] = (
    "Secretary of State", "Foreign Affairs Minister", "Minister of Foreign Affairs",
    "Foreign Minister", "Deputy Foreign Minister", "Defence Minister", "Defense Minister",
    "Minister of Defence", "Minister of National Defence", "Defense Secretary",
    "Defence Secretary", "Foreign Secretary", "Home Secretary", "Treasury Secretary",
    "Interior Minister", "Finance Minister", "Trade Minister", "Commerce Minister",
    "Deputy Prime Minister", "Prime Minister", "Vice President", "Vice-President",
    "President", "Chancellor", "Premier", "King", "Queen", "Crown Prince", "Emir",
    "Sultan", "Pope", "Secretary-General", "Secretary General", "High Representative",
    "Special Envoy", "special envoy", "envoy", "Ambassador", "ambassador",
    "spokesperson", "spokesman", "spokeswoman", "press secretary",
    "national security adviser", "security adviser", "adviser", "advisor",
    "Attorney General", "Senator", "Sen.", "Rep.", "Gen.", "General", "Admiral",
    "Governor", "Mayor", "Commissioner", "Minister", "Secretary", "leader", "chief",
    "director", "co-founder", "founder", "chairman", "chairwoman", "chair", "CEO",
    "negotiator", "arms dealer", "star", "counterpart",
)  # fmt: skip
"""Titles that come right before a name ("Foreign Minister Sergey Lavrov"); any case."""

# Titles that tell us someone is a person without being a role worth reporting.
EVIDENCE_ONLY_TITLES = frozenset({"counterpart"})

# Words that, capitalised at the start of a name-like run, are not part of the name.
_LEADING_STOP = _wordset(
    "a an the but and or so yet still in on at as for with from by of to into despite "
    "since during under after before while when where if although though however "
    "meanwhile earlier later shortly also then that this these those it its he she they "
    "we i his her their our my your there here what who which why how mr mrs ms dr former "
    "deputy acting vice first senior top new said says according asked now last next "
    "today yesterday tomorrow one two three both all some many"
)
_TITLE_WORDS = _wordset(
    "secretary state minister ministers prime president foreign affairs defence defense "
    "ambassador spokesperson spokesman spokeswoman chancellor premier king queen prince "
    "leader chief envoy adviser advisor senator sen. rep. gen. general admiral governor "
    "mayor commissioner attorney director chairman chair ceo national security interior "
    "finance trade commerce treasury home high representative special counterpart"
)
_ORG_WORDS = _wordset(
    "ministry ministries department council government parliament congress senate house "
    "assembly committee commission agency office organization organisation association "
    "nations union alliance party forces force army navy corp corp. inc inc. ltd company "
    "group bank fund news press times post radio television tv network institute "
    "university college school foundation center centre church court police service "
    "services summit conference forum meeting treaty accord agreement declaration war "
    "crisis revolution strait sea ocean gulf bay river lake island islands mountains "
    "region province state states republic kingdom empire federation city street square "
    "airport hall palace kremlin period day"
)
_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NOT_NAMES = frozenset(_MONTHS) | frozenset(_WEEKDAYS)
_COMPASS = _wordset(
    "north south east west central eastern western northern southern upper lower greater"
)
_REGIONS = _wordset(
    "Africa Asia Europe Pacific Atlantic Arctic Antarctica Balkans Baltics Caucasus "
    "Caribbean Americas Eurasia Oceania Scandinavia Sahel Levant Mideast"
)
_PRONOUNS = frozenset({"he", "she", "they", "i", "we"})
# A name after one of these is an object ("told Lavrov", "with Blinken"), not a subject.
_OBJECT_MARKERS = _wordset(
    "with to by from for of at on in against about between among told telling tell tells "
    "asked urged persuade persuaded met meeting than like including"
)
# Words that may sit between a subject and its verb ("Blinken also said").
_BETWEEN = _wordset(
    "also then had has have would will later earlier previously again only further "
    "reportedly repeatedly once publicly privately too himself herself"
)
_CLAUSE_LINKS = frozenset({"and", "while", "after", "before", "when", "by", "also"})
_PREPOSITION_GAP = re.compile(
    r"\b(?:in|to|on|at|after|before|during|from|for|with|about|when|while|as)\b"
)
_ABBREVIATIONS = _wordset(
    "mr mrs ms dr gen lt col sen rep gov st jr sr corp inc co ltd no jan feb mar apr jun "
    "jul aug sep sept oct nov dec vs etc prof capt sgt"
)

# --- Regexes (compiled once) ------------------------------------------------------------

_UPPER = "A-ZÀ-ÖØ-Þ"
_TOKEN = (
    rf"(?:(?:[{_UPPER}]\.){{2,}}"  # U.S., U.K.
    rf"|(?:Corp|Inc|Co|Ltd|Jr|Sr|St)\."
    rf"|[{_UPPER}]\.(?=\s[{_UPPER}])"  # an initial: "Joseph P. Kennedy"
    rf"|\[?[{_UPPER}][^\W_]*(?:[-'’][^\W_]+)*\]?)"
)
_PARTICLE = r"(?:de|da|del|della|der|van|von|bin|ibn|al|dos)"
_RUN_SRC = rf"{_TOKEN}(?:[ ]+(?:{_PARTICLE}[ ]+){{0,2}}{_TOKEN})*"
RUN = re.compile(_RUN_SRC)
_RUN_AT_END = re.compile(rf"({_RUN_SRC})[ ]*$")
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")

REPORTING_VERB = re.compile(
    r"\b(?:" + "|".join(sorted(REPORTING_VERBS, key=len, reverse=True)) + r"|issued a statement)\b"
)
_QUOTED_AS = re.compile(rf"\bquoted\s+(?:the\s+)?({_RUN_SRC})\s+as\b")
_STATEMENT_BY = re.compile(
    r"\b(?:statement|readout|communiqu[eé])\s+(?:issued\s+)?(?:by|from)\s+(?:the\s+)?"
    r"([^,.;\"·]{3,90}?)\s+(?:said|says|reads|read|stated|states|added)\b"
)
_ACCORDING_TO = re.compile(
    r"\baccording\s+to\s+(?:an?\s+(?:statement|readout|report)\s+(?:from|by)\s+)?(?:the\s+)?"
    r"([^,.;\"·]{2,80})"
)


_Trie = dict[str, "_Trie"]


def _trie(words: list[str]) -> str:
    """One regex for many words, as a trie: tried once per position, not once per word."""
    tree: _Trie = {}
    for word in words:
        node = tree
        for ch in word.lower():
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: _Trie) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(tree)


_ROLE_SRC = _trie(list(ROLE_TITLES))
ROLE_NAME = re.compile(
    rf"\b(?:(?i:former|deputy|acting|top|senior)\s+)?(?P<role>(?i:{_ROLE_SRC}))(?!\w)"
    rf"(?:\s+(?P<prep>to|for|of|at)\s+(?:the\s+)?(?P<of>{_RUN_SRC}))?,?\s+"
    rf"(?P<name>{_RUN_SRC})"
)
PRE_RUN = re.compile(rf"(?P<run>{_RUN_SRC})(?:['’]s)?\.?\s+$")
APPOSITIVE_ROLE = re.compile(
    r",\s+(?:the|a|an)\s+((?:[^,.;·\"]|\.(?!\s+[A-Z]|\s*$))+?)\s*(?:[,;]|\.(?=\s+[A-Z\"“]|\s*$))"
)
_TRAILING_BETWEEN = re.compile(r"(?:\s+(?:" + "|".join(_BETWEEN) + r"))+\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?]+[\"”’')\]]*(?=\s+[\"“‘(\[]?[0-9" + _UPPER + r"])")

_DOUBLE_QUOTES = '"“”„‟«»＂〝〞'
_QUOTE_CHARS = re.compile(r"[\"“”„‟«»＂〝〞‘’]")
_OPENERS = frozenset("“„‟«〝")
_CLOSERS = frozenset("”»〞")
_MASK = "·"

_TRANSLATE = str.maketrans(
    {
        **dict.fromkeys("“”„‟«»″＂〝〞", '"'),
        **dict.fromkeys("‘’‚‛′`´‹›", "'"),
        **dict.fromkeys("‐‑‒–—―−", "-"),
        **dict.fromkeys("\u00a0\u2007\u202f\u2009\u200a", " "),
    }
)
_GAPS = re.compile(
    # A single space is already normal: only longer or other whitespace is a gap.
    r"(?P<dash>\s*-{2,}\s*|\s+-\s+)|(?P<ws>\s{2,}|[^\S ])"
    r"|(?P<zw>[\u00ad\u200b\u200c\u200d\u2060\ufeff])|(?P<ell>…)"
)
_EDGE_PUNCT = " \"'.,;:!?-"
_ISO_DATE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATE_MDY = re.compile(
    rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I
)
_DATE_DMY = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_NAMES})\.?,?(?:\s+(\d{{4}}))?\b", re.I
)
_DATE_MY = re.compile(rf"^\s*({_MONTH_NAMES})\.?\s+(\d{{4}})\s*$", re.I)
_RELATIVE = re.compile(
    r"\b(?:(?P<mod>last|this|next|on|this past|past|coming)\s+)?(?P<day>"
    + "|".join(_WEEKDAYS)
    + r")\b|\b(?P<rel>today|tonight|yesterday|tomorrow|this morning|this afternoon|this evening)\b",
    re.IGNORECASE,
)

# --- Normalised text --------------------------------------------------------------------


@dataclass(frozen=True)
class _Normalised:
    """A normalised copy of a text and where its pieces come from.

    ``marks`` holds, for each piece of ``norm``, (norm start, source start, source end,
    verbatim): verbatim pieces map character for character; a folded gap (a run of
    whitespace, a dash, an ellipsis) maps as a whole.
    """

    norm: str
    marks: list[tuple[int, int, int, bool]]
    _starts: list[int]

    def _source(self, pos: int, *, end: bool) -> int:
        k = bisect.bisect_right(self._starts, pos) - 1
        n0, s0, s1, verbatim = self.marks[k]
        if verbatim:
            return s0 + (pos - n0) + (1 if end else 0)
        return s1 if end else s0

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source offsets of ``norm[start:end]``."""
        return self._source(start, end=False), self._source(end - 1, end=True)


def _fold(text: str) -> str:
    folded = text.translate(_TRANSLATE)
    lowered = folded.lower()
    if len(lowered) != len(folded):  # a few characters lower-case to two ("İ")
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in folded)
    return lowered


_GAP_OUT = {"dash": "-", "ws": " ", "ell": "...", "zw": ""}


def normalise(text: str) -> str:
    """The matching form of a text: quote marks, dashes, case and whitespace folded."""
    return _GAPS.sub(lambda m: _GAP_OUT[m.lastgroup or "zw"], _fold(text))


def _build(text: str) -> _Normalised:
    folded = _fold(text)
    parts: list[str] = []
    marks: list[tuple[int, int, int, bool]] = []
    n = 0
    pos = 0
    for m in _GAPS.finditer(folded):
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
    return _Normalised("".join(parts), marks, [m[0] for m in marks])


# --- Reading the source: paragraphs, sentences, quotation marks, names -------------------


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


@dataclass(frozen=True)
class Subject:
    """Who a clause is about: a name as written, what kind of name it is, and where."""

    text: str
    kind: Literal["person", "org", "place", "pronoun"]
    start: int


@dataclass
class Document:
    """One article text, read once: what grounding and the offline extractor share."""

    text: str
    paragraphs: list[tuple[int, int]]
    regions: list[QuoteRegion]
    masked: str
    """``text`` with quoted words replaced by ``·``: what is said *about* the quotes."""
    sentences: list[tuple[int, int, int]]
    """(start, end, paragraph) of each sentence; a sentence never ends inside a quote."""
    _sentence_starts: list[int] = field(repr=False)
    _region_starts: list[int] = field(repr=False)
    _speakers: dict[int, str | None] = field(default_factory=dict, repr=False)
    _focus: dict[int, str | None] = field(default_factory=dict, repr=False)
    _normalised: _Normalised | None = field(default=None, repr=False)
    _words: frozenset[str] | None = field(default=None, repr=False)

    # -- lookups

    @property
    def normalised(self) -> _Normalised:
        if self._normalised is None:
            self._normalised = _build(self.text)
        return self._normalised

    @property
    def words(self) -> frozenset[str]:
        """Every word of the text, case-folded (for name checks)."""
        if self._words is None:
            self._words = frozenset(
                w.casefold() for w in _WORD.findall(self.text.translate(_TRANSLATE))
            )
        return self._words

    def sentence_at(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self._sentence_starts, pos) - 1)

    def region_containing(self, start: int, end: int) -> QuoteRegion | None:
        """The quotation whose marks enclose ``[start, end)``, if any."""
        i = bisect.bisect_right(self._region_starts, start) - 1
        if i >= 0:
            region = self.regions[i]
            if region.open <= start and end <= region.close + 1:
                return region
        return None

    # -- who said it

    def speaker(self, region: QuoteRegion) -> str | None:
        """Who the source says spoke the quoted words: a name as written, or None."""
        key = region.open
        if key in self._speakers:
            return self._speakers[key]
        self._speakers[key] = None  # guards against cycles while inheriting
        found = self._attribute(region)
        self._speakers[key] = found
        return found

    def _attribute(self, region: QuoteRegion) -> str | None:
        first = self.sentence_at(region.open)
        last = self.sentence_at(max(region.open, region.close))
        s0, s1 = self.sentences[first][0], self.sentences[last][1]
        masked = self.masked
        m = _QUOTED_AS.search(masked, s0, s1)
        if m:
            named = classify(m.group(1))
            if named is not None:
                return named[1]
        m = _STATEMENT_BY.search(masked, s0, s1)
        if m:
            return _name_in_phrase(m.group(1))
        verbs = [v for v in REPORTING_VERB.finditer(masked, s0, s1)]
        if verbs:

            def distance(v: re.Match[str]) -> int:
                if v.end() <= region.open:
                    return region.open - v.end()
                return v.start() - region.close

            for verb in sorted(verbs, key=distance):
                subject = self.subject_of(verb, s0, s1)
                if subject is not None:
                    return self.resolve(subject, first)
        m = _ACCORDING_TO.search(masked, s0, s1)
        if m:
            return _name_in_phrase(m.group(1))
        if verbs:
            return None
        return self._inherited(region)

    def _inherited(self, region: QuoteRegion) -> str | None:
        """A quote with no attribution of its own continues the previous speaker's words."""
        i = bisect.bisect_left(self._region_starts, region.open)
        if i == 0:
            return None
        previous = self.regions[i - 1]
        p_start = self.paragraphs[region.paragraph][0]
        same_paragraph = previous.paragraph == region.paragraph
        opens_paragraph = self.text[p_start : region.open].strip() == ""
        if same_paragraph or (opens_paragraph and previous.paragraph == region.paragraph - 1):
            return self.speaker(previous)
        return None

    def subject_of(self, verb: re.Match[str], s0: int, s1: int) -> Subject | None:
        """The subject of a reporting verb in sentence ``[s0, s1)``, or None."""
        masked = self.masked
        word = verb.group(0)
        if word in INVERTIBLE:
            before = masked[s0 : verb.start()].rstrip()
            if before.endswith((",", '"', "”", "’")):
                named = _person_after(masked, verb.end(), s1)
                if named is not None:
                    return named
        if word in PARTICIPLES:
            # "..., saying" or "and warning": a participle clause; "a warning" is a noun.
            before = masked[s0 : verb.start()].rstrip()
            if (
                word != "saying"
                and not before.endswith(",")
                and _last_word(before) not in _CLAUSE_LINKS
            ):
                return None
            return self._clause_subject(s0, verb.start())
        return self._subject_before(s0, verb.start())

    def _subject_before(self, s0: int, v: int) -> Subject | None:
        left = self.masked[s0:v]
        trail = _TRAILING_BETWEEN.search(left)
        if trail:
            left = left[: trail.start()]
        left = left.rstrip()
        if left.endswith(","):
            # "Kurt Campbell, the top Asia expert at the NSC, said": skip the appositive.
            inner = left[:-1]
            comma = inner.rfind(",")
            segment = inner[comma + 1 :].strip()
            lead = segment.split(" ", 1)[0].lower() if segment else ""
            if comma >= 0 and (
                lead in {"the", "a", "an", "who", "which", "whose"}
                or not _RUN_AT_END.search(segment)
            ):
                left = inner[:comma].rstrip()
            else:
                left = inner.rstrip()
        return self._scan_left(left, s0)

    def _scan_left(self, left: str, s0: int) -> Subject | None:
        """The nearest name or pronoun left of a verb that is not an object."""
        words = list(_WORD.finditer(left))
        skipping = False
        steps = 0
        i = len(words) - 1
        while i >= 0 and steps < 14:
            w = words[i]
            token = w.group(0)
            lower = token.lower()
            if lower in _PRONOUNS:
                if _preceded_ok(words, i):
                    return Subject(token, "pronoun", s0 + w.start())
                skipping = True
            elif token[0].isupper() and lower not in _LEADING_STOP:
                run = _RUN_AT_END.search(left, 0, w.end())
                run_start = run.start(1) if run else w.start()
                j = i
                while j > 0 and words[j - 1].start() >= run_start:
                    j -= 1
                named = classify(left[run_start : w.end()])
                if _preceded_ok(words, j) and named is not None:
                    return Subject(named[1], named[0], s0 + run_start)
                skipping = True
                i = j
            elif not skipping and lower not in _BETWEEN:
                return None  # a common-noun subject ("officials said"): no name to give
            i -= 1
            steps += 1
        return None

    def _clause_subject(self, s0: int, v: int) -> Subject | None:
        """Subject of the sentence (for participles: 'Xi ..., saying ...')."""
        segment = self.masked[s0:v]
        pos = 0
        for w in _WORD.finditer(segment):
            if w.start() < pos:
                continue
            token = w.group(0)
            lower = token.lower()
            if lower in _PRONOUNS:
                return Subject(token, "pronoun", s0 + w.start())
            if not token[0].isupper() or lower in _LEADING_STOP:
                continue
            run = RUN.match(segment, w.start())
            written = run.group(0) if run else token
            pos = w.start() + len(written)
            if w.start() == 0 and " " not in written and lower.endswith(("ing", "ly", "ed")):
                continue  # "Underscoring the difficulties, ..."
            named = classify(written)
            preceded = _last_word(segment[: w.start()])
            if named is not None and named[0] == "person" and preceded not in _OBJECT_MARKERS:
                return Subject(named[1], "person", s0 + w.start())
        return None

    def resolve(self, subject: Subject, sentence: int) -> str | None:
        """A subject as a name: pronouns become the person the text was about."""
        if subject.kind != "pronoun":
            return subject.text
        s0 = self.sentences[sentence][0]
        if subject.start > s0:
            inside = self._clause_subject(s0, subject.start)
            if inside is not None:
                return inside.text
        for back in range(sentence - 1, max(-1, sentence - 5), -1):
            focus = self.focus(back)
            if focus is not None:
                return focus
        return None

    def focus(self, sentence: int) -> str | None:
        """The person a sentence is about: its speaker, else its first person named."""
        if sentence in self._focus:
            return self._focus[sentence]
        self._focus[sentence] = None
        s0, s1, _ = self.sentences[sentence]
        found: str | None = None
        for verb in REPORTING_VERB.finditer(self.masked, s0, s1):
            subject = self.subject_of(verb, s0, s1)
            if subject is not None and subject.kind in ("person", "pronoun"):
                found = self.resolve(subject, sentence)
                if found is not None:
                    break
        if found is None:
            subject = self._clause_subject(s0, s1)
            found = subject.text if subject is not None else None
        self._focus[sentence] = found
        return found


def _preceded_ok(words: list[re.Match[str]], i: int) -> bool:
    return i == 0 or words[i - 1].group(0).lower() not in _OBJECT_MARKERS


def _last_word(text: str) -> str:
    words = _WORD.findall(text[-40:])
    return words[-1].lower() if words else ""


def _person_after(masked: str, pos: int, end: int) -> Subject | None:
    """The speaker in '..., says Ambassador to Canada Oleg Stepanov' or
    '," said Dion spokesman Joseph Pickerill in email to ...': the last person named
    before the phrase moves on (punctuation, or a preposition after a name)."""
    tail = masked[pos:end]
    cut = re.search(r"[,.;:·\"”]", tail)
    tail = tail[: cut.start()] if cut else tail
    found: Subject | None = None
    last_end = 0
    for run in RUN.finditer(tail):
        if found is not None and _PREPOSITION_GAP.search(tail[last_end : run.start()]):
            break
        named = classify(run.group(0))
        if named is not None and named[0] == "person":
            found = Subject(named[1], "person", pos + run.start())
        last_end = run.end()
    return found


def _name_in_phrase(phrase: str) -> str | None:
    """The person named in 'spokesperson Maeva Proteau', else the phrase as a body's name."""
    runs = [classify(m.group(0)) for m in RUN.finditer(phrase)]
    for named in reversed(runs):
        if named is not None and named[0] == "person":
            return named[1]
    cleaned = phrase.strip()
    if not cleaned or not any(c.isupper() for c in cleaned):
        return None
    return re.sub(r"^(?:the|a|an)\s+", "", cleaned, flags=re.IGNORECASE)


def _strip_token(token: str) -> str:
    return re.sub(r"['’]s$|['’]$", "", token.strip("[]"))


@lru_cache(maxsize=8192)
def classify(run: str) -> tuple[Literal["person", "org", "place"], str] | None:
    """What a capitalised run names: ("person", "Sergey Lavrov") for "Russian Foreign
    Minister Sergey Lavrov", ("org", ...), ("place", ...), or None (titles, dates, ...)."""
    tokens = [_strip_token(t) for t in run.split()]
    tokens = [t for t in tokens if t]
    while tokens and tokens[0].lower() in _LEADING_STOP:
        tokens = tokens[1:]
    if not tokens:
        return None
    whole = " ".join(tokens)
    lowered = [t.lower() for t in tokens]
    if any(t in _ORG_WORDS for t in lowered):
        return ("org", whole)
    if lowered[0] in _COMPASS or whole in _REGIONS:
        return ("place", whole)
    if len(tokens) == 1 and run.split()[0].lower() in {"the", "a", "an"}:
        return ("org", whole)  # "the Liberals": names of people take no article
    if to_iso3(whole) is not None:
        return ("place", whole)
    # Drop leading titles and demonyms: what is left is the name proper.
    k = 0
    while k < len(tokens) and (lowered[k] in _TITLE_WORDS or to_iso3(tokens[k]) is not None):
        k += 1
    rest = tokens[k:]
    while rest and rest[-1].lower() in _NOT_NAMES:
        rest = rest[:-1]
    if not rest:
        return None
    if any(to_iso3(t) is not None for t in rest) or any(t.lower() in _TITLE_WORDS for t in rest):
        return ("org", whole)
    if any(any(c.isdigit() for c in t) for t in rest) or all(len(t) < 2 for t in rest):
        return None
    if any(t.lower() in _NOT_NAMES or t.lower() in _LEADING_STOP for t in rest):
        return None
    if any(len(t) >= 2 and t.isupper() for t in rest):
        return ("org", whole)
    return ("person", " ".join(rest))


def name_tokens(name: str) -> list[str]:
    """The words of a name that identify someone: titles, demonyms and 'the' dropped."""
    return list(_name_tokens(name))


@lru_cache(maxsize=8192)
def _name_tokens(name: str) -> tuple[str, ...]:
    out = []
    for token in re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", name.translate(_TRANSLATE)):
        lower = _strip_token(token).lower()
        if lower in _TITLE_WORDS or lower in _LEADING_STOP or to_iso3(token) is not None:
            continue
        out.append(lower)
    return tuple(out)


def same_person(a: str, b: str) -> bool:
    """True when two ways of naming someone share a distinctive word ("Shoigu", "Sergei Shoigu")."""
    ta, tb = set(_name_tokens(a)), set(_name_tokens(b))
    if not ta or not tb:
        return _fold(a).strip() == _fold(b).strip()
    return bool(ta & tb)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[^\n]*\S[^\n]*", text)]


def _quote_regions(text: str, paragraphs: list[tuple[int, int]]) -> list[QuoteRegion]:
    """Quotations, paragraph by paragraph: straight and curly double quotes, curly singles.

    Straight quotes are paired by position, with a mark that looks like a closer while no
    quote is open taken as stray; an unclosed quote runs to the end of its paragraph.
    """
    regions: list[QuoteRegion] = []
    for number, (p0, p1) in enumerate(paragraphs):
        open_at = -1
        single = False
        for m in _QUOTE_CHARS.finditer(text, p0, p1):
            i = m.start()
            c = text[i]
            prev = text[i - 1] if i > p0 else " "
            nxt = text[i + 1] if i + 1 < p1 else " "
            if c in "‘’":
                if open_at < 0 and c == "‘" and not prev.isalnum() and nxt.isalnum():
                    open_at, single = i, True
                elif open_at >= 0 and single and c == "’" and not nxt.isalnum():
                    regions.extend(_region(text, open_at, i, number))
                    open_at = -1
                continue
            if open_at >= 0 and single:
                continue
            if open_at < 0:
                looks_closing = not prev.isspace() and prev not in "([{—–-" and not nxt.isalnum()
                if c in _CLOSERS and not (prev.isspace() and nxt.isalnum()):
                    continue
                if c not in _OPENERS and c not in _CLOSERS and looks_closing:
                    continue  # a stray closing mark
                open_at, single = i, False
            else:
                regions.extend(_region(text, open_at, i, number))
                open_at = -1
        if open_at >= 0:
            regions.extend(_region(text, open_at, p1, number))
    return regions


def _region(text: str, open_at: int, close: int, paragraph: int) -> list[QuoteRegion]:
    start, end = open_at + 1, close
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end <= start or not any(c.isalnum() for c in text[start:end]):
        return []
    return [QuoteRegion(open_at, close, start, end, paragraph)]


def _mask(text: str, regions: list[QuoteRegion]) -> str:
    """Quoted words -> '·' (a final . ! ? is kept so that sentences still end)."""
    out: list[str] = []
    pos = 0
    for r in regions:
        end = r.end - 1 if text[r.end - 1] in ".!?" else r.end
        out.append(text[pos : r.start])
        out.append(_MASK * (end - r.start))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _sentences(masked: str, paragraphs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
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
    return word.lower() in _ABBREVIATIONS or bool(re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", word))


@lru_cache(maxsize=16)
def analyse(text: str) -> Document:
    """Read an article text once: paragraphs, quotations, sentences (cached per text)."""
    paragraphs = _paragraphs(text)
    regions = _quote_regions(text, paragraphs)
    masked = _mask(text, regions)
    sentences = _sentences(masked, paragraphs) or [(0, len(text), 0)]
    return Document(
        text=text,
        paragraphs=paragraphs or [(0, len(text))],
        regions=regions,
        masked=masked,
        sentences=sentences,
        _sentence_starts=[s[0] for s in sentences],
        _region_starts=[r.open for r in regions],
    )


# --- Quotes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    """Where a quote is in the source: ``text[start:end]`` are the source's own words."""

    start: int
    end: int
    kind: Literal["exact", "snapped"]
    score: float
    """100 for an exact match; the ``fuzz.ratio`` of a snapped one."""

    @property
    def span(self) -> tuple[int, int]:
        return (self.start, self.end)


def find_quote(quote: str, text: str) -> Match | None:
    """Where ``quote`` occurs in ``text``: exact after normalisation, else snapped, else None.

    >>> find_quote("create problems for France", 'He said "it will create problems for France."')
    Match(start=17, end=43, kind='exact', score=100.0)
    """
    doc = analyse(text)
    q = _quote_key(quote)
    if not q:
        return None
    return _find_exact(doc, q) or _find_exact(doc, q.strip(_EDGE_PUNCT)) or _find_fuzzy(doc, q)


def _quote_key(quote: str) -> str:
    return normalise(quote).strip(" \"'")


def _trimmed(
    doc: Document, start: int, end: int, kind: Literal["exact", "snapped"], score: float
) -> Match | None:
    text = doc.text
    while start < end and (
        text[start].isspace() or text[start] in _DOUBLE_QUOTES or text[start] in "‘’'`"
    ):
        start += 1
    while end > start and (
        text[end - 1].isspace() or text[end - 1] in _DOUBLE_QUOTES or text[end - 1] in "‘"
    ):
        end -= 1
    if end <= start:
        return None
    return Match(start, end, kind, score)


def _bounded(norm: str, start: int, end: int) -> bool:
    if norm[start].isalnum() and start > 0 and norm[start - 1].isalnum():
        return False
    return not (norm[end - 1].isalnum() and end < len(norm) and norm[end].isalnum())


def _occurrences(doc: Document, q: str, lo: int = 0, hi: int | None = None) -> Iterator[int]:
    norm = doc.normalised.norm
    hi = len(norm) if hi is None else hi
    pos = norm.find(q, lo, hi)
    n = 0
    while pos != -1 and n < _MAX_OCCURRENCES:
        if _bounded(norm, pos, pos + len(q)):
            yield pos
        n += 1
        pos = norm.find(q, pos + 1, hi)


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
            return _trimmed(doc, *span, "exact", 100.0)
        first = first or span
    return _trimmed(doc, *first, "exact", 100.0) if first else None


def _find_parts(
    doc: Document, q: str, lo: int = 0, hi: int | None = None, depth: int = 0
) -> list[Match] | None:
    """A quote that runs across an attribution ("A," he said, "B"), as its exact parts."""
    words = q.split(" ")
    if len(words) < 4 or depth > 2:
        return None
    for k in range(len(words) - 2, 1, -1):
        head = " ".join(words[:k]).rstrip(_EDGE_PUNCT)
        tail = " ".join(words[k:]).strip(_EDGE_PUNCT)
        if len(head) < 8 or len(tail) < 8:
            continue
        for pos in _occurrences(doc, head, lo, hi):
            end = pos + len(head)
            limit = end + SPLIT_MAX_GAP + len(tail)
            first = _trimmed(doc, *doc.normalised.source_span(pos, end), "exact", 100.0)
            rest: list[Match] | None = None
            nxt = next(_occurrences(doc, tail, end, limit), None)
            if nxt is not None:
                match = _trimmed(
                    doc, *doc.normalised.source_span(nxt, nxt + len(tail)), "exact", 100.0
                )
                rest = [match] if match else None
            else:
                rest = _find_parts(doc, tail, end, limit, depth + 1)
            if first and rest and _between_quotes(doc.text, first.end, rest[0].start):
                return [first, *rest]
    return None


def _between_quotes(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` closes one quotation and opens another."""
    return end - start <= SPLIT_MAX_GAP and any(c in _DOUBLE_QUOTES for c in text[start:end])


def _find_fuzzy(doc: Document, q: str) -> Match | None:
    if len(q) < SNAP_MIN_CHARS or len(q.split(" ")) < 3:
        return None
    norm = doc.normalised.norm
    if len(q) > len(norm):
        return None
    found = fuzz.partial_ratio_alignment(q, norm, score_cutoff=_SNAP_SEARCH_CUTOFF)
    if found is None:
        return None
    lo, hi = found.dest_start, found.dest_end
    starts = [i for i in range(max(0, lo - _SNAP_WINDOW), min(len(norm), lo + _SNAP_WINDOW))
              if norm[i].isalnum() and (i == 0 or not norm[i - 1].isalnum())]  # fmt: skip
    ends = [i for i in range(max(1, hi - _SNAP_WINDOW), min(len(norm), hi + _SNAP_WINDOW) + 1)
            if norm[i - 1].isalnum() and (i == len(norm) or not norm[i].isalnum())]  # fmt: skip
    best: tuple[float, int, int] | None = None
    core = q.strip(_EDGE_PUNCT)
    for s in starts:
        for e in ends:
            if e - s < len(core) // 2:
                continue
            score = fuzz.ratio(core, norm[s:e])
            if best is None or score > best[0]:
                best = (score, s, e)
    if best is None or best[0] < SNAP_MIN_SCORE:
        return None
    score, s, e = best
    # Keep the source's closing punctuation when the quote had it ("... itself,").
    while e < len(norm) and norm[e] in ".,;:!?" and q.endswith(norm[e]):
        e += 1
    return _trimmed(doc, *doc.normalised.source_span(s, e), "snapped", round(score, 1))


def _short(text: str, limit: int = 120) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


# --- Names, countries, dates ------------------------------------------------------------


def name_attested(name: str, doc: Document) -> bool:
    """True if the name, or its last word (a surname), occurs in the text."""
    if _fold(" ".join(name.split())) in doc.normalised.norm:
        return True
    tokens = name_tokens(name)
    return bool(tokens) and tokens[-1] in doc.words


def normalise_country(value: str | None) -> tuple[str | None, str | None]:
    """(ISO alpha-3 or None, warning or None) for a participant's country field."""
    if value is None or not value.strip():
        return None, None
    if is_iso3(value):
        return value, None
    code = to_iso3(value)
    if code is not None:
        return code, f"country_normalised: {value!r} -> {code}"
    return None, f"country_invalid: {value!r} is not an ISO 3166-1 alpha-3 code; set to null"


def _parse_iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def resolve_date(value: str | None, published: str | None) -> tuple[str | None, str | None]:
    """(ISO date or None, warning or None): relative dates resolved against ``published``.

    >>> resolve_date("Thursday", "2023-03-02")
    ('2023-03-02', "date_resolved: 'Thursday' -> 2023-03-02 (published 2023-03-02)")
    """
    if value is None or not value.strip():
        return None, None
    raw = value.strip()
    if _ISO_DATE.match(raw):
        if len(raw) == 10 and _parse_iso(raw) is None:
            return None, f"date_unresolved: {raw!r} is not a valid date; set to null"
        return raw, None
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", raw) and _parse_iso(raw[:10]):
        return raw[:10], None
    pub = _parse_iso(published[:10]) if published else None
    absolute = _absolute_date(raw, pub)
    if absolute is not None:
        return absolute, f"date_resolved: {raw!r} -> {absolute}"
    m = _RELATIVE.search(raw)
    if m:
        if pub is None:
            return (
                None,
                f"date_unresolved: {raw!r} is relative and the publication date is unknown; "
                "set to null",
            )
        resolved = _relative_date(m, pub)
        return (
            resolved.isoformat(),
            f"date_resolved: {raw!r} -> {resolved.isoformat()} (published {pub.isoformat()})",
        )
    return None, f"date_unresolved: {raw!r} is not a date; set to null"


def _absolute_date(raw: str, pub: date | None) -> str | None:
    m = _DATE_MY.match(raw)
    if m:
        return f"{int(m.group(2)):04d}-{_MONTHS[m.group(1).lower()]:02d}"
    for pattern, month_group, day_group in ((_DATE_MDY, 1, 2), (_DATE_DMY, 2, 1)):
        m = pattern.search(raw)
        if not m:
            continue
        month = _MONTHS[m.group(month_group).lower()]
        day = int(m.group(day_group))
        year = int(m.group(3)) if m.group(3) else (pub.year if pub else None)
        if year is None:
            return None
        try:
            found = date(year, month, day)
        except ValueError:
            return None
        if not m.group(3) and pub is not None and found > pub + timedelta(days=31):
            found = found.replace(year=year - 1)
        return found.isoformat()
    return None


def _relative_date(m: re.Match[str], pub: date) -> date:
    rel = (m.group("rel") or "").lower()
    if rel:
        return pub + timedelta(days={"yesterday": -1, "tomorrow": 1}.get(rel, 0))
    target = _WEEKDAYS.index(m.group("day").lower())
    mod = (m.group("mod") or "").lower()
    back = (pub.weekday() - target) % 7
    if mod in ("next", "coming"):
        return pub + timedelta(days=(target - pub.weekday()) % 7 or 7)
    if mod in ("last", "past", "this past"):
        return pub - timedelta(days=back or 7)
    return pub - timedelta(days=back)


# --- Grounding a summary ----------------------------------------------------------------


def ground_summary(
    summary: ModelSummary, text: str, *, published: str | None = None, strict: bool = False
) -> tuple[Summary, list[str]]:
    """Align a backend's summary to ``text``; return the grounded ``Summary`` and warnings."""
    doc = analyse(text)
    warnings: list[str] = []
    quotes = _ground_quotes(summary.quotes, doc, strict, warnings)

    participants: list[Participant] = []
    for p in summary.participants:
        if not name_attested(p.name, doc):
            warnings.append(
                f"name_unattested: participant {p.name!r} does not occur in the article"
            )
        country, note = normalise_country(p.country)
        if note:
            warnings.append(f"{note} (participant {p.name!r})")
        participants.append(p.model_copy(update={"country": country}))

    event_date, note = resolve_date(summary.event.date, published)
    if note:
        warnings.append(note)
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
    model_quotes: list[ModelQuote], doc: Document, strict: bool, warnings: list[str]
) -> list[Quote]:
    out: list[Quote] = []
    seen: set[tuple[int, int]] = set()
    checked_speakers: set[str] = set()
    for mq in model_quotes:
        if mq.speaker and mq.speaker not in checked_speakers:
            checked_speakers.add(mq.speaker)
            if not name_attested(mq.speaker, doc):
                warnings.append(
                    f"name_unattested: speaker {mq.speaker!r} does not occur in the article"
                )
        q = _quote_key(mq.text)
        if not q:
            warnings.append("quote_dropped: an empty quote")
            continue
        taken = frozenset(seen)
        match = _find_exact(doc, q, taken) or _find_exact(doc, q.strip(_EDGE_PUNCT), taken)
        matches: list[Match] = [match] if match else []
        if not matches:
            parts = _find_parts(doc, q)
            if parts:
                matches = parts
                warnings.append(
                    f"quote_split: {_short(mq.text)!r} runs across an attribution in the source; "
                    f"kept as {len(parts)} grounded parts"
                )
        if not matches:
            snapped = _find_fuzzy(doc, q)
            if snapped:
                matches = [snapped]
                warnings.append(
                    f"quote_snapped: {_short(mq.text)!r} is not verbatim; snapped to the source's "
                    f"words {_short(doc.text[snapped.start : snapped.end])!r} "
                    f"(similarity {snapped.score:.0f})"
                )
        if not matches:
            if strict:
                warnings.append(
                    f"quote_dropped: {_short(mq.text)!r} is not in the article (strict)"
                )
            else:
                warnings.append(f"quote_ungrounded: {_short(mq.text)!r} is not in the article")
                out.append(Quote(speaker=mq.speaker, text=mq.text, span=None, grounded=False))
            continue
        for m in matches:
            if m.span in seen:
                warnings.append(
                    f"quote_duplicate: {_short(doc.text[m.start : m.end])!r} given twice; kept once"
                )
                continue
            seen.add(m.span)
            _check_speaker(mq.speaker, m, doc, warnings)
            out.append(
                Quote(
                    speaker=mq.speaker, text=doc.text[m.start : m.end], span=m.span, grounded=True
                )
            )
    return out


def _check_speaker(speaker: str | None, m: Match, doc: Document, warnings: list[str]) -> None:
    region = doc.region_containing(m.start, m.end)
    quoted = _short(doc.text[m.start : m.end], 50)
    if region is None:
        warnings.append(
            f"quote_unmarked: {quoted!r} is in the article but not between quotation marks"
        )
        return
    attributed = doc.speaker(region)
    if speaker and attributed and not same_person(speaker, attributed):
        warnings.append(
            f"speaker_mismatch: {quoted!r} is attributed to {attributed!r} in the article, "
            f"not {speaker!r}"
        )
