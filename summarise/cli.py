"""The ``summarise`` command line: parses flags, calls the Python API, prints.

Data goes to stdout only when asked for (``-o -``, ``schema``, ``clean``); progress,
notices and the final summary go to stderr, so the feed pipes into other programs.

Exit codes: 0 every article summarised; 1 some articles ended in the errors file;
2 the run could not go on (bad flags, inputs, key, model, endpoint); 3 stopped by
``--max-tokens-per-run`` (rerun to continue); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from summarise import clean as cleaning
from summarise import cost
from summarise import evaluate as evaluation
from summarise.backends import make_backend
from summarise.backends.base import Backend
from summarise.backends.offline import OFFLINE_NOTICE
from summarise.batch import Job, RunOptions, RunStats, parse_shard, run_job
from summarise.batchapi.commands import batch_app
from summarise.config import (
    BACKEND_DEFAULTS,
    DEFAULT_FEED,
    DEFAULT_KEY_ENV,
    ENDPOINT_DEFAULTS,
    ENV_MODEL,
    ENV_WORKERS,
    EndpointOptions,
    resolve_settings,
)
from summarise.errors import ExitCode, FatalError, OutputClosed, Terminated, UsageError
from summarise.events.commands import register as register_events
from summarise.ingest import check_inputs, count_articles, read
from summarise.schema import errors_schema, events_schema, feed_schema, model_facing_schema
from summarise.view.commands import register as register_review

app = typer.Typer(
    help="Structured, grounded summaries of diplomatic news articles, as a JSONL feed.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, soft_wrap=True)
app.add_typer(batch_app, name="batch", help="Batch APIs: prepare, submit, status, cancel, collect.")
register_events(app)
register_review(app)


class BackendChoice(StrEnum):
    auto = "auto"
    openai = "openai"
    offline = "offline"
    local = "local"


class FormatChoice(StrEnum):
    auto = "auto"
    json_schema = "json_schema"
    json_object_schema = "json_object_schema"
    json_object = "json_object"
    text = "text"


class StdinFormat(StrEnum):
    text = "text"
    html = "html"
    jsonl = "jsonl"


class SchemaChoice(StrEnum):
    feed = "feed"
    model = "model"
    errors = "errors"
    events = "events"


def fail(message: str, code: int = ExitCode.FATAL) -> typer.Exit:
    """Say ``message`` once on stderr (as plain text: it may hold paths or server text)."""
    err.print(Text("error: ", style="bold red") + Text(message), highlight=False)
    return typer.Exit(code)


@contextlib.contextmanager
def exit_codes() -> Iterator[None]:
    """The one place where errors become messages and exit codes."""
    try:
        yield
    except OutputClosed as exc:  # `| head`: end quietly, as Unix tools do
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(exc.exit_code) from exc
    except FatalError as exc:
        raise fail(exc.message, exc.exit_code) from exc
    except KeyboardInterrupt as exc:
        err.print("interrupted: finished articles are saved; run again to resume")
        raise typer.Exit(ExitCode.INTERRUPTED) from exc


# The flags of `run` named otherwise than the EndpointConfig fields they set.
_FLAG_OF = {"rate_limit_patience_s": "rate_limit_patience", "record_dir": "record"}
_FLAG_OF |= {"replay_dir": "replay"}
_LOCAL = BACKEND_DEFAULTS["local"]
_REMOTE = BACKEND_DEFAULTS["openai"]


@app.command()
def run(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(help="Files, folders, globs (.txt, .html, .jsonl) or '-' for stdin."),
    ],
    output: Annotated[
        str,
        typer.Option("-o", "--output", help="Feed file (appended; resumable), or '-' for stdout."),
    ] = DEFAULT_FEED,
    errors: Annotated[
        str | None,
        typer.Option(help="Errors file. Default: beside the feed as NAME.errors.jsonl."),
    ] = None,
    input_format: Annotated[
        StdinFormat,
        typer.Option(
            "--format",
            help="What stdin ('-') holds: one text or HTML article, or JSONL lines. "
            "Files are told by their extension.",
        ),
    ] = StdinFormat.text,
    backend: Annotated[
        BackendChoice,
        typer.Option(
            help="auto: an endpoint if one is configured (--base-url, OPENAI_BASE_URL, an API "
            "key, --replay), else offline. local: llama.cpp on --gguf."
        ),
    ] = BackendChoice.auto,
    model: Annotated[
        str | None,
        typer.Option(help=f"Model name. Env: SUMMARISE_MODEL. Default: {ENDPOINT_DEFAULTS.model}."),
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="OpenAI-compatible endpoint, e.g. http://localhost:11434/v1. Env: OPENAI_BASE_URL."
        ),
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="Name of the environment variable that holds the API key.")
    ] = DEFAULT_KEY_ENV,
    gguf: Annotated[Path | None, typer.Option(help="GGUF model file for --backend local.")] = None,
    record: Annotated[
        Path | None, typer.Option(help="Store every raw model exchange in this folder.")
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(help="Answer from exchanges recorded with --record; no network."),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            min=1,
            help=f"Requests in flight. Default: {_REMOTE.concurrency}; "
            f"{_LOCAL.concurrency} with --backend local.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            envvar=ENV_WORKERS,
            show_envvar=False,
            help="Processes that run articles (clean, model call, ground) behind one writer. "
            f"Default: the cores here ({_REMOTE.workers}) for an endpoint; 1 offline and with "
            f"--backend local or --max-tokens-per-run. Env: {ENV_WORKERS}.",
        ),
    ] = None,
    rpm: Annotated[
        int | None, typer.Option(min=1, help="Client-side limit: requests per minute.")
    ] = None,
    tpm: Annotated[
        int | None, typer.Option(min=1, help="Client-side limit: prompt tokens per minute.")
    ] = None,
    shard: Annotated[
        str | None, typer.Option(help="K/N: process only the K-th of N deterministic shards.")
    ] = None,
    retry_errors: Annotated[
        bool, typer.Option(help="Retry articles already in the errors file.")
    ] = False,
    strict: Annotated[bool, typer.Option(help="Drop quotes not found in the article.")] = False,
    supersede: Annotated[
        bool,
        typer.Option(
            help="The feed holds records of another model or prompt: replace them (each new "
            "line says what it supersedes) instead of refusing to run."
        ),
    ] = False,
    max_tokens_per_run: Annotated[
        int | None, typer.Option(min=1, help="Stop cleanly once this many tokens are spent.")
    ] = None,
    max_attempts: Annotated[
        int,
        typer.Option(min=1, help="Model calls per article, re-asks included."),
    ] = ENDPOINT_DEFAULTS.max_attempts,
    max_retries: Annotated[
        int, typer.Option(min=0, help="Retries of a call after 5xx, timeouts, dropped connections.")
    ] = ENDPOINT_DEFAULTS.max_retries,
    rate_limit_patience: Annotated[
        float,
        typer.Option(
            min=0,
            help="Seconds a call keeps retrying 429s (honouring Retry-After) before the "
            "article fails.",
        ),
    ] = ENDPOINT_DEFAULTS.rate_limit_patience_s,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help=f"Seconds per model call. Default: {_REMOTE.timeout_s:g}; "
            f"{_LOCAL.timeout_s:g} with --backend local.",
        ),
    ] = None,
    probe_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help=f"Seconds each start-up probe request may take. Default: "
            f"{_REMOTE.probe_timeout_s:g}; {_LOCAL.probe_timeout_s:g} with --backend local.",
        ),
    ] = None,
    max_tokens: Annotated[
        int, typer.Option(min=1, help="Answer token budget per call.")
    ] = ENDPOINT_DEFAULTS.max_tokens,
    response_format: Annotated[
        FormatChoice, typer.Option(help="Structured-output shape; auto probes the endpoint.")
    ] = FormatChoice.auto,
    context_length: Annotated[
        int | None,
        typer.Option(
            min=512,
            help="The model's context window in tokens, where the server does not report it "
            "(long articles are cut to fit, with a warning). Default: what the probe finds.",
        ),
    ] = None,
    system_in_user: Annotated[
        bool, typer.Option(help="Put instructions in the user turn (templates without system).")
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show a progress bar on stderr.")] = True,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Say more on stderr.")] = False,
) -> None:
    """Summarise articles into a JSONL feed (and an errors file: every input lands in one)."""
    with exit_codes():
        if record and replay:
            raise UsageError("--record and --replay exclude each other")
        if replay is not None and not replay.is_dir():
            raise UsageError(f"replay folder not found: {replay}")
        endpoint = {
            name: ctx.params[_FLAG_OF.get(name, name)] for name in EndpointOptions.__annotations__
        }
        settings = resolve_settings(
            backend=backend.value,
            model=model,
            base_url=base_url,
            api_key_env=api_key_env,
            gguf=gguf,
            concurrency=concurrency,
            workers=workers,
            timeout_s=timeout,
            probe_timeout_s=probe_timeout,
            **endpoint,
        )
        options = RunOptions(
            concurrency=settings.concurrency,
            workers=settings.workers,
            shard=parse_shard(shard) if shard else None,
            retry_errors=retry_errors,
            strict=strict,
            max_tokens_per_run=max_tokens_per_run,
            supersede=supersede,
        )
        check_inputs(inputs)
        job = Job(
            inputs=inputs,
            output=output,
            errors=errors,
            options=options,
            stdin_format=input_format.value,
        )
        chosen = make_backend(settings)
        if chosen.name == "offline":
            err.print(OFFLINE_NOTICE, style="yellow", highlight=False)
        elif verbose:
            err.print(f"endpoint {chosen.endpoint}, model {chosen.model}", highlight=False)
        stats = _run_with_progress(job, chosen, progress=progress, verbose=verbose)
    _print_summary(stats, job)
    if stats.stopped:  # only the token budget stops a run without an error
        raise typer.Exit(ExitCode.BUDGET)
    raise typer.Exit(ExitCode.FAILED if stats.failed else ExitCode.OK)


def _run_with_progress(job: Job, backend: Backend, *, progress: bool, verbose: bool) -> RunStats:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    show = progress and err.is_terminal
    bar = Progress(
        TextColumn("[bold]summarise"),
        BarColumn(),
        TextColumn("{task.fields[line]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not show,
    )
    task = bar.add_task("run", total=None, line="starting")
    total: list[int] = []  # articles expected (counted in a thread); empty while unknown

    def update(stats: RunStats) -> None:
        rate = stats.done / stats.wall_s if stats.wall_s else 0.0
        line = (
            f"{stats.ok} ok, {stats.failed} failed, {stats.in_flight} in flight, "
            f"{rate:.1f}/s, {stats.tokens} tokens"
        )
        if total and rate:
            left = max(total[0] - stats.done - stats.skipped, 0)
            line += f", ETA {_duration(left / rate)}"
        bar.update(task, completed=stats.done + stats.skipped, line=line)

    async def count() -> None:
        paths = check_inputs(job.inputs, exclude=job.outputs.files())
        expected = await asyncio.to_thread(count_articles, paths)
        if expected is not None:
            shards = job.options.shard[1] if job.options.shard else 1
            total.append(-(-expected // shards))  # a shard's share, rounded up
            bar.update(task, total=total[0])

    stdin = sys.stdin.buffer if "-" in job.inputs else None

    async def main() -> RunStats:
        if show:
            counting = asyncio.create_task(count())
            counting.add_done_callback(lambda t: t.cancelled() or t.exception())
        loop, running = asyncio.get_running_loop(), asyncio.current_task()
        terminated: list[int] = []

        def on_sigterm() -> None:
            terminated.append(signal.SIGTERM)
            if running is not None:
                running.cancel()

        loop.add_signal_handler(signal.SIGTERM, on_sigterm)
        try:
            return await run_job(
                job, backend, stdin=stdin, on_update=update, on_started=started, on_wait=say
            )
        except asyncio.CancelledError:
            if terminated:  # like Ctrl-C: what is finished is kept, the stats are written
                raise Terminated(
                    "terminated: finished articles are saved; run again to resume"
                ) from None
            raise

    def started(ready: Backend) -> None:
        found = ready.describe() if verbose else None
        if found:
            err.print(f"probe: {found}", markup=False, highlight=False)

    def say(message: str) -> None:
        err.print(message, markup=False, highlight=False)

    with bar:
        return asyncio.run(main())


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _print_summary(stats: RunStats, job: Job) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")  # paths whole, never cut with an ellipsis
    table.add_row("articles", f"{stats.ok} ok, {stats.failed} failed, {stats.skipped} already done")
    if stats.deduplicated:
        table.add_row("duplicates", f"{stats.deduplicated} sent once")
    if stats.workers > 1:
        table.add_row("workers", f"{stats.workers} processes ran {stats.in_workers} articles")
    table.add_row(
        "tokens",
        f"{stats.prompt_tokens} prompt ({stats.cached_tokens} cached), "
        f"{stats.completion_tokens} completion",
    )
    rate = ""
    if stats.wall_s and stats.done:
        per_s = stats.done / stats.wall_s
        rate = f", {per_s:.1f} articles/s" if per_s >= 1 else f", {1 / per_s:.1f} s/article"
    table.add_row("wall time", f"{stats.wall_s:.2f} s{rate}")
    if stats.errors:
        table.add_row("errors", ", ".join(f"{code}: {n}" for code, n in stats.errors.most_common()))
    table.add_row("feed", Text("stdout" if job.output == "-" else job.output))
    table.add_row("errors file", Text(str(job.outputs.errors)))
    if stats.stopped:
        table.add_row("stopped", Text(f"{stats.stopped} (run again to continue)"))
    err.print(table)


@app.command()
def schema(
    which: Annotated[
        SchemaChoice,
        typer.Argument(
            help="feed: one feed line; model: what the model must return; errors; "
            "events: one line of 'summarise link'."
        ),
    ] = SchemaChoice.feed,
) -> None:
    """Print the JSON Schema generated from the pydantic models."""
    generated = {
        SchemaChoice.feed: feed_schema,
        SchemaChoice.model: model_facing_schema,
        SchemaChoice.errors: errors_schema,
        SchemaChoice.events: events_schema,
    }[which]()
    typer.echo(json.dumps(generated, indent=2))


@app.command(name="clean")
def clean_command(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    explain: Annotated[
        bool, typer.Option(help="Instead of JSONL, list each dropped line and why.")
    ] = False,
) -> None:
    """Print cleaned articles as JSONL: what the model will see."""
    with exit_codes():
        paths = check_inputs(inputs)
    stdin = sys.stdin.buffer if "-" in inputs else None
    failed = 0
    for raw in read(paths, stdin):
        try:
            if raw.error:
                raise cleaning.CleanError(raw.error, raw.message or raw.error)
            article = cleaning.clean(raw)
        except cleaning.CleanError as exc:
            failed += 1
            err.print(f"{raw.id}: {exc.code}: {exc.message}", style="red", markup=False)
            continue
        if explain:
            typer.echo(f"== {raw.id}")
            typer.echo(cleaning.explain(article))
        else:
            typer.echo(
                json.dumps({"id": raw.id, **article.model_dump(mode="json")}, ensure_ascii=False)
            )
    raise typer.Exit(ExitCode.FAILED if failed else ExitCode.OK)


@app.command()
def estimate(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    model: Annotated[
        str | None,
        typer.Option(
            help=f"Model to price (summarise/prices.toml or --prices). Env: SUMMARISE_MODEL. "
            f"Default: {ENDPOINT_DEFAULTS.model}."
        ),
    ] = None,
    output_tokens: Annotated[
        int, typer.Option(min=0, help="Assumed answer tokens per article.")
    ] = cost.DEFAULT_OUTPUT_TOKENS,
    prices: Annotated[
        Path | None,
        typer.Option(help=f"A price file over the package's table. Env: {cost.ENV_PRICES}."),
    ] = None,
    input_format: Annotated[
        StdinFormat, typer.Option("--format", help="What stdin ('-') holds.")
    ] = StdinFormat.text,
    system_in_user: Annotated[
        bool, typer.Option(help="Count the prompt as sent with --system-in-user.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the estimate as JSON.")] = False,
) -> None:
    """Estimate tokens and cost, synchronous vs Batch API, without calling any model."""
    with exit_codes():
        table = cost.load_prices(prices)
        price = table.price(model or os.environ.get(ENV_MODEL) or ENDPOINT_DEFAULTS.model)
        paths = check_inputs(inputs)
        stdin = sys.stdin.buffer if "-" in inputs else None
        raws = read(paths, stdin, stdin_format=input_format.value)
        result = cost.estimate(
            raws, price, output_tokens=output_tokens, system_in_user=system_in_user
        )
    if as_json:
        typer.echo(json.dumps({**result.to_dict(), "prices": list(table.sources)}, indent=2))
    else:
        typer.echo(cost.format_estimate(result, table.sources))


@app.command(name="eval")
def eval_command(
    feed: Annotated[Path, typer.Argument(help="A feed written by 'summarise run'.")],
    gold: Annotated[
        Path | None, typer.Option(help="Folder of gold annotations (one JSON per article).")
    ] = None,
    reviewed: Annotated[
        Path | None,
        typer.Option(
            help="A reviewed feed ('summarise apply'): its records whose review is complete "
            "are the gold for participants and quotes."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Score a feed field by field against hand-written gold or a reviewed sample of it."""
    with exit_codes():
        if (gold is None) == (reviewed is None):
            raise UsageError("pass exactly one of --gold DIR and --reviewed FEED")
        if not feed.is_file():
            raise UsageError(f"feed not found: {feed}")
        if gold is not None:
            if not gold.is_dir():
                raise UsageError(f"gold folder not found: {gold}")
            answers = evaluation.load_gold(gold)
        elif reviewed is not None:
            if not reviewed.is_file():
                raise UsageError(f"reviewed feed not found: {reviewed}")
            answers, skipped = evaluation.gold_from_reviewed(reviewed)
            err.print(
                f"gold: {len(answers)} reviewed records; {len(skipped)} skipped "
                "(review not complete, or none)",
                highlight=False,
            )
        report = evaluation.evaluate(evaluation.read_feed(feed), answers)
    typer.echo(report.model_dump_json(indent=2) if as_json else evaluation.format_table(report))


def main() -> None:
    app()
