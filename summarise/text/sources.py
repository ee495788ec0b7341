"""Sources: who a quote's attribution names when it gives no name, and titles as data.

"a spokesman for the ministry said", "said one official", "diplomats said": the speaker
is kept as the article words it. "the minister said", "the Russian diplomat said": a
definite description, which the reader resolves to the most recent named person it fits
(``fits``). A title can also give a country on its own ("Secretary of State" -> USA).
The words are in ``vocabulary``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from summarise.text.countries import DEMONYMS, FRENCH, to_iso3
from summarise.text.names import classify, same_person
from summarise.text.vocabulary import (
    EVIDENCE_ONLY_TITLES,
    FRENCH_DEFINITE,
    FRENCH_SOURCE_ADJECTIVES,
    FRENCH_SOURCE_NOUNS,
    FRENCH_SOURCE_OPENERS,
    FRENCH_UNNAMED_HEADS,
    FRENCH_WEEKDAYS,
    HONORIFICS,
    OBJECT_MARKERS,
    SOURCE_MODIFIERS,
    SOURCE_NOUNS,
    SOURCE_OPENERS,
    TITLE_COUNTRIES,
    TITLE_OBJECTS,
    TITLE_WORDS,
    UNNAMED_HEADS,
)


@dataclass(frozen=True)
class Titled:
    """A person introduced with a title: "Russian Foreign Minister Sergey Lavrov"."""

    name: str
    role: str
    country: str | None
    """From the words before the title ("Russian", "U.S.") or the title itself."""
    start: int


def _alternation(words: frozenset[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_OPENER = rf"(?i:{_alternation(SOURCE_OPENERS)})"
_MODIFIER = rf"(?:(?i:{_alternation(SOURCE_MODIFIERS)})|[A-Z][\w.'’-]*)"
_NOUN = rf"(?i:{_alternation(SOURCE_NOUNS)})"
# "for the ministry", "at the State Department", "of the Russian Foreign Ministry".
_COMPLEMENT = (
    r"(?:\s+(?:for|from|at|of|in|with|to)\s+(?:the\s+)?"
    r"(?:[A-Z][\w.'’-]*|ministry|department|government|embassy|administration)"
    r"(?:\s+[A-Z][\w.'’-]*){0,3})?"
)
_PHRASE = rf"(?:{_OPENER}\s+)?(?:{_MODIFIER}\s+){{0,4}}{_NOUN}(?!\w){_COMPLEMENT}"
# Where the words after an inverted verb stop naming its subject: not the period of
# "Mr." ('said Mr. Reeves, a senior fellow').
PHRASE_END = re.compile(r"[,;:·\"”]|" + "".join(rf"(?<!\b{t})" for t in HONORIFICS) + r"\.")
# French "M." opening the subject ("a déclaré M. Lavrov"); not "Robert M. Danin".
FRENCH_HONORIFIC = re.compile(r"\s*(?:M|Mme|Mlle)\.\s+(?=[A-Z])")
_TITLE_OBJECT = re.compile(rf"^(?:(?:{'|'.join(TITLE_OBJECTS)})\s+)+")
_BEFORE = re.compile(rf"(?:^|(?<=[\s,;:·\"”(]))(?P<phrase>{_PHRASE})\s*$")
_AFTER = re.compile(rf"\s+(?P<phrase>{_PHRASE})(?=\s*(?:[,.;:·\"”]|$|\s+(?:in|on|at)\b))")
# French puts the adjectives after the noun: "une responsable américaine", "de nombreux
# députés égyptiens", "cette responsable".
_FRENCH_DEMONYMS = frozenset(w for w in FRENCH if w.islower())
_FR_ADJECTIVE = rf"(?:{_alternation(FRENCH_SOURCE_ADJECTIVES | _FRENCH_DEMONYMS)})(?!\w)"
_FR_INDEFINITE = r"(?i:de\s+nombreu(?:x|ses)|une?|des|plusieurs|certaine?s|deux|trois|quelques)"
_FR_PHRASE = (
    rf"(?<!\w)(?i:{_alternation(frozenset(FRENCH_SOURCE_OPENERS))})(?:(?<=['’])|\s+)"
    rf"(?:(?i:haute?s?)\s+)?(?i:{_alternation(FRENCH_SOURCE_NOUNS)})(?!\w)"
    rf"(?:\s+{_FR_ADJECTIVE}){{0,2}}"
)
_FR_BEFORE = re.compile(rf"(?P<phrase>{_FR_PHRASE})\s*$")
# '..., a dit jeudi cette responsable à des journalistes'.
_FR_AFTER = re.compile(rf"\s+(?:(?:{'|'.join(FRENCH_WEEKDAYS)})\s+)?(?P<phrase>{_FR_PHRASE})")
_FR_OPENING = re.compile(rf"\s*(?P<phrase>{_FR_PHRASE})")


def source_before(left: str) -> re.Match[str] | None:
    """An unnamed source or description ending ``left`` (the words before a verb)."""
    m = _BEFORE.search(left[-160:])
    if m is not None and _acceptable(m.group("phrase")):
        return m
    return _FR_BEFORE.search(left[-160:])


def source_after(tail: str) -> re.Match[str] | None:
    """An unnamed source or description right after an inverted verb ('said one official')."""
    m = _AFTER.match(tail)
    return m if m is not None and _acceptable(m.group("phrase")) else _FR_AFTER.match(tail)


def source_opening(clause: str) -> re.Match[str] | None:
    """A French unnamed source opening ``clause``: "De nombreux députés égyptiens"."""
    return _FR_OPENING.match(clause)


def _acceptable(phrase: str) -> bool:
    """An opener ("a", "one", "the"), or a bare plural ("diplomats"): not a lone noun."""
    first = phrase.split()[0].lower()
    return first in SOURCE_OPENERS or phrase.split()[-1].lower().endswith("s")


def is_unnamed(speaker: str) -> bool:
    """True for a speaker worded as a description ("a senior official"), not a name."""
    words = speaker.split()
    return bool(words) and (words[0].lower() in SOURCE_OPENERS or speaker[0].islower())


def is_definite(phrase: str) -> bool:
    """'the minister', 'cette responsable' refer to someone already met; 'a minister' does not."""
    first = phrase.split()[0].lower()
    return first == "the" or first in FRENCH_DEFINITE or first.startswith(("l'", "l’"))


def fits(phrase: str, role: str, country: str | None) -> bool:
    """True when a person with ``role`` and ``country`` fits the description ``phrase``:
    its title words are in the role, its demonyms name the country ("the Russian
    diplomat" fits Russia's Foreign Minister; "the minister" does not fit a president).
    A counterpart holds the title of whom they met: "the Turkish president" fits "his
    Turkish counterpart" (the country named, not the title)."""
    if _head(phrase) in UNNAMED_HEADS | FRENCH_UNNAMED_HEADS:
        return False
    role_words = {w.lower() for w in re.findall(r"[\w-]+", role)}
    words = re.findall(r"[\w.'’-]+", phrase.split(" of ")[0].split(" for ")[0])[1:]
    codes = [_country_word(w) for w in words]
    if any(code is not None and code != country for code in codes):
        return False
    if role.lower() in EVIDENCE_ONLY_TITLES and country in codes:
        return True
    # Other words ("diplomat", "official", "président") fit any titled person.
    titles = {w.lower() for w, code in zip(words, codes, strict=True) if code is None}
    return all(w.rstrip("s") in role_words or w in role_words for w in titles & TITLE_WORDS)


def _country_word(word: str) -> str | None:
    """The country a word of a description names ("Russian", "ukrainien"), or None."""
    return to_iso3(word) if word[0].isupper() or word.lower() in _FRENCH_DEMONYMS else None


def title_country(role: str) -> str | None:
    """The country a title names on its own ("Secretary of State" -> USA), or None."""
    return TITLE_COUNTRIES.get(role.lower())


def described(
    people: list[Titled],
    phrase: str,
    pos: int,
    spans: Callable[[str], list[tuple[int, int]]],
) -> str | None:
    """The titled person ``phrase`` fits who was mentioned last before ``pos``
    (``spans`` gives where a casefolded word occurs): "the minister" after Lavrov."""
    best: tuple[int, str] | None = None
    for person in people:
        if person.start >= pos or not fits(phrase, person.role, person.country):
            continue
        last = max((s for s, _ in spans(person.name.split()[-1].casefold()) if s < pos), default=-1)
        if best is None or last > best[0]:
            best = (last, person.name)
    return best[1] if best is not None else None


def stated_country(people: list[Titled], name: str) -> str | None:
    """The one country the article's titles give the person ``name``; None when they
    give none or disagree."""
    codes = {p.country for p in people if p.country is not None and same_person(name, p.name)}
    return codes.pop() if len(codes) == 1 else None


def _head(phrase: str) -> str:
    """The noun a description is about: "official" in "the senior official at the UN"."""
    words = re.split(r"\s+|(?<=['’])", phrase.split(" of ")[0].lower())
    nouns = [w for w in words if w in SOURCE_NOUNS or w in FRENCH_SOURCE_NOUNS]
    return nouns[0] if nouns else ""


def antecedent(before: str, phrase: str) -> str | None:
    """The unnamed source "the official" goes back to: the last "one official", "a senior
    official" in ``before``; None when there is none."""
    head = _head(phrase)
    english = phrase.split()[0].lower() == "the"
    if english and head in UNNAMED_HEADS:
        pattern = rf"\b(?i:an?|one)\s+(?:{_MODIFIER}\s+){{0,3}}{re.escape(head)}\b"
    elif not english and head in FRENCH_UNNAMED_HEADS:  # "cette responsable" -> "une ..."
        pattern = (
            rf"(?<!\w){_FR_INDEFINITE}\s+(?:(?i:haute?s?)\s+)?{re.escape(head.rstrip('s'))}s?"
            rf"(?!\w)(?:\s+{_FR_ADJECTIVE}){{0,2}}"
        )
    else:
        return None
    found = [m.group(0) for m in re.finditer(pattern, before[-3000:])]
    return found[-1] if found else None


def not_a_speaker(name: str) -> bool:
    """A demonym, an adjective, or a place that is no country ("American", "European",
    "Siberia"); a country ("China rejected ...") speaks for its government."""
    named = classify(name)
    if named is None or named[0] != "place":
        return False
    return to_iso3(name) is None or name in DEMONYMS


def titled_people(
    masked: str, role_name: re.Pattern[str], pre_run: re.Pattern[str]
) -> list[Titled]:
    """People introduced with a title (``role_name`` matches, the reader's ``ROLE_NAME``),
    with the country the run before the title gives (``pre_run``: "Russian", "U.S.",
    "Kremlin") or the title itself implies."""
    people = []
    for m in role_name.finditer(masked):
        named = classify(m.group("name"))
        if named is None or named[0] != "person":
            continue
        pre = pre_run.search(masked, max(0, m.start() - 60), m.start())
        run = pre.group("run") if pre is not None else ""
        country = (to_iso3(run) or to_iso3(run.split()[0])) if run else None
        if country is None and (m.group("adj") or m.group("adj2")):  # "le président français"
            country = to_iso3(m.group("adj") or m.group("adj2"))
        if country is None and not m.group("prep"):
            country = title_country(m.group("role"))
        people.append(Titled(named[1], m.group("role"), country, m.start("name")))
    return people


def without_title_object(run: str) -> str:
    """A run after "of" without what the title was of: "State Antony Blinken" (in
    "Secretary of State Antony Blinken") -> "Antony Blinken"."""
    return _TITLE_OBJECT.sub("", run)


def not_an_object(words: list[re.Match[str]], i: int) -> bool:
    """Word ``i`` of ``words`` is not an object: "told Lavrov" is one, "Secretary of
    State Blinken" is not."""
    before = words[i - 1].group(0).lower() if i else ""
    if before == "of" and i >= 2 and words[i - 2].group(0).lower() in TITLE_WORDS:
        return True
    return before not in OBJECT_MARKERS


def referent(
    phrase: str,
    before: str,
    people: list[Titled],
    spans: Callable[[str], list[tuple[int, int]]],
) -> str:
    """Who a source worded ``phrase`` after the text ``before`` is: "the minister" the
    titled person it fits, "the official" the "one official" before; else as worded."""
    if not is_definite(phrase):
        return phrase
    return described(people, phrase, len(before), spans) or antecedent(before, phrase) or phrase
