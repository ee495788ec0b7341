"""Standard event codes for a record: PLOVER and CAMEO, from the table in ``cameo.toml``.

``code_record(record)`` is a pure function of the record: its cues (``cues.read_cues``)
give the mode, host and status; the table gives the CAMEO code, label and Goldstein value;
the participants' countries and roles give the actor codes. A visit is coded from both
sides (042 for the visitor, 043 for the host); a planned or proposed meeting is CAMEO 036
and PLOVER AGREE with the ``future`` context (PLOVER codes future-tense cooperation as
AGREE; see the table's header for the sources).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

from summarise.events.cues import EventCues, present, read_cues
from summarise.schema import (
    ActorCode,
    ActorType,
    CameoCoding,
    Coding,
    GroundedParticipant,
    PloverCoding,
    Record,
)


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The code table (``summarise/events/cameo.toml``), parsed once."""
    text = resources.files("summarise.events").joinpath("cameo.toml").read_text("utf-8")
    return tomllib.loads(text)


def cameo(code: str, source: ActorCode, target: ActorCode) -> CameoCoding:
    """One CAMEO coding with the table's label and Goldstein value."""
    row = table()["cameo"][code]
    return CameoCoding(
        code=code, label=row["label"], goldstein=row["goldstein"], source=source, target=target
    )


def actor_type(role: str | None, affiliation: str | None) -> ActorType | None:
    """What the role or affiliation says the actor is (military first: a defence minister
    is a government member, but CAMEO codes the military role)."""
    words = f"{role or ''} {affiliation or ''}".casefold()
    if not words.strip():
        return None
    for kind in ("military", "international_organisation", "government"):
        if any(w in words for w in table()["actor_types"][kind]["words"]):
            return kind
    return None


def actor(cues: EventCues, person: GroundedParticipant | None) -> ActorCode:
    """A participant as an actor code (country + type), or an empty one."""
    if person is None:
        return ActorCode(country=None, type=None, code=None, name=None)
    country = cues.countries.get(person.name)
    kind = actor_type(person.role, person.affiliation)
    code = None
    if country:
        code = country + (table()["actor_types"][kind]["code"] if kind else "")
    return ActorCode(country=country, type=kind, code=code, name=person.name)


def _sides(
    record: Record, cues: EventCues
) -> tuple[GroundedParticipant | None, GroundedParticipant | None]:
    """The acting side and the other side: for a visit, the visitor and the host; else the
    first two participants of different countries (or simply the first two)."""
    people = present(record)
    if not people:
        return None, None
    if cues.host is not None:
        host = next(p for p in people if p.name == cues.host)
        visitor = next(
            (p for p in people if p is not host and _country(cues, p) != _country(cues, host)), None
        )
        return visitor, host
    first = people[0]
    other = next(
        (p for p in people[1:] if _country(cues, p) != _country(cues, first)),
        people[1] if len(people) > 1 else None,
    )
    return first, other


def _country(cues: EventCues, person: GroundedParticipant) -> str | None:
    return cues.countries.get(person.name)


def code_cues(record: Record, cues: EventCues) -> Coding:
    """The coding of ``record`` given its cues (``code_record`` reads them itself)."""
    first, second = _sides(record, cues)
    a, b = actor(cues, first), actor(cues, second)
    codings: list[CameoCoding]
    if cues.status != "happened":
        codings = [cameo("036", a, b)]
        plover = PloverCoding(
            event_type="AGREE", mode=None, context=["future"], actors=[a], recipients=[b]
        )
    else:
        if cues.mediation:
            main = "045"
        elif cues.negotiation:
            main = "046"
        else:
            main = table()["mode_code"][cues.mode]
        codings = [cameo(main, a, b)]
        if cues.mode == "visit" and main == "042" and cues.host is not None:
            codings.append(cameo("043", b, a))
        plover = PloverCoding(
            event_type="CONSULT",
            mode=table()["plover_mode"][cues.mode],
            context=[],
            actors=[a],
            recipients=[b],
        )
    return Coding(
        mode=cues.mode,
        host=cues.host,
        status=cues.status,
        location_country=cues.location_country,
        plover=plover,
        cameo=codings,
    )


def code_record(record: Record) -> Coding:
    """PLOVER and CAMEO coding of one record (pure: the record alone decides it)."""
    return code_cues(record, read_cues(record))
