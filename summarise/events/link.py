"""Linking: records that report the same event, across outlets, become one event line.

Each record gets keys: a date (the event date, else the publication date, else a date in
the URL or the lead; a year or month from them when that is all there is), the surnames of
its participants folded to a transliteration-insensitive skeleton ("Poutine", "Putin" and
"Путин" are all ``ptn``), its mode and status (``cues``). Records are taken in date order;
each joins the best event it is compatible with (at least two of the event's surnames, or
its only one, within ±2 days, the same status, phone vs. in person) or founds a new one.
Candidates come from an index by (surname skeleton, day), so the cost is near-linear.

An event's id is a hash of its founding record's key fields; linking against an earlier
events file (``existing``) seeds the events first, so their ids are kept.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import orjson
from rapidfuzz import fuzz

from summarise.events.coding import code_cues
from summarise.events.cues import lead, present, read_cues
from summarise.schema import (
    EventLine,
    Record,
)
from summarise.text.countries import to_iso3
from summarise.text.dates import parse_date
from summarise.text.names import RUN

WINDOW = 2
"""Days either side of an event's dates within which a report still belongs to it."""

_LATIN = "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya"
_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", _LATIN.split(), strict=True))
_VOWELS = re.compile(r"[aeiouyhw\-]")
_URL_DATE = re.compile(r"/((?:19|20)\d\d)[/-](\d\d)(?:[/-](\d\d))?(?:/|\b)")
_CAPS = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁ][\w'’-]+")
_STOP_WORDS = (
    "the a an and but in on at of for he she it they we his her their this that with from "
    "president minister secretary foreign state prime chancellor leader summit talks meeting "
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "may june july august september october november december"
)
_STOP = frozenset(_STOP_WORDS.split())


_RU_CASE = re.compile(r"(?<=[бвгджзклмнпрстфхцчшщ])(?:ым|ом|ем|ой|ого|ему|ыми|а|у|е|ю|я)$")
"""Russian case endings after a consonant ("Путиным", "Путина" -> "Путин")."""


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case ASCII of a word: accents dropped, Cyrillic transliterated (without its
    case ending)."""
    word = _RU_CASE.sub("", word.casefold())
    word = "".join(_CYRILLIC.get(ch, ch) for ch in word)
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(ch for ch in decomposed if ch.isascii() and (ch.isalnum() or ch == "-"))


@lru_cache(maxsize=65536)
def skeleton(word: str) -> str:
    """Consonant skeleton of a folded word: "putin", "poutine" -> "ptn"; repeats collapsed."""
    letters = _VOWELS.sub("", fold(word))
    return re.sub(r"(.)\1+", r"\1", letters)


def surname(name: str) -> str:
    """The word that identifies a person: the last one, or the first for "Kim Jong Un"."""
    tokens = [t for t in re.split(r"[\s\-]+", name.strip()) if t]
    if not tokens:
        return ""
    last = tokens[-1].strip(".,")
    return last if len(fold(last)) > 2 or len(tokens) == 1 else tokens[0]


def same_surname(a: str, b: str) -> bool:
    """Transliteration-insensitive: equal skeletons, or folded forms at ratio >= 80."""
    return skeleton(a) == skeleton(b) or fuzz.ratio(fold(a), fold(b)) >= 80


@lru_cache(maxsize=65536)
def close(a: str, b: str) -> bool:
    """Two surname skeletons that differ by a typo ("blnkn", "blnk")."""
    return a == b or (min(len(a), len(b)) >= 3 and fuzz.ratio(a, b) >= 80)


class SourceRow(NamedTuple):
    """An ``EventSource`` kept as a tuple (a few hundred thousand of them stay in memory)."""

    record_id: str
    outlet: str | None
    url: str | None
    title: str | None
    published: str | None
    date: str | None


@dataclass(slots=True)
class Item:
    """What linking keeps of one record (not the article text)."""

    record_id: str
    day: date | None
    year: int | None
    month: int | None
    names: tuple[str, ...]
    """Skeletons of the participants' surnames."""
    words: frozenset[str]
    """Skeletons of the capitalised words of the title and lead (names the text gives)."""
    mode: str
    status: str
    location: str | None
    location_country: str | None
    coding: bytes
    """The record's ``Coding`` as JSON: parsed only for the record an event is coded from."""
    actors_known: int
    """How many sides of the main CAMEO coding have a country (to choose that record)."""
    participants: list[tuple[str, str | None, str | None]]
    source: SourceRow
    quotes: tuple[tuple[str | None, str, tuple[int, int]], ...]
    """(speaker, text, span) of each grounded quote."""


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _title_names(title: str) -> tuple[str, ...]:
    """Surname skeletons of the capitalised runs of a title ("Vladimir Poutine" -> ptn)."""
    found: list[str] = []
    for run in RUN.findall(title):
        words = [w for w in run.split() if fold(w) not in _STOP and to_iso3(w) is None]
        if words and len(fold(words[-1])) > 2:
            key = skeleton(surname(" ".join(words)))
            if key and key not in found:
                found.append(key)
    return tuple(found[:3])


def _name_words(text: str) -> Iterator[str]:
    for w in _CAPS.findall(text):
        if fold(w) not in _STOP and len(w) > 2 and to_iso3(w) is None:
            yield skeleton(w)


def item_of(record: Record) -> Item:
    """The keys and payload of a record for linking."""
    cues = read_cues(record)
    people = present(record)
    head = lead(record)
    url = record.source.url
    day = _day(record.summary.event.date) or _day(record.article.published)
    year = month = None
    if day is None and url:
        m = _URL_DATE.search(urlsplit(url).path)
        if m:
            if m.group(3):
                day = _day(f"{m.group(1)}-{m.group(2)}-{m.group(3)}")
            year, month = int(m.group(1)), int(m.group(2))
    if day is None:
        day = _day(parse_date(head))
    if day is not None:
        year, month = day.year, day.month
    names = tuple(dict.fromkeys(s for p in people if (s := skeleton(surname(p.name)))))
    words = frozenset(_name_words(head))
    if not names:  # no participants read: the names the title gives stand for them
        names = _title_names(record.article.title or head[:200])
    host = urlsplit(url).hostname if url else None
    outlet = host.removeprefix("www.") if host else None
    source = SourceRow(
        record.id, outlet, url, record.article.title, record.article.published,
        day.isoformat() if day else None,
    )  # fmt: skip
    quotes = tuple(
        (q.speaker, q.text, q.span)
        for q in record.summary.quotes
        if q.grounded and q.span is not None
    )
    coding = code_cues(record, cues)
    main = coding.cameo[0]
    return Item(
        record_id=record.id,
        day=day,
        year=year,
        month=month,
        names=names,
        words=words | frozenset(names),
        mode=cues.mode,
        status=cues.status,
        location=record.summary.event.location,
        location_country=cues.location_country,
        coding=coding.model_dump_json().encode(),
        actors_known=bool(main.source.country) + bool(main.target.country),
        participants=[(p.name, cues.countries.get(p.name), p.role) for p in people],
        source=source,
        quotes=quotes,
    )


@dataclass
class Cluster:
    """An event being built: its keys, its records, and the line it came from, if any."""

    event_id: str
    first: date | None = None
    last: date | None = None
    names: Counter[str] = field(default_factory=Counter)
    words: set[str] = field(default_factory=set)
    """The capitalised words (skeletons) its records' leads give: places, names, bodies."""
    modes: Counter[str] = field(default_factory=Counter)
    status: str = "happened"
    items: list[Item] = field(default_factory=list)
    existing: EventLine | None = None

    def top_names(self) -> list[str]:
        return [n for n, _ in self.names.most_common(2)]

    def mode(self) -> str:
        known = [(m, c) for m, c in self.modes.most_common() if m != "unknown"]
        return known[0][0] if known else "unknown"

    def add(self, item: Item) -> None:
        self.items.append(item)
        self.names.update(item.names)
        if len(self.words) < 64:
            self.words.update(item.words)
        self.modes[item.mode] += 1
        if item.day is not None:
            self.first = min(self.first or item.day, item.day)
            self.last = max(self.last or item.day, item.day)


def event_id_of(item: Item) -> str:
    """'ev_' + a hash of the founding record's key fields (deterministic)."""
    key = f"{item.day}|{'|'.join(sorted(item.names))}|{item.status}|{item.record_id}"
    return "ev_" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _overlap(cluster: Cluster, item: Item) -> int:
    """How many of the event's two main names the record gives (0 when too few), provided
    the record's own two main names are the event's."""
    top = cluster.top_names()
    hits = sum(1 for name in top if name in item.words or any(close(name, w) for w in item.names))
    own = item.names[:2]
    back = sum(1 for name in own if name in cluster.names or any(close(name, n) for n in top))
    if hits >= 2:  # the event's two main names are both in the record
        return hits
    one_sided = len(top) < 2 or len(own) < 2  # one side's second name was not read
    if one_sided and hits and back and item.day is not None and cluster.first is not None:
        return hits  # one name in common, on the same days
    if hits < min(2, len(top)) or back < min(2, len(own)):
        return 0
    return hits


def _compatible(cluster: Cluster, item: Item) -> bool:
    if cluster.status != item.status:
        return False
    if item.day is not None and cluster.first is not None and cluster.last is not None:
        lo, hi = cluster.last - timedelta(WINDOW), cluster.first + timedelta(WINDOW)
        return lo <= item.day <= hi
    if item.year is not None and cluster.first is not None:
        if item.year != cluster.first.year:
            return False
        return item.month is None or item.month == cluster.first.month
    return True


class Linker:
    """Incremental linker: seed with existing events, add items, read the clusters."""

    def __init__(self) -> None:
        self.clusters: list[Cluster] = []
        self.by_id: dict[str, Cluster] = {}
        self.by_record: dict[str, Cluster] = {}
        self._index: dict[tuple[str, date | None], list[Cluster]] = defaultdict(list)

    def _keys(self, cluster: Cluster) -> Iterator[tuple[str, date | None]]:
        for name in cluster.top_names():
            yield name, None
            if cluster.first is not None and cluster.last is not None:
                d = cluster.first
                while d <= cluster.last:
                    yield name, d
                    d += timedelta(1)

    def _register(self, cluster: Cluster) -> None:
        for key in self._keys(cluster):
            bucket = self._index[key]
            if not bucket or bucket[-1] is not cluster:
                bucket.append(cluster)

    def seed(self, line: EventLine) -> None:
        """An event of an earlier events file: kept with its id."""
        cluster = Cluster(event_id=line.event_id, status=line.status, existing=line)
        cluster.first, cluster.last = _day(line.date), _day(line.date_end or line.date)
        for p in line.participants:
            cluster.names[skeleton(surname(p.name))] += max(1, p.records)
        cluster.modes[line.mode] += len(line.sources)
        for s in line.sources:
            self.by_record[s.record_id] = cluster
        self.clusters.append(cluster)
        self.by_id[cluster.event_id] = cluster
        self._register(cluster)

    def _candidates(self, item: Item) -> list[Cluster]:
        seen: dict[int, Cluster] = {}
        days = [item.day + timedelta(o) for o in range(-WINDOW, WINDOW + 1)] if item.day else []
        index = self._index
        for word in item.names if item.participants else item.words:
            if days:
                for day in days:
                    for c in index.get((word, day), ()):
                        seen.setdefault(id(c), c)
            else:
                for c in self._index.get((word, None), ()):
                    seen.setdefault(id(c), c)
        return list(seen.values())

    def add(self, item: Item) -> Cluster:
        """Put ``item`` in the best compatible event, or in a new one."""
        known = self.by_record.get(item.record_id)
        if known is not None:
            known.items = [i for i in known.items if i.record_id != item.record_id]
            known.add(item)
            return known
        best: tuple[int, int, int, int] | None = None
        chosen: Cluster | None = None
        for index, c in enumerate(self._candidates(item)):
            hits = _overlap(c, item)
            if not hits or not _compatible(c, item):
                continue
            place = int(
                item.location_country is not None
                and any(i.location_country == item.location_country for i in c.items[:5])
            )
            same_mode = int(item.mode == c.mode())
            shared = len(item.words & c.words)
            score = (hits, shared + same_mode + place, len(c.items), -index)
            if best is None or score > best:
                best, chosen = score, c
        if chosen is None:
            chosen = Cluster(event_id=event_id_of(item), status=item.status)
            self.clusters.append(chosen)
            self.by_id[chosen.event_id] = chosen
        chosen.add(item)
        self.by_record[item.record_id] = chosen
        self._register(chosen)
        item.words = frozenset()  # only needed to place the item
        return chosen


def order(items: Iterable[Item]) -> list[Item]:
    """Dated records first (by date, then id), then those with a year, then the rest."""
    return sorted(
        items,
        key=lambda i: (
            0 if i.day else 1 if i.year else 2,
            0 if i.participants else 1,
            i.day or date.min,
            i.year or 0,
            i.record_id,
        ),
    )


def iter_events(
    items: Iterable[Item], existing: Iterable[EventLine] = ()
) -> Iterator[dict[str, Any]]:
    """Group items into events, yielding each event line (as data: ``event_data``) once all
    items are placed; events of ``existing`` keep their ids (and come first, in order)."""
    linker = Linker()
    for line in existing:
        linker.seed(line)
    for item in order(items):
        linker.add(item)
    clusters, linker.clusters = linker.clusters, []
    linker.by_record.clear()
    linker._index.clear()
    clusters.reverse()
    while clusters:  # drop each cluster as its line is made: memory falls as lines go out
        yield event_data(clusters.pop())


def link(items: Iterable[Item], existing: Iterable[EventLine] = ()) -> list[EventLine]:
    """``iter_events`` as a list of validated lines."""
    return [EventLine.model_validate(data) for data in iter_events(items, existing)]


def _participants(cluster: Cluster) -> list[dict[str, Any]]:
    groups: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    counts: Counter[str] = Counter()
    if cluster.existing is not None:
        for p in cluster.existing.participants:
            key = skeleton(surname(p.name))
            groups[key].extend([(p.name, p.country, p.role), *((a, None, None) for a in p.aliases)])
            counts[key] += p.records
    for item in cluster.items:
        for name, country, role in item.participants:
            key = skeleton(surname(name))
            groups[key].append((name, country, role))
            counts[key] += 1
    people = []
    for key, forms in groups.items():
        names = Counter(f[0] for f in forms)
        best = max(names, key=lambda n: (len(n.split()), names[n], n))
        countries = Counter(f[1] for f in forms if f[1])
        roles = Counter(f[2] for f in forms if f[2])
        people.append(
            {
                "name": best,
                "aliases": sorted(n for n in names if n != best),
                "country": countries.most_common(1)[0][0] if countries else None,
                "role": roles.most_common(1)[0][0] if roles else None,
                "records": counts[key],
            }
        )
    return sorted(people, key=lambda p: (-p["records"], p["name"]))


def event_data(cluster: Cluster) -> dict[str, Any]:
    """The event line of a cluster as plain data (an ``EventLine`` once validated): an
    existing line with the new records merged in. Plain data, because a few hundred
    thousand of them are written at a time (orjson, no model per part)."""
    old = cluster.existing.model_dump(mode="json") if cluster.existing is not None else None
    if old is not None and not cluster.items:
        return old
    new_ids = {i.record_id for i in cluster.items}
    sources = [s for s in (old["sources"] if old else []) if s["record_id"] not in new_ids]
    quotes = [q for q in (old["quotes"] if old else []) if q["record_id"] not in new_ids]
    for item in cluster.items:
        sources.append(item.source._asdict())
        quotes.extend(
            {"record_id": item.record_id, "speaker": sp, "text": t, "span": list(span)}
            for sp, t, span in item.quotes
        )
    days = sorted(d for s in sources if (d := s["date"]))
    locations = Counter(i.location for i in cluster.items if i.location)
    countries = Counter(i.location_country for i in cluster.items if i.location_country)
    mode = cluster.mode()
    # The coding of the record that agrees with the event's mode, with most actors known.
    ranked = sorted(cluster.items, key=lambda i: (i.mode != mode, -i.actors_known, i.record_id))
    coding = orjson.loads(ranked[0].coding) if ranked else old["coding"]  # type: ignore[index]
    location = locations.most_common(1)[0][0] if locations else old["location"] if old else None
    return {
        "event_id": cluster.event_id,
        "date": days[0] if days else None,
        "date_end": days[-1] if days and days[-1] != days[0] else None,
        "location": location,
        "location_country": countries.most_common(1)[0][0]
        if countries
        else coding["location_country"],
        "mode": mode,
        "status": coding["status"],
        "host": coding["host"],
        "participants": _participants(cluster),
        "coding": coding,
        "sources": sorted(sources, key=lambda s: (s["date"] or "", s["record_id"])),
        "quotes": quotes,
    }


def event_line(cluster: Cluster) -> EventLine:
    """The event line of a cluster, validated."""
    return EventLine.model_validate(event_data(cluster))


def bcubed(predicted: dict[str, str], gold: dict[str, str]) -> tuple[float, float]:
    """B-cubed precision and recall of a clustering (item -> cluster) against gold."""
    items = [i for i in gold if i in predicted]
    by_pred: dict[str, set[str]] = defaultdict(set)
    by_gold: dict[str, set[str]] = defaultdict(set)
    for i in items:
        by_pred[predicted[i]].add(i)
        by_gold[gold[i]].add(i)
    precision = recall = 0.0
    for i in items:
        same = by_pred[predicted[i]] & by_gold[gold[i]]
        precision += len(same) / len(by_pred[predicted[i]])
        recall += len(same) / len(by_gold[gold[i]])
    n = len(items) or 1
    return precision / n, recall / n
