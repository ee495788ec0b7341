"""French for the offline extractor: cue words, dates in the lead, speakers named by title.

The extractor's cue tables are English; ``joined`` adds these French phrases to the same
labels, so that a French article's event kind, issues and outcomes are read with the
same rules. French names a speaker by title more than English does (« ... », a indiqué
le chef de la diplomatie russe); ``titled_speaker`` turns the title back into the one
person the article gave it to. The words (verbs, titles, demonyms) are in
``summarise.text.vocabulary`` and ``summarise.text.countries``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar

from summarise.schema import EventKind, OutcomeStatus
from summarise.text.countries import to_iso3
from summarise.text.quotes import QuoteRegion
from summarise.text.reader import REPORTING_VERB, TITLE_PHRASE, Document
from summarise.text.sources import described
from summarise.text.vocabulary import FRENCH_MONTHS, FRENCH_REPORTING_VERBS, FRENCH_WEEKDAYS

# Phrases in the extractor's regex syntax, matched as whole words, case-insensitively.

EVENT_CUES: tuple[tuple[EventKind, tuple[str, ...]], ...] = (
    ("phone_call", (r"(?:entretien|conversation|échange|appel) (?:téléphonique|en visioconférence)",
                    r"(?:au|par) téléphone", "visioconférence")),
    ("summit", (r"sommets?",)),
    ("negotiation", (r"négociations?", "pourparlers")),
    ("visit", (r"visites?", r"s['’]est rendue?")),
    # Not "entretien" alone: "un entretien téléphonique" is a call.
    ("meeting", (r"s['’]est entretenue?", r"se sont entretenus", r"s['’]entretien(?:t|nent)",
                 r"a rencontré",
                 r"ont rencontré", r"rencontres?", r"réunions?", r"en marge",
                 r"entretiens", r"l['’]entretien")),
    ("statement", ("communiqué", "déclaration")),
)  # fmt: skip

TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("war in Ukraine", ("Kiev", "Crimée")),
    ("nuclear arms control", (r"nucléaires?", "non-prolifération")),
    ("detained citizens", (r"détenus?", r"prisonniers?", r"otages?")),
    ("trade and the economy", ("commerce extérieur", r"droits de douane", r"économi\w+")),
    ("human rights", (r"droits (?:de l['’]homme|humains)",)),
    ("Syria", (r"Syrie\w*",)),
    ("terrorism", (r"terroris\w*",)),
    ("energy and food security", ("énergie", "sécurité alimentaire", "gaz", "pétrole")),
    ("military deployments", (r"troupes?", r"déploi\w*")),
    ("peace talks", (r"cessez-le-feu", r"(?:plan|processus|accord) de paix", r"négociations?",
                     "paix", "pacifique")),
    ("chemical weapons", (r"chimiques?",)),
    ("security guarantees", (r"garanties? de sécurité",)),
    ("aid", (r"aide", "humanitaire", r"soutien")),
    ("debt and banks", (r"dettes?", r"banques?")),
    ("infrastructure and investment", (r"investissements?", r"entreprises")),
    ("summit", (r"sommets?",)),
    ("climate", ("climat",)),
    ("migration", (r"réfugiés?",)),
    ("invitation to visit", (r"invitée?s?",)),
    ("NATO", ("OTAN", "Alliance atlantique")),
    ("joint declaration", ("déclaration commune", "déclaration conjointe", "communiqué conjoint")),
    ("diplomatic relations", (r"relations? (?:bilatérales?|diplomatiques?)", r"partenariat",
                              r"partenaires")),
)  # fmt: skip

OUTCOME_CUES: tuple[tuple[OutcomeStatus, tuple[str, ...]], ...] = (
    ("no_progress", (r"(?:aucun|sans) (?:progrès|avancée)", r"aucune avancée",
                     r"(?:rien|aucune information) n['’]a (?:encore )?filtré")),
    ("disagreed", (r"(?:ne|n['’])\s*(?:sont|est|ont) pas (?:parvenue?s?|réussi)", "désaccord",
                   r"ont refusé", r"a refusé", r"a rejeté", r"divergences?")),
    ("agreed", (r"(?:sont|ont) convenus?", r"se sont mis d['’]accord", r"ont signé",
                r"accord (?:a été )?conclu", r"(?:un|l['’]) accord", r"(?:sont|ont) décidé",
                r"bon échange", r"volonté de rétablir")),
    ("pending", (r"pas encore", r"devraient", r"se reverront", r"prévue?s?",
                 r"prévo(?:it|ient|yons) de", r"(?:doit|devrait) se rendre",
                 r"(?:trop |encore )*(?:tôt|précoce) pour", r"nous nous attendons à",
                 r"prochaine visite", r"prépar\w* (?:la |une )?(?:visite|celle)",
                 r"se (?:retrouveront|reverront|rencontreront)", r"tête-à-tête",
                 r"(?:trop |encore )*(?:tôt|précoce) de", r"prévoient")),
    ("announced", (r"(?:a|ont) annoncé", r"(?:a|ont) confirmé", r"prêts? à",
                   r"s['’]engagen?t? à", r"(?:sommes|sont|est) déterminée?s? à", r"a demandé",
                   r"engagement", r"millions? de dollars", r"a promis", r"pour la première fois")),
)  # fmt: skip

DISCUSSION_CUES: tuple[str, ...] = (
    r"(?:ont|a|avaient|avait|été) (?:aussi |également )?(?:évoqué|abordé|discuté)e?s?",
    r"(?:devai(?:en)?t|doivent|doit) porter", r"port(?:é|er|aient|ait) sur", r"au menu",
    r"ont parlé de", r"à l['’]ordre du jour",
)  # fmt: skip
"""Phrases that introduce what the talks were about (« ont évoqué les dossiers ... »)."""

L = TypeVar("L", bound=str)


def joined(
    english: tuple[tuple[L, tuple[str, ...]], ...], other: tuple[tuple[L, tuple[str, ...]], ...]
) -> tuple[tuple[L, tuple[str, ...]], ...]:
    """``english`` with each label's phrases from ``other`` added (labels keep their order)."""
    extra = dict(other)
    return tuple((label, phrases + extra.get(label, ())) for label, phrases in english)


# Dates as a French lead writes them: "le 3 mars 2023", "mardi 12 septembre", "1er juin",
# "jeudi dernier" (weekdays and months are not capitalised).
DATE = re.compile(
    r"\b(?:(?:" + "|".join(FRENCH_WEEKDAYS) + r")\s+)?\d{1,2}(?:er)?\s+(?:"
    + "|".join(FRENCH_MONTHS) + r")(?:\s+\d{4})?\b"
)  # fmt: skip
WEEKDAY = re.compile(
    r"\b(?:" + "|".join(FRENCH_WEEKDAYS) + r")(?:\s+(?:dernier|prochain))?\b|\bhier\b"
)


class Holder(Protocol):
    """A participant as the extractor knows them."""

    name: str
    role: str | None
    country: str | None


# '« ... », a indiqué le chef de la diplomatie russe' (or "explique le chef de l'État"):
# the speaker named by title.
_PRESENT = "|".join(v for v in FRENCH_REPORTING_VERBS if " " not in v)
_VERB_AFTER = re.compile(
    rf"[\s»\"”’·]*,\s*(?:(?:a|ont)\s+[^\W\d_]+|{_PRESENT})\s+(?=(?:le|la|l['’]|cette|ce)\b)"
)
_FOR = re.compile(r"\b(?i:pour|selon|d['’]après)\s+$")
_COMMA = re.compile(r"\s*,")
_NOUN_PHRASE = re.compile(
    r"(?:le|la|l['’]|cette|ce)\s*[^\W\d_](?:(?!\s(?:à|aux?|lors|devant|dans|en|pour)\s)"
    r"[^,.;:·«»\"”\n]){2,60}"
)


def titled_speaker(doc: Document, region: QuoteRegion, people: Sequence[Holder]) -> str | None:
    """The speaker a French source names by title, after the quote or as the subject of
    its sentence: the one person with that title (or that country), else the titled
    person last named it fits ("le président ukrainien" after "son homologue ukrainien
    Volodymyr Zelensky"), else the phrase as written ("la présidence française")."""
    masked = doc.masked
    m = _VERB_AFTER.match(masked, region.end)
    s0 = doc.sentences[doc.sentence_at(region.open)][0]
    before = [  # 'Le président ukrainien avait déclaré ... « ... »', 'Pour le ministre, « ... »'
        t
        for t in TITLE_PHRASE.finditer(masked, s0, region.open)
        if REPORTING_VERB.match(masked, t.end() + 1)
        or (
            _FOR.search(masked, max(s0, t.start() - 9), t.start()) and _COMMA.match(masked, t.end())
        )
    ]
    titled = TITLE_PHRASE.match(masked, m.end()) if m else (before[-1] if before else None)
    if titled is not None:
        code = to_iso3(titled.group("adj") or "")
        head = titled.group("role").split()[0].lower()
        holders = [
            p
            for p in people
            if p.role and (p.country == code if code else p.role.lower().startswith(head))
        ]
        if len(holders) == 1:
            return holders[0].name
        fitting = described(doc.titled(), titled.group(0), titled.start(), doc.word_spans)
        if fitting is not None:
            return fitting
    phrase = _NOUN_PHRASE.match(masked, m.end()) if m else None
    return phrase.group(0).strip() if phrase else None
