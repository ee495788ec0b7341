"""Dates: the one reader of calendar dates, for cleaning and for grounding.

Cleaning asks for the publication date in a header line (``parse_date``: the first
unambiguous calendar date, any of the languages in ``vocabulary.MONTHS``); grounding asks
for an event date as ISO 8601, with relative dates ("Thursday", "last Friday") resolved
against the publication date (``resolve_date``). Both read with the same patterns and
the same month table.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from summarise.text.vocabulary import FRENCH_WEEKDAYS, MONTHS, WEEKDAYS

_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMERIC_YMD = re.compile(r"(?<!\d)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_NUMERIC_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)")
# French writes numeric dates day first: "Publié le 12/09/2017", "mis à jour le 03.03.2023".
_FRENCH_NUMERIC = re.compile(r"\ble\s+(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)", re.IGNORECASE)
# The year is optional: an event date may leave it to the publication date; a
# publication date must have one.
_MDY = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.IGNORECASE
)
_DMY = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er)?\.?\s+(?:of\s+)?({_MONTH})\.?,?(?:\s+(\d{{4}}))?\b",
    re.IGNORECASE,
)
_MONTH_YEAR = re.compile(rf"^\s*({_MONTH})\.?\s+(\d{{4}})\s*$", re.IGNORECASE)
_ISO_VALUE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]")
_RELATIVE = re.compile(
    r"\b(?:(?P<mod>last|this|next|on|this past|past|coming)\s+)?(?P<day>"
    + "|".join(WEEKDAYS)
    + r")\b|\b(?P<rel>today|tonight|yesterday|tomorrow|this morning|this afternoon|this evening)\b",
    re.IGNORECASE,
)
# French relative dates: "jeudi", "jeudi dernier", "lundi prochain", "hier".
_FRENCH_RELATIVE = re.compile(
    r"\b(?P<day>" + "|".join(FRENCH_WEEKDAYS) + r")(?:\s+(?P<mod>dernier|prochain))?\b"
    r"|\b(?P<rel>aujourd['’]hui|hier|demain|ce matin|ce soir|cet après-midi)\b",
    re.IGNORECASE,
)
_FRENCH_EQUIVALENT = {
    **dict(zip(FRENCH_WEEKDAYS, WEEKDAYS, strict=True)),
    "dernier": "last", "prochain": "next", "hier": "yesterday", "demain": "tomorrow",
}  # fmt: skip
TIMESTAMP = re.compile(
    rf"\b\d{{1,2}}:\d{{2}}\b|\b\d{{4}}[-/.]\d{{1,2}}"
    rf"|\b({_MONTH})\.? \d{{1,2}}\b|\b\d{{1,2}} ({_MONTH})\b",
    re.IGNORECASE,
)
"""A time or a date fragment: what a timestamp line ("Jan 5, 10:32") is made of."""

_FIRST_YEAR, _LAST_YEAR = 1990, 2100  # a publication date outside these is a misread


def _calendar(year: str | int, month: str | int, day: str | int) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _month(name: str) -> int:
    return MONTHS[name.lower()]


# --- Publication dates ------------------------------------------------------------------


def parse_date(text: str) -> str | None:
    """The first unambiguous calendar date in ``text`` as ISO ``YYYY-MM-DD``, else None.

    >>> parse_date("Published 3 mars 2023, 10:32")
    '2023-03-03'
    """
    found: list[tuple[int, date | None]] = []
    for m in _NUMERIC_YMD.finditer(text):
        found.append((m.start(), _calendar(m.group(1), m.group(2), m.group(3))))
    for m in _MDY.finditer(text):
        if m.group(3):
            found.append((m.start(), _calendar(m.group(3), _month(m.group(1)), m.group(2))))
    for m in _DMY.finditer(text):
        if m.group(3):
            found.append((m.start(), _calendar(m.group(3), _month(m.group(2)), m.group(1))))
    for m in _FRENCH_NUMERIC.finditer(text):
        found.append((m.start(1), _calendar(m.group(3), m.group(2), m.group(1))))
    for m in _NUMERIC_DMY.finditer(text):
        a, b = int(m.group(1)), int(m.group(2))
        if a > 12 >= b:  # only the unambiguous day-first or month-first forms
            found.append((m.start(), _calendar(m.group(3), b, a)))
        elif b > 12 >= a:
            found.append((m.start(), _calendar(m.group(3), a, b)))
    for _, value in sorted(found, key=lambda item: item[0]):
        if value is not None and _FIRST_YEAR <= value.year <= _LAST_YEAR:
            return value.isoformat()
    return None


# --- Event dates ------------------------------------------------------------------------


def resolve_date(value: str | None, published: str | None) -> tuple[str | None, str | None]:
    """(ISO date or None, what was done or None): relative dates resolved against
    ``published``. A note with a date means it was resolved; a note without one, that
    the value is not a date.

    >>> resolve_date("Thursday", "2023-03-02")
    ('2023-03-02', "'Thursday' -> 2023-03-02 (published 2023-03-02)")
    """
    if value is None or not value.strip():
        return None, None
    raw = value.strip()
    if _ISO_VALUE.match(raw):
        if len(raw) == 10 and _iso(raw) is None:
            return None, f"{raw!r} is not a valid date; set to null"
        return raw, None
    if _ISO_DATETIME.match(raw) and _iso(raw[:10]):
        return raw[:10], None
    pub = _iso(published[:10]) if published else None
    absolute = _absolute_date(raw, pub)
    if absolute is not None:
        return absolute, f"{raw!r} -> {absolute}"
    m = _RELATIVE.search(raw) or _RELATIVE.search(_in_english(raw))
    if m is None:
        return None, f"{raw!r} is not a date; set to null"
    if pub is None:
        return None, f"{raw!r} is relative and the publication date is unknown; set to null"
    resolved = _relative_date(m, pub).isoformat()
    return resolved, f"{raw!r} -> {resolved} (published {pub.isoformat()})"


def _in_english(raw: str) -> str:
    """A French relative date in English words ("jeudi dernier" -> "last thursday")."""
    m = _FRENCH_RELATIVE.search(raw)
    if m is None:
        return ""
    if m.group("rel"):
        return _FRENCH_EQUIVALENT.get(m.group("rel").lower(), "today")
    day = _FRENCH_EQUIVALENT[m.group("day").lower()]
    mod = _FRENCH_EQUIVALENT.get((m.group("mod") or "").lower(), "")
    return f"{mod} {day}".strip()


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _absolute_date(raw: str, pub: date | None) -> str | None:
    m = _MONTH_YEAR.match(raw)
    if m:
        return f"{int(m.group(2)):04d}-{_month(m.group(1)):02d}"
    for pattern, month_group, day_group in ((_MDY, 1, 2), (_DMY, 2, 1)):
        m = pattern.search(raw)
        if not m:
            continue
        year = int(m.group(3)) if m.group(3) else (pub.year if pub else None)
        if year is None:
            return None
        found = _calendar(year, _month(m.group(month_group)), m.group(day_group))
        if found is None:
            return None
        # A date without a year more than a month after publication was last year's.
        if not m.group(3) and pub is not None and found > pub + timedelta(days=31):
            found = found.replace(year=year - 1)
        return found.isoformat()
    return None


def _relative_date(m: re.Match[str], pub: date) -> date:
    rel = (m.group("rel") or "").lower()
    if rel:
        return pub + timedelta(days={"yesterday": -1, "tomorrow": 1}.get(rel, 0))
    target = WEEKDAYS.index(m.group("day").lower())
    mod = (m.group("mod") or "").lower()
    back = (pub.weekday() - target) % 7
    if mod in ("next", "coming"):
        return pub + timedelta(days=(target - pub.weekday()) % 7 or 7)
    if mod in ("last", "past", "this past"):
        return pub - timedelta(days=back or 7)
    return pub - timedelta(days=back)
