"""View: a feed as one self-contained HTML page, to read and review what was extracted.

``summarise view FEED -o report.html`` writes a single file (inline CSS and JS, no network
access, UTF-8 whatever the locale) with an index of every record (filters, search, keyboard
navigation) and an article view per record (``report.html#<id>``): the cleaned text with
each grounded quote highlighted at its span, one colour per speaker, participant mentions,
the ungrounded quotes and unattested names in a panel of their own, the warnings and the
raw JSON. A reviewer accepts or rejects each quote and participant, or fixes a quote's
speaker; the page keeps that state in the browser and exports it as a corrections JSONL
file for ``summarise apply``.

Scale: the index carries a few fields per record; each record itself is stored gzipped
and base64-encoded, and decoded only when opened, so a 10,000-record feed opens at once.
Spans are Python code-point offsets into ``article.text``; the page slices by code point
(``Array.from``), never by UTF-16 unit, so astral characters and combining marks line up.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson

from summarise.errors import FatalError
from summarise.feed import current, write_atomically

ASSETS = resources.files(__package__)


class ViewError(FatalError):
    """The feed or errors file cannot be read for the page."""

    default_code = "view_unreadable"
    default_stage = "view"


@dataclass
class FeedContents:
    """What the page shows: the current record per id, error rows and unreadable lines."""

    records: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    digest: str = ""
    """SHA-256 of the feed bytes: the key under which the page keeps its review state."""


def read_contents(feed: Path, errors: Path | None = None) -> FeedContents:
    """The feed's current records (the last line per id), and the errors file's rows.

    A line that is not a JSON object is not dropped in silence: it is listed in
    ``unreadable`` (file and line), and the page shows it beside the errors.
    """
    contents = FeedContents()
    digest = hashlib.sha256()
    records: list[dict[str, Any]] = []
    for where, line, data in _lines(feed):
        digest.update(line)
        if _is_record(data):
            records.append(data)
        else:
            contents.unreadable.append(f"{where}: not a feed record")
    contents.records = current(records, lambda record: str(record["id"]))
    contents.digest = digest.hexdigest()
    if errors is not None:
        for where, _, data in _lines(errors):
            if isinstance(data, dict):
                contents.errors.append(data)
            else:
                contents.unreadable.append(f"{where}: not an error record")
    return contents


def _is_record(data: Any) -> bool:
    """The shape the page relies on (every schema version has it); the rest is optional."""
    return (
        isinstance(data, dict)
        and isinstance(data.get("id"), str)
        and isinstance(data.get("article"), dict)
        and isinstance(data["article"].get("text"), str)
        and isinstance(data.get("summary"), dict)
    )


def _lines(path: Path) -> Iterator[tuple[str, bytes, Any]]:
    try:
        with open(path, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except ValueError:
                    data = None
                yield f"{path}:{number}", line, data
    except OSError as exc:
        raise ViewError(f"cannot read {path}: {exc.strerror or exc}") from exc


def index_row(record: dict[str, Any]) -> dict[str, Any]:
    """The few fields the index lists, filters and searches for one record."""
    article = _obj(record.get("article"))
    summary = _obj(record.get("summary"))
    event = _obj(summary.get("event"))
    participants = [_obj(p) for p in _list(summary.get("participants"))]
    quotes = [_obj(q) for q in _list(summary.get("quotes"))]
    warnings = [
        _obj(w) if isinstance(w, dict) else {"code": str(w).split(":")[0]}
        for w in _list(record.get("warnings"))
    ]
    provenance = _obj(record.get("provenance"))
    return {
        "id": record.get("id"),
        "title": article.get("title") or summary.get("headline") or "",
        "headline": summary.get("headline") or "",
        "date": event.get("date") or article.get("published") or "",
        "kind": event.get("kind") or "",
        "location": event.get("location") or "",
        "participants": [str(p.get("name", "")) for p in participants],
        "countries": sorted({str(p["country"]) for p in participants if p.get("country")}),
        "backend": provenance.get("backend") or "",
        "warnings": sorted({str(w.get("code", "")) for w in warnings}),
        "quotes": len(quotes),
        "quote_texts": [str(q.get("text", ""))[:300] for q in quotes],
        "ungrounded": sum(not q.get("grounded") for q in quotes)
        + sum(p.get("attested") is False for p in participants),
        "reviewed": bool(_obj(provenance.get("review")).get("complete")),
    }


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json(value: Any) -> bytes:
    """Compact JSON; text UTF-8 cannot carry (a lone surrogate read from \\ud800) is escaped."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return json.dumps(value, separators=(",", ":")).encode("ascii")


def _packed(record: dict[str, Any]) -> str:
    return base64.b64encode(gzip.compress(_json(record), compresslevel=6, mtime=0)).decode()


def _script_safe(data: bytes) -> str:
    # Inside <script> only "</" can end the element; JSON may escape "<" anywhere.
    return data.decode("utf-8").replace("<", "\\u003c")


def build_page(contents: FeedContents, *, title: str) -> str:
    """The whole page: the template with its CSS, JS and data inlined."""
    meta = {
        "title": title,
        "digest": contents.digest,
        "errors": contents.errors,
        "unreadable": contents.unreadable,
        "index": [index_row(r) for r in contents.records],
    }
    blobs = "\n".join(_packed(r) for r in contents.records)
    template = (ASSETS / "page.html").read_text(encoding="utf-8")
    parts = {
        "{{TITLE}}": html.escape(title),
        "/*{{CSS}}*/": (ASSETS / "page.css").read_text(encoding="utf-8"),
        "/*{{JS}}*/": (ASSETS / "page.js").read_text(encoding="utf-8"),
        "{{META}}": _script_safe(_json(meta)),
        "{{BLOBS}}": blobs,
    }
    return _fill(template, parts)


def _fill(template: str, parts: dict[str, str]) -> str:
    """Each placeholder replaced once, in one pass: data never passes through a later one."""
    out: list[str] = []
    rest = template
    while True:
        found = [(rest.find(key), key) for key in parts if key in rest]
        if not found:
            return "".join([*out, rest])
        at, key = min(found)
        out += [rest[:at], parts[key]]
        rest = rest[at + len(key) :]


def write_page(page: str, path: Path) -> int:
    """Write the page as UTF-8 (never the locale's encoding), atomically; return its size."""
    data = page.encode("utf-8", errors="replace")  # only a file name can hold a lone surrogate
    write_atomically(path, [data])
    return len(data)


def make_report(feed: Path, errors: Path | None, output: Path) -> tuple[FeedContents, int]:
    """Read ``feed`` (and ``errors``), write the page to ``output``; contents and bytes."""
    contents = read_contents(feed, errors)
    size = write_page(build_page(contents, title=feed.name), output)
    return contents, size
