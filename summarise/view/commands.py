"""``summarise view`` and ``summarise apply``: the review page and its corrections back.

Registered on the main app by ``register(app)``; like ``batchapi.commands``, ``exit_codes``
is imported from ``summarise.cli`` when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from summarise.corrections import apply_feed, describe_stale
from summarise.errors import UsageError
from summarise.feed import default_errors_path
from summarise.view import browser, make_report

err = Console(stderr=True, soft_wrap=True)


def view(
    feed: Annotated[Path, typer.Argument(help="A feed written by 'summarise run'.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="The page to write (default: FEED with .html)."),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(help="Errors file to list too (default: the feed's, when it exists)."),
    ] = None,
    screenshot: Annotated[
        Path | None,
        typer.Option(
            help="Also save PNGs of the index and of the first article view in this folder "
            "(needs Chromium and the playwright client: the browser extra)."
        ),
    ] = None,
) -> None:
    """Write one self-contained HTML page to read and review a feed.

    The page lists every record (filters, search, j/k and / keys), shows each article with its quotes highlighted at their spans, the ungrounded items, warnings and raw JSON, and lets you accept or reject quotes and participants or fix a speaker; 'Export corrections' downloads them as JSONL for 'summarise apply'. The page loads nothing from the network.
    """  # noqa: E501 (typer keeps a docstring's line breaks)
    from summarise.cli import exit_codes

    with exit_codes():
        if not feed.is_file():
            raise UsageError(f"feed not found (or not a file): {feed}")
        if errors is None and (beside := default_errors_path(str(feed))).is_file():
            errors = beside
        elif errors is not None and not errors.is_file():
            raise UsageError(f"errors file not found: {errors}")
        target = output or feed.with_suffix(".html")
        if target.resolve() == feed.resolve():
            raise UsageError("the page would overwrite the feed: pass -o report.html")
        contents, size = make_report(feed, errors, target)
        err.print(
            f"wrote {target}: {len(contents.records):,} records, {len(contents.errors):,} "
            f"errors, {size / 1e6:.1f} MB",
            markup=False,
            highlight=False,
        )
        if contents.unreadable:
            err.print(
                f"{len(contents.unreadable)} unreadable lines are listed in the page, "
                f"first: {contents.unreadable[0]}",
                style="yellow",
                markup=False,
            )
        if screenshot is not None:
            for shot in browser.screenshot(target, screenshot):
                err.print(f"wrote {shot}", markup=False, highlight=False)


APPLY_HELP = (
    "Apply a review's corrections to FEED, writing each current record, corrected, to -o. "
    'CORRECTIONS has one JSON object per line: {"id", "sha256" (the record\'s source.sha256), '
    '"item": "quote"|"participant", "index" (in the record\'s quotes or participants), "text" '
    '(the quote\'s text or the participant\'s name), "verdict": "accept"|"reject"|"fix", '
    '"speaker" (the new speaker for a "fix", else null), "reviewed_at" (ISO 8601 UTC)}. '
    "Rejected items leave the summary for provenance.review, which keeps every verdict. "
    "A correction that does not match FEED (stale) stops the command, with nothing written, "
    "unless --skip-stale."
)


def apply_command(
    feed: Annotated[Path, typer.Argument(help="The feed the review page was made from.")],
    corrections: Annotated[
        Path, typer.Argument(help="The corrections file the review page exported (JSONL).")
    ],
    output: Annotated[
        Path, typer.Option("-o", "--output", help="The corrected feed to write (not FEED).")
    ],
    skip_stale: Annotated[
        bool,
        typer.Option(
            help="Apply the corrections that match FEED and list the others, instead of "
            "writing nothing."
        ),
    ] = False,
) -> None:
    from summarise.cli import exit_codes

    with exit_codes():
        result = apply_feed(feed, corrections, output, skip_stale=skip_stale)
    if result.stale:
        err.print(
            f"skipped {len(result.stale)} stale corrections:\n{describe_stale(result.stale)}",
            markup=False,
            highlight=False,
        )
    err.print(
        f"wrote {output}: {len(result.records)} records corrected ({result.complete} complete); "
        f"items {result.count('accept')} accepted, {result.count('reject')} rejected, "
        f"{result.count('fix')} fixed; {len(result.stale)} stale skipped",
        markup=False,
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    """Add ``view`` and ``apply`` to the ``summarise`` app."""
    app.command()(view)
    short = "Apply a review's corrections to a feed: a corrected copy (-o)."
    app.command(name="apply", help=APPLY_HELP, short_help=short)(apply_command)
