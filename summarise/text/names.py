"""Names: what a capitalised run of words names (a person, a body, a place) and when
two ways of naming someone are the same person.

"Russian Foreign Minister Sergey Lavrov" is the person "Sergey Lavrov"; "the Kremlin"
a body; "Eastern Europe" a place; "Lavrov" and "Sergey Lavrov" the same person. The word
lists are in ``vocabulary``; this module holds the rules.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

from summarise.text.countries import to_iso3
from summarise.text.normalise import TRANSLATE, fold
from summarise.text.vocabulary import (
    BODY_ACRONYMS,
    COMPASS,
    LEADING_STOP,
    NAME_PARTICLES,
    NAME_PREFIXES,
    NOT_NAMES,
    ORG_WORDS,
    PLACES,
    REGIONAL_ADJECTIVES,
    REGIONS,
    TITLE_WORDS,
)

UPPER = "A-ZÀ-ÖØ-Þ"
"""Capital letters, as a regex character-class body."""
_TOKEN = (
    rf"(?:(?:[{UPPER}]\.){{2,}}"  # U.S., U.K.
    rf"|(?:Corp|Inc|Co|Ltd|Jr|Sr|St)\."
    rf"|[{UPPER}]\.(?=\s[{UPPER}])"  # an initial: "Joseph P. Kennedy"
    rf"|\[?(?:(?:{'|'.join(NAME_PREFIXES)})-)?[{UPPER}][^\W_]*(?:[-'’][^\W_]+)*\]?)"
)
_PARTICLE = rf"(?:{'|'.join(NAME_PARTICLES)})"
RUN_SRC = rf"{_TOKEN}(?:[ ]+(?:{_PARTICLE}[ ]+){{0,2}}{_TOKEN})*"
RUN = re.compile(RUN_SRC)
"""A run of capitalised words: the shape of a name as written."""
RUN_AT_END = re.compile(rf"({RUN_SRC})[ ]*$")
_POSSESSIVE = re.compile(r"[^\W_]['’]s?$")

NameKind = Literal["person", "org", "place"]


def strip_token(token: str) -> str:
    """A word of a name without brackets and a possessive ("Lavrov's" -> "Lavrov")."""
    return re.sub(r"['’]s$|['’]$", "", token.strip("[]"))


@lru_cache(maxsize=8192)
def classify(run: str) -> tuple[NameKind, str] | None:
    """What a capitalised run names: ("person", "Sergey Lavrov") for "Russian Foreign
    Minister Sergey Lavrov", ("org", ...), ("place", ...), or None (titles, dates, ...)."""
    words = run.split()
    owner = next((i for i in range(len(words) - 1, 0, -1) if _POSSESSIVE.search(words[i - 1])), 0)
    if owner:  # "ONGC's Mr Raha": the name is what the possessive qualifies
        named = classify(" ".join(words[owner:]))
        if named is not None and named[0] == "person":
            return named
    tokens = [strip_token(t) for t in words]
    tokens = [t for t in tokens if t]
    while tokens and tokens[0].lower() in LEADING_STOP:
        tokens = tokens[1:]
    if not tokens:
        return None
    whole = " ".join(tokens)
    lowered = [t.lower() for t in tokens]
    if any(t in ORG_WORDS for t in lowered):
        return ("org", whole)
    as_written = " ".join(strip_token(t) for t in words)
    if as_written in PLACES or to_iso3(as_written) is not None:
        return ("place", as_written)  # "New Delhi": "New" is no stop word here
    if lowered[0] in COMPASS or whole in REGIONS or whole in REGIONAL_ADJECTIVES:
        return ("place", whole)
    if len(tokens) == 1 and run.split()[0].lower() in {"the", "a", "an"}:
        return ("org", whole)  # "the Liberals": names of people take no article
    if to_iso3(whole) is not None or whole in PLACES:
        return ("place", whole)
    # Drop leading titles and demonyms: what is left is the name proper.
    k = 0
    while k < len(tokens) and (lowered[k] in TITLE_WORDS or to_iso3(tokens[k]) is not None):
        k += 1
    rest = tokens[k:]
    while rest and rest[-1].lower() in NOT_NAMES:
        rest = rest[:-1]
    if not rest:
        return None
    if any(to_iso3(t) is not None for t in rest) or any(t.lower() in TITLE_WORDS for t in rest):
        return ("org", whole)
    if any(any(c.isdigit() for c in t) for t in rest) or all(len(t) < 2 for t in rest):
        return None
    if any(t.lower() in NOT_NAMES or t.lower() in LEADING_STOP for t in rest):
        return None
    if any(len(t) >= 2 and t.isupper() for t in rest[_initials(rest) :]):
        return ("org", whole)
    return ("person", " ".join(rest))


def _initials(tokens: list[str]) -> int:
    """1 when a name opens with two capitals for initials ("CQ Brown", "JD Vance"), else 0."""
    first = tokens[0]
    initials = len(tokens) == 2 and len(first) == 2 and first.isupper()
    known = first in BODY_ACRONYMS or to_iso3(first) is not None
    return int(initials and tokens[1][1:].islower() and not known)


def name_tokens(name: str) -> list[str]:
    """The words of a name that identify someone: titles, demonyms and 'the' dropped."""
    return list(_name_tokens(name))


@lru_cache(maxsize=8192)
def _name_tokens(name: str) -> tuple[str, ...]:
    out = []
    for token in re.findall(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*", name.translate(TRANSLATE)):
        lower = strip_token(token).lower()
        if lower in TITLE_WORDS or lower in LEADING_STOP or to_iso3(token) is not None:
            continue
        out.append(lower)
    return tuple(out)


def same_person(a: str, b: str) -> bool:
    """True when two ways of naming someone share a distinctive word ("Shoigu", "Sergei Shoigu")."""
    ta, tb = set(_name_tokens(a)), set(_name_tokens(b))
    if not ta or not tb:
        return fold(a).strip() == fold(b).strip()
    return bool(ta & tb)
