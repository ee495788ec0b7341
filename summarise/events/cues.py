"""Event fields from cues: how the parties met (``mode``), who hosted, and whether it happened.

The offline extractor and today's model answers give an event ``kind``, ``date`` and
``location`` and the participants' countries; this module reads the rest off the record and
its article text: "spoke by phone" (``phone``), "on the sidelines of the G20"
(``multilateral``), "arrived in Beijing" with a Chinese participant (``visit``, hosted by
them), a meeting in a country none of them represents (``third_party``), and "will meet" /
"invited ... to visit" (``planned`` / ``proposed``). Locations become countries through
``summarise.text.countries``.

>>> guess_country("Beijing, China"), guess_country("Vientiane, Laos"), guess_country(None)
('CHN', 'LAO', None)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from summarise.schema import GroundedParticipant, Record
from summarise.text.countries import to_iso3

Mode = Literal["visit", "third_party", "multilateral", "phone", "unknown"]
Status = Literal["happened", "planned", "proposed"]

# --- The cue table (data) ---------------------------------------------------------------

PHONE = (
    r"phone call|telephone|by phone|over the phone|phone conversation|video ?call"
    r"|video ?conference|video link|videoconferencing|virtual (?:meeting|summit)"
    r"|spoke by phone|phoned|entretien téléphonique|téléphon|por teléfono|videollamada"
    r"|videochiamata|telefon|телефон|видеосвяз"
)
MULTILATERAL = (
    r"on the (?:sidelines|margins) of|sidelines|en marge d|al margen d|a margine d"
    r"|\b(?:ASEAN|G-?20|G-?7|APEC|NATO|BRICS|SCO|OSCE|UN General Assembly|OAS)\b"
    r"|Summit of the Americas|Cumbre de las Américas|East Asia Summit"
)
VISIT = (
    r"visit to|visiting|arrived in|arrives in|trip to|travel(?:l)?ed to|landed in"
    r"|state visit|official visit|hosted|welcomed .{0,40} to|en visite|visite à|visite en"
    r"|s'est rendu|se rend|прибыл|визит"
)
PLANNED = (
    r"will meet|will hold talks|will visit|will travel|plans? to (?:visit|meet)|is to visit"
    r"|are to meet|is expected to (?:meet|visit)|agreed to meet|scheduled to (?:meet|visit)"
    r"|set to meet|upcoming (?:meeting|summit|visit)|planned (?:meeting|summit|visit)"
    r"|preparations? for (?:a|the) (?:meeting|summit)|would meet|to meet in"
    r"|подготовк|préparation|preparativos"
)
PROPOSED = (
    r"invited .{0,60}? to (?:visit|meet|come)|invitations?\W{0,2} to (?:visit|meet|come)"
    r"|proposed (?:a |that )?(?:meeting|summit|talks)|offered to host"
)
HAPPENED = (
    r"\b(?:met|meets|held talks|holds talks|spoke|speaks|talked|discussed|shook hands"
    r"|arrived|hosted|sat down|face-to-face|rencontré|s'est entretenu|se reunió|reunieron"
    r"|встретил|провели|провёл|görüştü|spotkali|incontrato)\b"
)
LEAD_CHARS = 600
"""Status is read from the title and the lead: later paragraphs often name other meetings."""

_PHONE = re.compile(PHONE, re.IGNORECASE)
_MULTI = re.compile(MULTILATERAL)
_MULTI_CI = re.compile(r"on the (?:sidelines|margins) of|en marge d|al margen d", re.IGNORECASE)
_VISIT = re.compile(VISIT, re.IGNORECASE)
_VISIT_PLACE = re.compile(
    r"(?:visit(?:ing)?(?: to)?|arrived in|arrives in|trip to|travel(?:l)?ed to|landed in"
    r"|talks in|meetings? in|summit in)\s+"
    r"((?:the )?[A-Z][\w'’.-]+(?:[ ,]+[A-Z][\w'’.-]+){0,2})"
)
_PLANNED = re.compile(PLANNED, re.IGNORECASE)
_PROPOSED = re.compile(PROPOSED, re.IGNORECASE)
_HAPPENED = re.compile(HAPPENED, re.IGNORECASE)
_TITLE_PLACE = re.compile(r"\b(?:in|to|at)\s+([A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)?)")
_ROLE_TO = re.compile(r"\b(?:to|in|for)\s+(?:the\s+)?[A-Z][\w'’.-]+(?:\s+[A-Z][\w'’.-]+)*")
_WORD = re.compile(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")


@dataclass(frozen=True, slots=True)
class EventCues:
    """What the cues say about one record's event."""

    mode: Mode
    host: str | None
    """Name of the participant whose country hosts (visits only), else None."""
    status: Status
    location_country: str | None
    """ISO alpha-3 of the event's location, when it can be told."""
    negotiation: bool
    """The article calls it negotiations or talks on an agreement (CAMEO 046)."""
    mediation: bool
    """Someone mediates between the parties (CAMEO 045)."""
    countries: dict[str, str | None]
    """Each present participant's country (by name), with the gaps filled from the text."""


def guess_country(place: str | None) -> str | None:
    """ISO alpha-3 of a place as written ("Beijing, China", "Laos", "the White House")."""
    if not place:
        return None
    whole = to_iso3(place)
    if whole:
        return whole
    for part in reversed(re.split(r"[,;/()]", place)):
        code = to_iso3(part)
        if code:
            return code
    for run in _WORD.findall(place):
        code = to_iso3(run)
        if code:
            return code
    return None


def participant_country(record: Record, person: GroundedParticipant) -> str | None:
    """The participant's country, or one told by their role or affiliation, or by the words
    just before a mention ("U.S. Secretary of State Antony Blinken", "his Russian
    counterpart Sergey Lavrov"). "Ambassador to Canada" tells nothing: where they serve."""
    if person.country:
        return person.country
    for source in (person.affiliation, person.role):
        code = guess_country(_ROLE_TO.sub("", source)) if source else None
        if code:
            return code
    text = record.article.text
    for start, _ in person.mentions[:3]:
        before = text[max(0, start - 60) : start]
        sentence = _ROLE_TO.sub("", re.split(r"[.!?\n]", before)[-1])
        for run in reversed(_WORD.findall(sentence)):
            for token in [run, *run.split()]:
                code = to_iso3(token)
                if code:
                    return code
    return None


def countries_named(text: str) -> list[str]:
    """Countries named in ``text`` (names, demonyms, capitals), in order, each once."""
    found: list[str] = []
    for run in _WORD.findall(text):
        for token in [run, *run.split()]:
            code = to_iso3(token.strip(",.;:"))
            if code and code not in found:
                found.append(code)
                break
    return found


def countries_of(record: Record, people: list[GroundedParticipant]) -> dict[str, str | None]:
    """Each participant's country; one still unknown gets the country the title (or the
    lead) names that no other participant has, when exactly one is left."""
    countries = {p.name: participant_country(record, p) for p in people}
    missing = [name for name, code in countries.items() if code is None]
    if missing:
        known = {c for c in countries.values() if c}
        for text in (record.article.title or "", lead(record)):
            left = [c for c in countries_named(text) if c not in known]
            if left and len(missing) == 1:
                countries[missing[0]] = left[0]
                break
    return countries


def present(record: Record) -> list[GroundedParticipant]:
    """The participants who took part (all of them when none is marked present)."""
    people = [p for p in record.summary.participants if p.present]
    return people or list(record.summary.participants)


def lead(record: Record) -> str:
    """Title, headline and the start of the text: where the main event is told."""
    title = record.article.title or ""
    return f"{title}\n{record.summary.headline}\n{record.article.text[:LEAD_CHARS]}"


def status_of(record: Record) -> Status:
    """``planned`` / ``proposed`` when the lead announces rather than reports the meeting."""
    head = lead(record)
    if _HAPPENED.search(head) and not _PLANNED.search(head[:200]):
        return "happened"
    if _PROPOSED.search(head):
        return "proposed"
    if _PLANNED.search(head):
        return "planned"
    return "happened"


def _location_country(record: Record, head: str) -> str | None:
    m = None
    if record.summary.event.location:
        code = guess_country(record.summary.event.location)
        if code:
            return code
    for m in _TITLE_PLACE.finditer(record.article.title or ""):
        code = guess_country(m.group(1))
        if code:
            return code
    for m in _VISIT_PLACE.finditer(head):
        code = guess_country(m.group(1))
        if code:
            return code
    return None


def read_cues(record: Record) -> EventCues:
    """The event's mode, host, status and location country, from the record and its text."""
    head = lead(record)
    event = record.summary.event
    people = present(record)
    countries = countries_of(record, people)
    location_country = _location_country(record, head)
    status = status_of(record)
    lowered = head.casefold()
    negotiation = event.kind == "negotiation" or "negotiat" in lowered or "négocia" in lowered
    mediation = "mediat" in lowered or "médiat" in lowered
    hosts = [p for p in people if countries[p.name] and countries[p.name] == location_country]
    others = {c for c in countries.values() if c and c != location_country}
    host: str | None = None
    mode: Mode
    multilateral = bool(_MULTI.search(head) or _MULTI_CI.search(head))
    if event.kind == "phone_call" or _PHONE.search(head):
        mode, location_country = "phone", guess_country(event.location)
    elif location_country and hosts and others and (status != "happened" or not multilateral):
        mode, host = "visit", hosts[0].name
    elif multilateral:
        mode = "multilateral"
    elif location_country and others and not hosts:
        text = record.article.text
        at_gathering = _MULTI.search(text) or _MULTI_CI.search(text)
        mode = "multilateral" if at_gathering else "third_party"
    elif event.kind == "visit" or _VISIT.search(head):
        mode = "visit"
    else:
        mode = "unknown"
    return EventCues(mode, host, status, location_country, negotiation, mediation, countries)
