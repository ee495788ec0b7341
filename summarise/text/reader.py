"""Reader: one article text read once into what grounding and the offline extractor share.

``analyse(text)`` gives a ``Document``: paragraphs, quotations (``QuoteRegion``), a copy
of the text with quoted words masked (what is said *about* the quotes), sentences that
never end inside a quote, and who the source says spoke each quotation (reporting verbs
on either side, "quoted X as", "a statement from X", pronouns resolved to the person the
text is about). The vocabulary is in ``vocabulary``; names are read by ``names``.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from summarise.text.countries import FRENCH
from summarise.text.find import find_word
from summarise.text.names import RUN, RUN_AT_END, RUN_SRC, classify
from summarise.text.normalise import WORD, Normalised, normalise_with_offsets, plain
from summarise.text.quotes import QuoteRegion, quote_regions
from summarise.text.sentences import split_sentences
from summarise.text.sources import (
    FRENCH_HONORIFIC,
    PHRASE_END,
    Titled,
    not_a_speaker,
    not_an_object,
    referent,
    source_after,
    source_before,
    source_opening,
    titled_people,
    without_title_object,
)
from summarise.text.vocabulary import (
    BETWEEN,
    CLAUSE_LINKS,
    CONTRAST_LINKS,
    FRENCH_INVERTED,
    FRENCH_PARTICIPLES,
    FRENCH_PREPOSITIONS,
    FRENCH_TITLES,
    FRENCH_VERB_ADVERBS,
    INVERTIBLE,
    LEADING_STOP,
    OBJECT_MARKERS,
    PARTICIPLES,
    PRONOUNS,
    REPORTING_VERBS,
    ROLE_TITLES,
    STRESSED_PRONOUNS,
)

# --- Regexes (compiled once) ------------------------------------------------------------

_FRENCH_ADVERB = "|".join(FRENCH_VERB_ADVERBS)
REPORTING_VERB = re.compile(
    r"\b(?:" + "|".join(sorted(REPORTING_VERBS, key=len, reverse=True)) + r"|issued a statement"
    rf"|(?:a|ont|avait|avaient)(?:,?\s+(?:{_FRENCH_ADVERB}),?)+\s+(?:{'|'.join(FRENCH_PARTICIPLES)}))\b"
)
_ADVERB_IN_VERB = re.compile(rf",?\s+(?:{_FRENCH_ADVERB}),?(?=\s)")
_QUOTED_AS = re.compile(rf"\bquoted\s+(?:the\s+)?({RUN_SRC})\s+as\b")
_STATEMENT_BY = re.compile(
    r"\b(?:statement|readout|communiqu[eé])\s+(?:issued\s+)?(?:by|from)\s+(?:the\s+)?"
    r"([^,.;\"·]{3,90}?)\s+(?:said|says|reads|read|stated|states|added)\b"
)
_ACCORDING_TO = re.compile(
    r"\baccording\s+to\s+(?:an?\s+(?:statement|readout|report)\s+(?:from|by)\s+)?(?:the\s+)?"
    r"([^,.;\"·]{2,80})"
    # French: "selon le porte-parole du Kremlin, Dmitri Peskov," (the name may follow).
    rf"|\b(?:[Ss]elon|[Dd]['’]après)\s+([^,.;\"·]{{2,80}}(?:,\s+{RUN_SRC})?)"
    rf"|\bPour\s+({RUN_SRC}),"  # "Pour Sergueï Lavrov, « ... »"
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


# A French demonym may follow the title ("le secrétaire d'État américain Antony Blinken")
# or its head word ("le ministre russe des Affaires étrangères"): both are titles.
_DEMONYMS = [w for w in FRENCH if w.islower()]
_DEMONYM_SRC = _trie(_DEMONYMS)
_SPLIT_TITLES = [t.partition(" ") for t in FRENCH_TITLES if " " in t and t[0].islower()]
_ROLE_SRC = (
    _trie(list(ROLE_TITLES))
    + rf"|(?:{_trie([h for h, _, _ in _SPLIT_TITLES])})\s+(?:{_DEMONYM_SRC})"
    + rf"\s+(?:{_trie([r for _, _, r in _SPLIT_TITLES])})"
)
ROLE_NAME = re.compile(
    rf"\b(?:(?i:former|deputy|acting|top|senior)\s+)?(?P<role>(?i:{_ROLE_SRC}))(?!\w)"
    rf"(?:\s+(?P<adj>{_DEMONYM_SRC})(?!\w))?"
    rf"(?:\s+(?P<prep>to|for|of|at|du|de la|de l['’]|des|de)\s*(?:the\s+)?(?P<of>{RUN_SRC}))?"
    rf"(?:\s+(?P<adj2>{_DEMONYM_SRC})(?!\w))?,?\s+"
    rf"(?P<name>{RUN_SRC})"
)
TITLE_PHRASE = re.compile(
    rf"(?i:le|la|l['’])\s*(?P<role>(?i:{_ROLE_SRC}))(?!\w)(?:\s+(?P<adj>{_DEMONYM_SRC})(?!\w))?"
)
"""A French title standing for its holder: 'le chef de la diplomatie russe'."""
PRE_RUN = re.compile(rf"(?P<run>{RUN_SRC})(?:['’]s)?\.?\s+$")
APPOSITIVE_ROLE = re.compile(
    r",\s+(?:the|a|an)\s+((?:[^,.;·\"]|\.(?!\s+[A-Z]|\s*$))+?)\s*(?:[,;]|\.(?=\s+[A-Z\"“]|\s*$))"
)
# Words between a subject and its verb, and adverbs ("The communique specifically said").
_TRAILINGBETWEEN = re.compile(
    r"(?:\s+(?:" + "|".join(BETWEEN) + r"|(?-i:[a-z]{3,}ly)))+\s*$", re.IGNORECASE
)
_CLAUSE_BREAK = re.compile(r"[–—;:]")

DOUBLE_QUOTES = '"“”„‟«»＂〝〞〟「」『』'
"""Every double quotation mark, straight or curly, opening or closing (and the corner
brackets that are CJK's quotation marks)."""
_MASK = "·"
_PREPOSITION_GAP = re.compile(
    r"\b(?:in|to|on|at|after|before|during|from|for|with|about|when|while|as"
    r"|lors|devant|après|avant|pendant|dans|pour|avec|en|à|au|aux|sur|depuis)\b"
)
_CONTINUED_PARTS = 6
"""Most paragraphs of one quotation looked through for its attribution."""
_PARAGRAPH = re.compile(r"[^\n]*\S[^\n]*")
# A transcript's speaker label before its quote: 'Chairman Kim: "..."'.
_LABEL = re.compile(r"\s*([^\W\d_][^:·\"“”«»\n]{1,60}?)\s*:\s*$")
# A reporting verb that goes on to what was said ("assure que", "said:"), not "Peskov said.".
_WORDS_AFTER = re.compile(r"\s*:?\s*\w")
_OTHER_CLAUSE = re.compile(rf"[\W·]*\b(?i:{'|'.join(CONTRAST_LINKS)})\b")
# A photo caption ("Tense: U.S. President Barack Obama and ..."): about no one in particular.
_CAPTION = re.compile(r"[A-Z][a-z]+:\s")


@dataclass(frozen=True)
class Subject:
    """Who a clause is about: a name as written, what kind of name it is, and where."""

    text: str
    kind: Literal["person", "org", "place", "pronoun", "source"]
    """``source``: an unnamed source or a description, as worded ("one official")."""
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
    _normalised: Normalised | None = field(default=None, repr=False)
    _plain: tuple[str, str | None] | None = field(default=None, repr=False)
    _word_spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict, repr=False)
    _quote_marks: tuple[list[int], list[int]] | None = field(default=None, repr=False)
    _titled: list[Titled] | None = field(default=None, repr=False)

    # -- lookups

    @property
    def normalised(self) -> Normalised:
        if self._normalised is None:
            self._normalised = normalise_with_offsets(self.text)
        return self._normalised

    @property
    def quote_marks(self) -> tuple[list[int], list[int]]:
        """Offsets of the quotation marks in ``text`` (every double one, and the marks of
        every quotation), and of the same marks in ``normalised.norm``."""
        if self._quote_marks is None:
            norm = self.normalised.norm
            found: dict[int, int] = {}
            pos = norm.find('"')
            while pos != -1:
                s0, s1 = self.normalised.source_span(pos, pos + 1)
                # Not a double prime folded to one; the mark of a folded « spacing ».
                at = s0 if self.text[s0] in DOUBLE_QUOTES else s1 - 1
                if self.text[at] in DOUBLE_QUOTES:
                    found[at] = pos
                pos = norm.find('"', pos + 1)
            for r in self.regions:
                for at in (r.open, r.close):
                    if at < len(self.text) and at not in found:
                        found.setdefault(at, self.normalised.norm_offset(at))
            in_text = sorted(found)
            self._quote_marks = (in_text, [found[at] for at in in_text])
        return self._quote_marks

    def word_spans(self, word: str) -> list[tuple[int, int]]:
        """Spans of the words of the text (``WORD``, quote marks folded) that case-fold
        to ``word`` (for name checks)."""
        if word not in self._word_spans:
            if self._plain is None:
                text = plain(self.text)
                folded = text.casefold()
                # Folding that keeps the length maps character to character ("ß" does not).
                self._plain = (text, folded if len(folded) == len(text) else None)
            self._word_spans[word] = find_word(*self._plain, word)
        return self._word_spans[word]

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
        if found is not None and not_a_speaker(found):
            found = None
        self._speakers[key] = found
        return found

    def _attribute(self, region: QuoteRegion, *, inherit: bool = True) -> str | None:
        first = self.sentence_at(region.open)
        last = self.sentence_at(max(region.open, region.close))
        s0, s1 = self.sentences[first][0], self.sentences[last][1]
        masked = self.masked
        if self._asked(region, last):  # '"Greetings, Mr. President!" Putin said': one sentence
            s1 = self.sentences[last + 1][1]
        m = _QUOTED_AS.search(masked, s0, s1)
        if m:
            named = classify(m.group(1))
            if named is not None:
                return named[1]
        verbs = [v for v in REPORTING_VERB.finditer(masked, s0, s1)]
        m = _STATEMENT_BY.search(masked, s0, s1)
        # "A statement from the ministry said that Wang told Blinken '...'": the nearer cue.
        if m and not any(m.end() < v.start() < region.open for v in verbs):
            return _name_in_phrase(m.group(1))
        if verbs:

            def distance(v: re.Match[str]) -> int:
                if v.end() <= region.open:
                    return region.open - v.end()
                return v.start() - region.close

            for verb in sorted(verbs, key=distance):
                if verb.start() > region.close and _OTHER_CLAUSE.match(masked, region.close + 1):
                    continue  # "his 'reliable friend,' although a spokesman said ...": not his
                subject = self.subject_of(verb, s0, s1)
                if subject is not None:
                    return self.resolve(subject, first)
        m = _ACCORDING_TO.search(masked, s0, s1)
        if m:
            phrase = m.group(1) or m.group(2) or m.group(3)
            if phrase.strip().lower() in STRESSED_PRONOUNS:  # "selon eux": the clause's subject
                return self._opening_subject(s0, m.start(), first)
            return _name_in_phrase(phrase)
        if verbs or not inherit:
            return None
        label = _LABEL.match(masked, s0, region.open)  # a transcript: 'Chairman Kim: "..."'
        runs = list(RUN.finditer(label.group(1))) if label else []
        if runs and label and runs[-1].end() == len(label.group(1)):
            named = classify(runs[-1].group(0))
            if named is not None and named[0] == "person":
                return named[1]
        return self._inherited(region)

    def _asked(self, region: QuoteRegion, last: int) -> bool:
        """The quotation ends its sentence on "!" or "?" and the next sentence of its
        paragraph opens on a reporting verb ('"...!" Putin said')."""
        if last + 1 >= len(self.sentences) or self.sentences[last][1] != region.close + 1:
            return False
        n0, n1, paragraph = self.sentences[last + 1]
        return (
            self.text[region.close - 1] in "!?"
            and paragraph == self.sentences[last][2]
            and REPORTING_VERB.search(self.masked, n0, min(n1, n0 + 40)) is not None
        )

    def _opening_subject(self, s0: int, v: int, sentence: int) -> str | None:
        """The subject a clause opens with: an unnamed source as worded, else a person."""
        source = source_opening(self.masked[s0:v])
        if source is not None:
            subject = Subject(source.group("phrase"), "source", s0 + source.start("phrase"))
            return self.resolve(subject, sentence)
        person = self._clause_subject(s0, v)
        return self.resolve(person, sentence) if person is not None else None

    def _inherited(self, region: QuoteRegion) -> str | None:
        """A quote with no attribution of its own continues the previous speaker's words."""
        i = bisect.bisect_left(self._region_starts, region.open)
        previous = self.regions[i - 1] if i > 0 else None
        if previous is not None and previous.paragraph == region.paragraph:
            return self.speaker(previous)
        # '... Josh Earnest told reporters. "It undermines ..."': the sentence before says who.
        n = self.sentence_at(region.open)
        s0, _, paragraph = self.sentences[n]
        if (
            n
            and self.sentences[n - 1][2] == paragraph
            and not self.masked[s0 : region.open].strip()
        ):
            return self._said_in(n - 1, strict=False)
        # A quote over several paragraphs may be attributed in its last one.
        later = self._continued(region, i)
        p_start = self.paragraphs[region.paragraph][0]
        opens_paragraph = self.text[p_start : region.open].strip() == ""
        if later is not None or not opens_paragraph:
            return later
        if previous is not None and previous.paragraph == region.paragraph - 1:
            return self.speaker(previous)
        fills = self.text[region.close + 1 : self.paragraphs[region.paragraph][1]].strip(".,;»” ")
        if fills or not n or self.sentences[n - 1][2] != paragraph - 1:
            return None
        return self._said_in(n - 1, strict=True)

    def _said_in(self, sentence: int, *, strict: bool) -> str | None:
        """Who sentence ``sentence`` says spoke, for a quotation that follows it. ``strict``
        (a quotation that is the whole next paragraph: "Ali Bongo assure que ..."): a
        person who goes on to say something, in a sentence that quotes no one."""
        s0, s1, _ = self.sentences[sentence]
        if strict and _MASK in self.masked[s0:s1]:
            return None
        for verb in reversed(list(REPORTING_VERB.finditer(self.masked, s0, s1))):
            if strict and not _WORDS_AFTER.match(self.masked, verb.end()):
                continue
            subject = self.subject_of(verb, s0, s1)
            if subject is not None and (not strict or subject.kind in ("person", "pronoun")):
                return self.resolve(subject, sentence)
        return None

    def _continued(self, region: QuoteRegion, i: int) -> str | None:
        """The speaker a later part of the same quotation names: each part runs unclosed
        to its paragraph's end and the next reopens the next paragraph."""
        for _ in range(_CONTINUED_PARTS):
            if region.close != self.paragraphs[region.paragraph][1] or i + 1 >= len(self.regions):
                return None
            region, i = self.regions[i + 1], i + 1
            p_start = self.paragraphs[region.paragraph][0]
            if (
                region.paragraph != self.regions[i - 1].paragraph + 1
                or self.text[p_start : region.open].strip()
                or self.text[region.open] in "—―–"  # dialogue: the next one speaks
            ):
                return None
            found = self._attribute(region, inherit=False)
            if found is not None:
                return found
        return None

    def subject_of(self, verb: re.Match[str], s0: int, s1: int) -> Subject | None:
        """The subject of a reporting verb in sentence ``[s0, s1)``, or None."""
        masked = self.masked
        word = _ADVERB_IN_VERB.sub("", verb.group(0))  # "a également dit" is "a dit"
        if word in FRENCH_INVERTED:  # "a-t-il ajouté": the pronoun in the verb
            return Subject(word.split("-")[-1].split()[0], "pronoun", verb.start())
        if word in INVERTIBLE:
            before = masked[s0 : verb.start()].rstrip()
            if before.endswith((",", '"', "”", "’")):
                named = _person_after(masked, verb.end(), s1)
                if named is not None:
                    return named
                after = source_after(masked[verb.end() : s1])
                if after is not None:
                    return Subject(after.group("phrase"), "source", verb.end() + after.start(1))
        if word in PARTICIPLES:
            # "..., saying" or "and warning": a participle clause; "a warning" is a noun.
            before = masked[s0 : verb.start()].rstrip()
            if (
                word != "saying"
                and not before.endswith(",")
                and _last_word(before) not in CLAUSE_LINKS
            ):
                return None
            return self._clause_subject(s0, verb.start())
        return self._subject_before(s0, verb.start())

    def _subject_before(self, s0: int, v: int) -> Subject | None:
        left = self.masked[s0:v]
        trail = _TRAILINGBETWEEN.search(left)
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
                or not RUN_AT_END.search(segment)
            ):
                left = inner[:comma].rstrip()
            else:
                left = inner.rstrip()
        return self._scan_left(left, s0)

    def _scan_left(self, left: str, s0: int) -> Subject | None:
        """The nearest name or pronoun left of a verb that is not an object, or the
        unnamed source or description the words end in ("the Chinese embassy in Beijing")."""
        source = source_before(left)
        if source is not None:
            start = len(left) - len(source.string) + source.start("phrase")
            return Subject(source.group("phrase"), "source", s0 + start)
        words = list(WORD.finditer(left))
        skipping = linked = False
        link_at = len(left)
        steps = 0
        i = len(words) - 1
        while i >= 0 and steps < 14:
            w = words[i]
            token = w.group(0)
            lower = token.lower()
            if lower in PRONOUNS:
                if not_an_object(words, i):
                    return Subject(token, "pronoun", s0 + w.start())
                skipping = True
            elif token[0].isupper() and lower not in LEADING_STOP:
                run = RUN_AT_END.search(left, 0, w.end())
                run_start = run.start(1) if run else w.start()
                j = i
                while j > 0 and words[j - 1].start() >= run_start:
                    j -= 1
                if linked and _CLAUSE_BREAK.search(left, w.end(), link_at):
                    return None  # "... in New Delhi – and said": another clause
                written = left[run_start : w.end()]
                if j >= 2 and words[j - 1].group(0) == "of":
                    written = without_title_object(written)
                named = classify(written)
                kinds = ("person",) if linked else ("person", "org", "place")
                speaks = named and named[0] in kinds and not not_a_speaker(named[1])
                if named and speaks and not_an_object(words, j):
                    return Subject(named[1], named[0], s0 + run_start)
                skipping = True
                i = j
            elif i == len(words) - 1 and lower in CLAUSE_LINKS:
                skipping = linked = True  # "He reported ... and added": the first verb's subject
                link_at = w.start()
            elif not skipping and lower not in BETWEEN:
                return None  # a common-noun subject ("the talks said"): no name to give
            i -= 1
            steps += 1
        return None

    def _clause_subject(self, s0: int, v: int) -> Subject | None:
        """Subject of the sentence (for participles: 'Xi ..., saying ...')."""
        segment = self.masked[s0:v]
        pos = 0
        for w in WORD.finditer(segment):
            if w.start() < pos:
                continue
            token = w.group(0)
            lower = token.lower()
            if lower in PRONOUNS:
                return Subject(token, "pronoun", s0 + w.start())
            if not token[0].isupper() or lower in LEADING_STOP:
                continue
            run = RUN.match(segment, w.start())
            written = run.group(0) if run else token
            pos = w.start() + len(written)
            if w.start() == 0 and " " not in written and lower.endswith(("ing", "ly", "ed")):
                continue  # "Underscoring the difficulties, ..."
            if written.endswith(("'s", "’s")):
                continue  # "Lavrov's deputy, Sergei Ryabkov, ...": the deputy is the subject
            named = classify(written)
            before = segment[: w.start()].rstrip()
            preceded = "" if before.endswith(",") else _last_word(before)
            if (
                named is not None
                and named[0] == "person"
                and preceded not in OBJECT_MARKERS | FRENCH_PREPOSITIONS
            ):
                return Subject(named[1], "person", s0 + w.start())
        return None

    def resolve(self, subject: Subject, sentence: int) -> str | None:
        """A subject as a name: pronouns become the person the text was about, "the
        minister" the most recent person named with a title it fits."""
        if subject.kind == "source":
            return referent(
                subject.text, self.masked[: subject.start], self.titled(), self.word_spans
            )
        if subject.kind != "pronoun":
            return subject.text
        s0 = self.sentences[sentence][0]
        if subject.start > s0:
            inside = self._clause_subject(s0, subject.start)
            if inside is not None and inside.kind != "pronoun":
                return inside.text
        for back in range(sentence - 1, max(-1, sentence - 5), -1):
            focus = self.focus(back)
            if focus is not None:
                return focus
        return None

    def titled(self) -> list[Titled]:
        """People introduced with a title, in order, with the country the words before
        the title give ("Russian", "U.S.", "Kremlin") or the title itself implies."""
        if self._titled is None:
            self._titled = titled_people(self.masked, ROLE_NAME, PRE_RUN)
        return self._titled

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
        if found is None and not _CAPTION.match(self.masked, s0):
            subject = self._clause_subject(s0, s1)
            found = subject.text if subject is not None and subject.kind != "pronoun" else None
        self._focus[sentence] = found
        return found


def _last_word(text: str) -> str:
    words = WORD.findall(text[-40:])
    return words[-1].lower() if words else ""


def _person_after(masked: str, pos: int, end: int) -> Subject | None:
    """The speaker in '..., says Ambassador to Canada Oleg Stepanov' or
    '," said Dion spokesman Joseph Pickerill in email to ...': the last person named
    before the phrase moves on (punctuation, or a preposition after a name)."""
    tail = masked[pos:end]
    honorific = FRENCH_HONORIFIC.match(tail)
    cut = PHRASE_END.search(tail, honorific.end() if honorific else 0)
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
    unnamed = source_before(cleaned)
    if unnamed is not None and unnamed.start("phrase") == 0:
        return cleaned  # "according to senior defense officials"
    if not cleaned or not any(c.isupper() for c in cleaned):
        return None
    return re.sub(r"^(?:the|a|an)\s+", "", cleaned, flags=re.IGNORECASE)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _PARAGRAPH.finditer(text)]


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


@lru_cache(maxsize=16)
def analyse(text: str) -> Document:
    """Read an article text once: paragraphs, quotations, sentences (cached per text)."""
    paragraphs = _paragraphs(text)
    regions = quote_regions(text, paragraphs)
    masked = _mask(text, regions)
    sentences = split_sentences(masked, paragraphs) or [(0, len(text), 0)]
    return Document(
        text=text,
        paragraphs=paragraphs or [(0, len(text))],
        regions=regions,
        masked=masked,
        sentences=sentences,
        _sentence_starts=[s[0] for s in sentences],
        _region_starts=[r.open for r in regions],
    )
