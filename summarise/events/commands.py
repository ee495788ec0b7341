"""``summarise link`` and ``summarise export``: flags -> the events package -> files.

Registered on the main app by ``register(app)`` (two lines in ``cli.py``); like
``batchapi.commands``, ``exit_codes`` is imported from ``summarise.cli`` when a command runs.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)


class TableChoice(StrEnum):
    articles = "articles"
    participants = "participants"
    quotes = "quotes"
    events = "events"


class FormatChoice(StrEnum):
    csv = "csv"
    parquet = "parquet"
    plover = "plover"
    gdelt = "gdelt"


def link_command(
    feeds: Annotated[list[Path], typer.Argument(help="Feeds written by summarise run.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Events file to write.")] = Path(
        "events.jsonl"
    ),
    events: Annotated[
        Path | None,
        typer.Option("--events", help="An earlier events file: its events keep their ids."),
    ] = None,
) -> None:
    """Group the records that report the same event into event lines (JSONL)."""
    import orjson

    from summarise.cli import exit_codes
    from summarise.events.export import ExportError, read_lines
    from summarise.events.link import Item, item_of, iter_events
    from summarise.schema import EventLine, Record

    with exit_codes():
        existing: list[EventLine] = []
        if events is not None and events.exists():
            kind, lines = read_lines(events)
            if kind != "events" and lines:
                raise ExportError(f"{events} is not an events file", code="export_input")
            existing = lines  # type: ignore[assignment]
        items: list[Item] = []
        for feed in feeds:
            kind, records = read_lines(feed)
            if kind != "feed":
                raise ExportError(f"{feed} is an events file, not a feed", code="export_input")
            feed_records: list[Record] = records  # type: ignore[assignment]
            current = {r.id: r for r in feed_records}  # the last line of an id is the current one
            items.extend(item_of(r) for r in current.values())
        count = 0
        target = sys.stdout if str(output) == "-" else output.open("w", encoding="utf-8")
        try:
            for event in iter_events(items, existing):
                target.write(orjson.dumps(event).decode() + "\n")
                count += 1
        finally:
            if target is not sys.stdout:
                target.close()
        err.print(f"{len(items)} records -> {count} events", highlight=False)


def export_command(
    source: Annotated[Path, typer.Argument(help="A feed, or an events file (summarise link).")],
    table: Annotated[TableChoice, typer.Option(help="Which table.")] = TableChoice.events,
    fmt: Annotated[FormatChoice, typer.Option("--format", help="Output format.")] = (
        FormatChoice.csv
    ),
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File to write (default stdout).")
    ] = None,
) -> None:
    """Flat tables (CSV, Parquet), PLOVER-style JSON or a GDELT-like TSV of coded events."""
    from summarise.cli import exit_codes
    from summarise.events.export import export

    with exit_codes():
        data = export(source, table.value, fmt.value, output)
        if data is not None:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()


def register(app: typer.Typer) -> None:
    """Add ``link`` and ``export`` to the main app."""
    app.command("link")(link_command)
    app.command("export")(export_command)
