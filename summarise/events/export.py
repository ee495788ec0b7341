"""Flat tables of a feed or an events file: CSV, Parquet, PLOVER-style JSON, GDELT-like TSV.

A feed (``summarise run``) gives the tables ``articles``, ``participants``, ``quotes`` and
``events`` (one coded row per record); an events file (``summarise link``) gives ``events``,
``participants`` and ``quotes``. ``plover`` and ``gdelt`` write coded events whichever the
input. Parquet needs ``pyarrow`` (``pip install 'summarise[parquet]'``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from summarise.errors import FatalError
from summarise.events.coding import code_record
from summarise.feed import current
from summarise.schema import Coding, EventLine, Record

Table = Literal["articles", "participants", "quotes", "events"]
Format = Literal["csv", "parquet", "plover", "gdelt"]
TABLES: dict[str, tuple[str, ...]] = {
    "feed": ("articles", "participants", "quotes", "events"),
    "events": ("events", "participants", "quotes"),
}
GDELT_COLUMNS = (
    "GlobalEventID", "Day", "Actor1Code", "Actor1CountryCode", "Actor1Type1Code",
    "Actor2Code", "Actor2CountryCode", "Actor2Type1Code", "IsRootEvent", "EventCode",
    "EventBaseCode", "EventRootCode", "GoldsteinScale", "NumSources", "NumArticles",
    "ActionGeo_FullName", "ActionGeo_CountryCode", "SOURCEURL",
)  # fmt: skip


class ExportError(FatalError):
    """The export cannot be made: a table the input does not have (``export_table``), a
    line that cannot be read (``export_input``), pyarrow missing (``export_parquet``)."""

    default_code, default_stage = "export_table", "export"


def read_lines(path: Path) -> tuple[str, list[Record] | list[EventLine]]:
    """("feed", its current records) or ("events", event lines); the kind told by the first
    line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read {path}: {exc}", code="export_input") from exc
    kind = ""
    out: list[Any] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not kind:
                kind = "events" if isinstance(data, dict) and "event_id" in data else "feed"
            out.append((EventLine if kind == "events" else Record).model_validate(data))
        except (ValueError, ValidationError) as exc:
            first = str(exc).splitlines()[0]
            what = "an event line" if kind == "events" else "a feed record"
            raise ExportError(f"{path}:{number}: not {what}: {first}", code="export_input") from exc
    if kind == "events":
        return kind, out
    return "feed", current(out, lambda record: record.id)  # a replaced line counts once


def _coding_row(coding: Coding, **extra: Any) -> dict[str, Any]:
    main = coding.cameo[0]
    return {
        **extra,
        "mode": coding.mode,
        "status": coding.status,
        "host": coding.host,
        "location_country": coding.location_country,
        "plover_event_type": coding.plover.event_type,
        "plover_mode": coding.plover.mode,
        "cameo_code": main.code,
        "cameo_label": main.label,
        "goldstein": main.goldstein,
        "source_actor": main.source.code,
        "source_country": main.source.country,
        "target_actor": main.target.code,
        "target_country": main.target.country,
    }


def rows(kind: str, items: list[Any], table: str) -> Iterator[dict[str, Any]]:
    """The rows of ``table`` for the input's lines."""
    if table not in TABLES[kind]:
        allowed = ", ".join(TABLES[kind])
        raise ExportError(
            f"an {'events file' if kind == 'events' else 'feed'} has no table "
            f"{table!r}; use one of: {allowed}"
        )
    for item in items:
        if kind == "feed":
            r: Record = item
            if table == "articles":
                yield {
                    "id": r.id, "url": r.source.url, "title": r.article.title,
                    "published": r.article.published, "headline": r.summary.headline,
                    "event_kind": r.summary.event.kind, "event_date": r.summary.event.date,
                    "event_location": r.summary.event.location,
                    "participants": len(r.summary.participants), "quotes": len(r.summary.quotes),
                    "backend": r.provenance.backend, "model": r.provenance.model,
                }  # fmt: skip
            elif table == "participants":
                for p in r.summary.participants:
                    yield {"id": r.id, "name": p.name, "role": p.role,
                           "affiliation": p.affiliation, "country": p.country,
                           "present": p.present, "attested": p.attested}  # fmt: skip
            elif table == "quotes":
                for q in r.summary.quotes:
                    yield {"id": r.id, "speaker": q.speaker, "text": q.text,
                           "start": q.span[0] if q.span else None,
                           "end": q.span[1] if q.span else None,
                           "grounded": q.grounded, "match": q.match}  # fmt: skip
            else:
                yield _coding_row(code_record(r), id=r.id, date=r.summary.event.date)
        else:
            e: EventLine = item
            if table == "events":
                yield _coding_row(
                    e.coding, event_id=e.event_id, date=e.date, date_end=e.date_end,
                    location=e.location, sources=len(e.sources), quotes=len(e.quotes),
                    participants="; ".join(p.name for p in e.participants),
                )  # fmt: skip
            elif table == "participants":
                for ep in e.participants:
                    yield {"event_id": e.event_id, "name": ep.name,
                           "aliases": "; ".join(ep.aliases), "country": ep.country,
                           "role": ep.role, "records": ep.records}  # fmt: skip
            else:
                for eq in e.quotes:
                    yield {"event_id": e.event_id, "record_id": eq.record_id,
                           "speaker": eq.speaker, "text": eq.text,
                           "start": eq.span[0], "end": eq.span[1]}  # fmt: skip


def _events(kind: str, items: list[Any]) -> Iterator[tuple[str, str | None, Coding, list[str]]]:
    """(id, date, coding, source URLs) of each coded event."""
    for item in items:
        if kind == "events":
            yield item.event_id, item.date, item.coding, [s.url for s in item.sources if s.url]
        else:
            url = [item.source.url] if item.source.url else []
            yield item.id, item.summary.event.date, code_record(item), url


def plover_lines(kind: str, items: list[Any]) -> Iterator[str]:
    """PLOVER-style JSON lines: one per event, POLECAT field names."""
    for event_id, day, coding, urls in _events(kind, items):
        a = coding.plover.actors[0] if coding.plover.actors else None
        b = coding.plover.recipients[0] if coding.plover.recipients else None
        yield json.dumps({
            "event_id": event_id, "event_date": day, "event_type": coding.plover.event_type,
            "mode": coding.plover.mode, "context": coding.plover.context,
            "actor": a.name if a else None, "actor_country": a.country if a else None,
            "actor_type": a.type if a else None,
            "recipient": b.name if b else None, "recipient_country": b.country if b else None,
            "recipient_type": b.type if b else None,
            "location_country": coding.location_country, "cameo": coding.cameo[0].code,
            "source_urls": urls,
        }, ensure_ascii=False)  # fmt: skip


def gdelt_rows(kind: str, items: list[Any]) -> Iterator[list[str]]:
    """GDELT-like rows (a subset of the GDELT 2.0 event columns), one per CAMEO coding."""
    for event_id, day, coding, urls in _events(kind, items):
        for n, c in enumerate(coding.cameo):
            yield [
                f"{event_id}-{n}", (day or "").replace("-", ""), c.source.code or "",
                c.source.country or "", (c.source.code or "")[3:], c.target.code or "",
                c.target.country or "", (c.target.code or "")[3:], "1" if n == 0 else "0",
                c.code, c.code, c.code[:2], f"{c.goldstein:.1f}", str(len(urls)),
                str(len(urls)), "", coding.location_country or "", urls[0] if urls else "",
            ]  # fmt: skip


def export(source: Path, table: str, fmt: str, output: Path | None) -> bytes | None:
    """Write the export to ``output`` (or return it, for stdout)."""
    kind, items = read_lines(source)
    if fmt == "plover":
        data = "".join(line + "\n" for line in plover_lines(kind, items)).encode()
    elif fmt == "gdelt":
        buf = io.StringIO()
        writer = csv.writer(buf, delimiter="\t", lineterminator="\n")
        writer.writerow(GDELT_COLUMNS)
        writer.writerows(gdelt_rows(kind, items))
        data = buf.getvalue().encode()
    elif fmt == "csv":
        table_rows = list(rows(kind, items, table))
        buf = io.StringIO()
        if table_rows:
            writer2 = csv.DictWriter(buf, fieldnames=list(table_rows[0]), lineterminator="\n")
            writer2.writeheader()
            writer2.writerows(table_rows)
        data = buf.getvalue().encode()
    elif fmt == "parquet":
        try:
            import pyarrow as pa  # type: ignore[import-untyped]
            import pyarrow.parquet as pq  # type: ignore[import-untyped]
        except ImportError as exc:
            raise ExportError(
                "--format parquet needs pyarrow: pip install 'summarise[parquet]'",
                code="export_parquet",
            ) from exc
        if output is None:
            raise ExportError("--format parquet writes a file: give -o FILE", code="usage")
        pq.write_table(pa.Table.from_pylist(list(rows(kind, items, table))), str(output))
        return None
    else:
        raise ExportError(f"unknown format {fmt!r}", code="usage")
    if output is None:
        return data
    output.write_bytes(data)
    return None
