"""Participants for the offline extractor: who the article names as a person, with role,
affiliation and country as written, and who took part in the event.

Evidence that a capitalised run is a person: a title before it ("Russian Foreign
Minister Sergey Lavrov"), a reporting verb it is the subject of, a full name met again by
surname, a full name in the sentence saying what happened, or a list of full names. A
lone capitalised word with none of these is a common word ("Sources told ..."). What a
run names is ``summarise.text.names``; this module gathers the evidence and merges the
ways of naming one person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from summarise.schema import MAX_PARTICIPANTS, SHORT, Participant
from summarise.text.countries import FRENCH, to_iso3
from summarise.text.names import RUN, RUN_SRC, classify, name_tokens, same_person
from summarise.text.reader import (
    APPOSITIVE_ROLE,
    PRE_RUN,
    REPORTING_VERB,
    ROLE_NAME,
    Document,
)
from summarise.text.sources import title_country
from summarise.text.vocabulary import (
    EVIDENCE_ONLY_TITLES,
    FRENCH_ARTICLES,
    NAME_PREFIXES,
    REPORTING_VERBS,
)

_MET = re.compile(r"\b(?:met|meets)\s+(?:with\s+)?$")
"""Right before a name: whom someone met ("met with Wang"), a person, not a place."""
PERSON_EVIDENCE = frozenset({"role", "speaker", "surname", "lead", "listed", "met"})
"""What shows a name is a person's; a name seen only once, plainly ("named"), is not kept."""
MIN_TYPO_LENGTH = 5
"""Shorter surnames one letter apart are different people ("Kim", "Kin")."""
_PREFIX = re.compile(rf"^(?:{'|'.join(NAME_PREFIXES)})-")
MIN_WRAPS = 2
"""Lines going on in lowercase after a line with no final stop: the text is hard-wrapped."""
_PAIRED = re.compile(
    rf"\b(?P<a>[^\W\d_][\w.]+)\s+(?:et|and)\s+(?P<b>[^\W\d_][\w.]+)\s+[^,.;:·\n]{{3,60}}?,\s+"
    rf"(?P<x>{RUN_SRC})\s+(?:et|and)\s+(?P<y>{RUN_SRC})"
)
"""Two demonyms and two names in the same order: each name has its country."""
_LIST_GAP = re.compile(r",\s+|,?\s+(?:and|et)\s+")
"""What separates the names of a list: "A, B and C", « A, B et C »."""


@dataclass(eq=False)
class Person:
    """A person the article names, and the evidence that they are one."""

    name: str
    first: int
    evidence: set[str] = field(default_factory=set)
    role: str | None = None
    affiliation: str | None = None
    country: str | None = None
    serves: str | None = None
    """Whose aide the title makes them ("Putin spokesman"): they share that one's country."""

    @property
    def surname(self) -> str:
        return self.name.split()[-1]


def participants(people: Sequence[Person], event_words: Sequence[set[str]]) -> list[Participant]:
    """The people as participants, in order of appearance: those present first when
    there are more than the schema allows."""
    surnames = [p.surname for p in people]
    shared = {s for s in surnames if surnames.count(s) > 1}
    present = {id(p): _present(p, event_words, shared) for p in people}
    ranked = sorted(people, key=lambda p: (not present[id(p)], p.first))[:MAX_PARTICIPANTS]
    return [
        Participant(
            name=_cap(p.name),
            role=p.role,
            affiliation=p.affiliation,
            country=p.country,
            present=present[id(p)],
        )
        for p in sorted(ranked, key=lambda p: p.first)
    ]


def people(
    doc: Document, body: Sequence[int], sentences: Sequence[int], event_words: Sequence[set[str]]
) -> list[Person]:
    """The people the body paragraphs name, with the evidence that they are people."""
    masked = doc.masked
    found: dict[str, Person] = {}
    singles: set[str] = set()
    mid_sentence: set[str] = set()  # capitalised where a sentence does not start: a name

    def add(name: str, pos: int, evidence: str) -> Person:
        person = found.get(name)
        if person is None:
            person = found[name] = Person(name, pos)
        person.first = min(person.first, pos)
        person.evidence.add(evidence)
        return person

    flat, blocks = _unwrapped(doc, body)
    for p0, p1 in blocks:
        pos = p0
        while m := ROLE_NAME.search(flat, pos, p1):
            of, name_run = m.group("of"), m.group("name")
            joined = bool(of) and flat[m.end("of") : m.start("name")] == " "
            named = classify(f"{of} {name_run}" if joined else name_run)
            if named is None or named[0] != "person":
                # "Chairman of the Joint Chiefs Gen. CQ Brown": no name, but a title may follow
                pos = m.start("name")
                continue
            pos = m.end()
            person = add(named[1], m.start("name"), "role")
            _take_role(person, m, flat, p0)
        listed: tuple[int, Person] | None = None  # the last full name, and where it ends
        for run in RUN.finditer(flat, p0, p1):
            named = classify(run.group(0))
            if named is None or named[0] != "person":
                listed = None
                continue
            if " " in named[1]:
                person = add(named[1], run.start(), "named")
                _take_appositive(person, flat, run.end())
                if listed is not None and _LIST_GAP.fullmatch(flat, listed[0], run.start()):
                    person.evidence.add("listed")  # "Pachinian, van der Leyen et Borrell"
                    listed[1].evidence.add("listed")
                listed = (run.end(), person)
            else:
                listed = None
                singles.add(named[1])
                if doc.sentences[doc.sentence_at(run.start())][0] != run.start():
                    mid_sentence.add(named[1])
                if _MET.search(flat, max(p0, run.start() - 12), run.start()):
                    add(named[1], run.start(), "met")  # "Sullivan met with Wang in Vienna"

    for i in sentences:
        s0, s1, _ = doc.sentences[i]
        for verb in REPORTING_VERB.finditer(masked, s0, s1):
            subject = doc.subject_of(verb, s0, s1)
            if subject is not None and subject.kind == "person":
                add(subject.text, subject.start, "speaker")

    _paired_countries(found, flat)
    first_event = event_words[0] if event_words else set()
    for person in found.values():
        if " " in person.name and person.surname in first_event:
            person.evidence.add("lead")  # named in full in the sentence saying what happened
        if " " in person.name and person.surname in singles:
            person.evidence.add("surname")
        if (
            " " not in person.name
            and person.name not in mid_sentence
            and "role" not in person.evidence
        ):
            person.evidence.clear()  # "Sources told ...": a capitalised common word
    return _merge(found)


def _paired_countries(found: dict[str, Person], flat: str) -> None:
    """ "Les ministres américain et français ..., Antony Blinken et Jean-Yves Le Drian":
    each name takes the demonym in its place."""
    for m in _PAIRED.finditer(flat):
        countries = to_iso3(m.group("a")), to_iso3(m.group("b"))
        if not all(countries):
            continue
        for written, country in zip((m.group("x"), m.group("y")), countries, strict=True):
            named = classify(written)
            holder = found.get(named[1]) if named and named[0] == "person" else None
            if holder is not None and holder.country is None:
                holder.country = country


def _unwrapped(doc: Document, body: Sequence[int]) -> tuple[str, list[tuple[int, int]]]:
    """The masked text with hard line wraps as spaces (same offsets), and the spans to read
    names in: paragraphs, or the lines a wrap joins. A wire story cut at every line
    ("President Pierre / Languetin") is one the lines of which often go on in lowercase."""
    masked = doc.masked
    spans = [doc.paragraphs[p] for p in body]
    wraps = [
        i
        for i in range(len(spans) - 1)
        if masked[spans[i][1] - 1].isalpha() and not masked[spans[i][0] : spans[i][1]].isupper()
    ]
    if sum(masked[spans[i + 1][0]].islower() for i in wraps) < MIN_WRAPS:
        return masked, spans
    chars = list(masked)
    blocks = spans[:1]
    for i in range(1, len(spans)):
        if i - 1 in wraps and blocks[-1][1] == spans[i - 1][1]:
            chars[spans[i - 1][1] : spans[i][0]] = " " * (spans[i][0] - spans[i - 1][1])
            blocks[-1] = (blocks[-1][0], spans[i][1])
        else:
            blocks.append(spans[i])
    return "".join(chars), blocks


def _take_role(person: Person, m: re.Match[str], masked: str, p0: int) -> None:
    role = m.group("role")
    prep, of = m.group("prep"), m.group("of")
    affiliation: str | None = None
    country: str | None = None
    name_run = m.group("name")
    if prep and of and masked[m.end("of") : m.start("name")] == " ":
        # "Ambassador to Canada Oleg Stepanov": the runs meet; the name is what follows the place.
        named = classify(f"{of} {name_run}")
        if named is not None and named[0] == "person" and f"{of} {name_run}".endswith(named[1]):
            of = f"{of} {name_run}"[: -len(named[1])].strip()
    if prep == "to" and of:
        role = f"{role} to {of}"
    elif prep and of:
        affiliation = of
    pre = PRE_RUN.search(masked, max(p0, m.start() - 60), m.start())
    prefix = ""
    if pre is not None and pre.group("run").lower() in FRENCH_ARTICLES:
        pre = None
    # French puts the demonym after the title or inside it: "le chef de la diplomatie
    # russe", "le ministre russe des Affaires étrangères".
    demonym = (
        m.group("adj")
        or m.group("adj2")
        or next((w for w in role.split() if w in FRENCH and w.islower()), None)
    )
    if demonym:
        country = to_iso3(demonym)
    if pre is not None:
        run = pre.group("run")
        # The word nearest the title: "FINSTADJORDET, Norway U.S. Secretary of State" is American.
        country = (
            country or to_iso3(run) or next(filter(None, map(to_iso3, run.split()[::-1])), None)
        )
        named = classify(run)
        if named is not None and named[0] == "org":
            affiliation = affiliation or named[1]
        elif named is not None and named[0] == "person" and role.islower():
            prefix = f"{named[1]} "  # "Dion spokesman"
            person.serves = named[1]
    if role.lower() in EVIDENCE_ONLY_TITLES:
        role = ""
    if person.role is None and role:
        person.role = _cap(prefix + role)
    if person.affiliation is None and affiliation:
        person.affiliation = _cap(affiliation)
    country = country or (None if prep else title_country(m.group("role")))
    if person.country is None and country:
        person.country = country


def _take_appositive(person: Person, masked: str, pos: int) -> None:
    """'Kurt Campbell, the top Asia expert at the National Security Council, said'."""
    if person.role is not None:
        return
    m = APPOSITIVE_ROLE.match(masked, pos)
    if m and m.group(0).split()[1] == "a" and f"a {m.group(1).split()[0]}" in REPORTING_VERBS:
        return  # '..., a annoncé l'Elysée': a French verb, not "a" role
    if m and "·" not in m.group(1):
        person.role = _cap(m.group(1))
        if person.country is None:
            for run in RUN.finditer(m.group(1)):
                code = to_iso3(run.group(0))
                if code:
                    person.country = code
                    break


def _merge(found: dict[str, Person]) -> list[Person]:
    """Fold 'Lavrov' into 'Sergey Lavrov', 'David' into 'David Whelan', 'Joe Biden' into
    'President Joe Biden'; keep people with evidence of being people."""
    full = sorted((p for p in found.values() if " " in p.name), key=lambda p: -len(p.name))
    people: list[Person] = []
    for person in full:
        tail = " " + person.name.casefold()
        longer = next((p for p in people if p.name.casefold().endswith(tail)), None)
        if longer is not None:
            _fold_into(longer, person)
        elif twin := next((p for p in people if _misspelt(p.name, person.name)), None):
            _fold_into(twin, person)
        else:
            people.append(person)
    by_surname: dict[str, list[Person]] = {}
    by_first: dict[str, list[Person]] = {}
    for person in people:
        by_surname.setdefault(person.surname, []).append(person)
        bare = _PREFIX.sub("", person.surname)  # "Assad" for "Bashar al-Assad"
        if bare != person.surname:
            by_surname.setdefault(bare, []).append(person)
        by_first.setdefault(person.name.split()[0], []).append(person)
    for person in found.values():
        if " " in person.name:
            continue
        target = by_surname.get(person.name) or by_first.get(person.name) or []
        if len(target) == 1:
            _fold_into(target[0], person)
        elif not target:
            people.append(person)
    keep = [p for p in people if p.evidence & PERSON_EVIDENCE]
    for aide in keep:
        chief = [
            p for p in keep if aide.serves and p is not aide and same_person(p.name, aide.serves)
        ]
        if aide.country is None and len(chief) == 1:
            aide.country = chief[0].country
    return sorted(keep, key=lambda p: p.first)


def _misspelt(a: str, b: str) -> bool:
    """The same first name and surnames one letter apart: "Paul Kagame", "Paul Kagme"."""
    (first_a, *_, last_a), (first_b, *_, last_b) = a.split(), b.split()
    if first_a != first_b or min(len(last_a), len(last_b)) < MIN_TYPO_LENGTH:
        return False
    if len(last_a) < len(last_b):
        last_a, last_b = last_b, last_a
    if len(last_a) == len(last_b):
        return sum(x != y for x, y in zip(last_a, last_b, strict=True)) == 1
    return len(last_a) == len(last_b) + 1 and any(
        last_a[:i] + last_a[i + 1 :] == last_b for i in range(len(last_a))
    )


def _fold_into(target: Person, other: Person) -> None:
    target.first = min(target.first, other.first)
    target.evidence |= other.evidence
    target.role = target.role or other.role
    target.affiliation = target.affiliation or other.affiliation
    target.country = target.country or other.country


def _cap(text: str) -> str:
    return text[:SHORT]


def _present(person: Person, event_words: Sequence[set[str]], shared: set[str]) -> bool:
    """In the lead, in a sentence about the event: took part rather than only mentioned.
    A surname two people share (``shared``) counts with the first name beside it."""
    first = person.name.split()[0]
    return any(
        person.surname in words and (person.surname not in shared or first in words)
        for words in event_words
    )


def speaker_name(speaker: str | None, people: Sequence[Person]) -> str | None:
    """The attributed name as a participant's full name when it is unambiguous."""
    if speaker is None:
        return None
    matches = [p for p in people if same_person(speaker, p.name)]
    if len(matches) == 1:
        return matches[0].name
    exact = [p for p in matches if name_tokens(p.name)[-1:] == name_tokens(speaker)[-1:]]
    return exact[0].name if len(exact) == 1 else speaker
