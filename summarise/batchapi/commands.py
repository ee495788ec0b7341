"""``summarise batch ...``: the Batch API commands (flags -> the package's functions -> print).

``prepare`` needs no key and no network; ``submit``, ``status``, ``cancel`` and ``collect``
(without ``--results``) talk to the endpoint through the same flags and environment as
``summarise run``: ``--base-url`` / ``OPENAI_BASE_URL``, ``--api-key-env`` / ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from summarise.config import (
    DEFAULT_FEED,
    DEFAULT_KEY_ENV,
    ENDPOINT_DEFAULTS,
    EndpointConfig,
    EndpointOptions,
    resolve_settings,
)
from summarise.errors import EndpointError, ExitCode, UsageError

if TYPE_CHECKING:  # the modules themselves load the openai SDK: imported when a command runs
    import openai

    from summarise.batchapi.remote import BatchLine
    from summarise.batchapi.requests import Limits

batch_app = typer.Typer(
    help="Batch APIs: prepare request files, submit, watch, collect (OpenAI Batch, vLLM).",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True, soft_wrap=True)


class StdinFormat(StrEnum):
    text = "text"
    html = "html"
    jsonl = "jsonl"


DirArg = Annotated[Path, typer.Argument(help="The batch folder made by 'summarise batch prepare'.")]
ModelOpt = Annotated[
    str | None,
    typer.Option(help=f"Model name. Env: SUMMARISE_MODEL. Default: {ENDPOINT_DEFAULTS.model}."),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        help="OpenAI-compatible endpoint, e.g. http://localhost:8000/v1. Env: OPENAI_BASE_URL."
    ),
]
KeyEnvOpt = Annotated[
    str, typer.Option(help="Name of the environment variable that holds the API key.")
]
MaxLinesOpt = Annotated[int, typer.Option(min=1, help="Requests per file at most.")]
MaxBytesOpt = Annotated[str, typer.Option(help="Bytes per file at most (200MB, 50KB, ...).")]


def _endpoint(
    model: str | None, base_url: str | None, api_key_env: str, options: EndpointOptions
) -> EndpointConfig:
    settings = resolve_settings(
        backend="openai", model=model, base_url=base_url, api_key_env=api_key_env, **options
    )
    return settings.endpoint


def _limits(max_lines: int, max_bytes: str) -> Limits:
    from summarise.batchapi.requests import Limits, parse_size

    try:
        return Limits(max_lines=max_lines, max_bytes=parse_size(max_bytes))
    except ValueError as exc:
        raise UsageError(f"--max-bytes: {exc}") from exc


@batch_app.command()
def prepare(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, globs or '-' for stdin.")],
    folder: Annotated[Path, typer.Option("--dir", help="Where request files and the ledger go.")],
    output: Annotated[
        str,
        typer.Option(
            "-o", "--output", help="The feed the records will go to (skip what it holds)."
        ),
    ] = DEFAULT_FEED,
    errors: Annotated[
        str | None, typer.Option(help="Errors file. Default: beside the feed.")
    ] = None,
    model: ModelOpt = None,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="The endpoint the files are for (decides max_tokens vs "
            "max_completion_tokens). Env: OPENAI_BASE_URL."
        ),
    ] = None,
    max_lines: MaxLinesOpt = 50_000,
    max_bytes: MaxBytesOpt = "200MB",
    max_tokens: Annotated[
        int, typer.Option(min=1, help="Answer token budget per request.")
    ] = ENDPOINT_DEFAULTS.max_tokens,
    context_length: Annotated[
        int | None, typer.Option(min=512, help="The model's context window: cut articles to fit.")
    ] = None,
    system_in_user: Annotated[
        bool, typer.Option(help="Put instructions in the user turn (templates without system).")
    ] = False,
    shard: Annotated[str | None, typer.Option(help="K/N: only the K-th of N shards.")] = None,
    supersede: Annotated[
        bool, typer.Option(help="Replace the feed's records of another model or prompt.")
    ] = False,
    input_format: Annotated[
        StdinFormat, typer.Option("--format", help="What stdin ('-') holds.")
    ] = StdinFormat.text,
) -> None:
    """Write OpenAI Batch request files and a ledger for every new article (no network)."""
    from summarise.batch import parse_shard
    from summarise.batchapi.prepare import PrepareOptions
    from summarise.batchapi.prepare import prepare as run_prepare
    from summarise.cli import exit_codes

    with exit_codes():
        endpoint: EndpointOptions = {
            "max_tokens": max_tokens,
            "context_length": context_length,
            "system_in_user": system_in_user,
        }
        config = _endpoint(model, base_url, DEFAULT_KEY_ENV, endpoint)
        options = PrepareOptions(
            feed=output,
            errors=errors,
            limits=_limits(max_lines, max_bytes),
            shard=parse_shard(shard) if shard else None,
            supersede=supersede,
            stdin_format=input_format.value,
        )
        stdin = sys.stdin.buffer if "-" in inputs else None
        stats = run_prepare(inputs, folder, config, options, stdin=stdin)
    err.print(
        f"prepared {stats.prepared} requests in {len(stats.files)} files, {stats.failed} failed, "
        f"skipped {stats.in_feed} already in the feed and {stats.in_ledger} already prepared",
        highlight=False,
    )
    for path in stats.files:
        typer.echo(str(folder / path))
    raise typer.Exit(ExitCode.FAILED if stats.failed else ExitCode.OK)


@batch_app.command()
def submit(
    folder: DirArg,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
) -> None:
    """Upload each request file and create its batch (never twice for one file)."""
    from summarise.batchapi import remote
    from summarise.cli import exit_codes

    with exit_codes():
        config = _checked_endpoint(folder, model, base_url, api_key_env)
        client = remote.make_client(config)
        stats = remote.submit(folder, client, config.endpoint_host)
    for path, batch_id in stats.created:
        typer.echo(f"{batch_id}\t{path}")
    for path, batch_id in stats.found:
        typer.echo(f"{batch_id}\t{path}\t(created before an interruption)")
    err.print(
        f"{len(stats.created)} batches created, {len(stats.found)} found again, "
        f"{stats.already} files already submitted",
        highlight=False,
    )


@batch_app.command()
def status(
    folder: DirArg,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
    as_json: Annotated[bool, typer.Option("--json", help="Print the status as JSON.")] = False,
) -> None:
    """Each batch and the total: status, request counts, and what is still outstanding."""
    from summarise.batchapi import remote
    from summarise.cli import exit_codes

    with exit_codes():
        lines = _status_lines(folder, model, base_url, api_key_env)
        articles = remote.article_counts(folder)
        usage = remote.spent(folder)
    outstanding = sum(n for state, n in articles.items() if state not in ("done", "failed"))
    if as_json:
        data = {
            "batches": [dataclasses.asdict(line) for line in lines],
            "articles": articles,
            "outstanding": outstanding,
            "usage": usage,
        }
        typer.echo(json.dumps(data, indent=2))
        return
    table = Table("file", "round", "batch", "status", "total", "completed", "failed", box=None)
    totals = [0, 0, 0]
    for line in lines:
        counts = [line.counts.get(k, 0) for k in ("total", "completed", "failed")]
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        shown = "collected" if line.collected else line.status
        table.add_row(
            line.path, str(line.round), line.batch_id or "-", shown, *(str(c) for c in counts)
        )
    table.add_row("total", "", "", "", *(str(t) for t in totals))
    err.print(table)
    states = ", ".join(f"{n} {state}" for state, n in sorted(articles.items())) or "none"
    err.print(Text(f"articles: {states}; outstanding: {outstanding}"), highlight=False)
    cost = usage["cost_usd"]
    err.print(
        Text(
            f"tokens: {usage['prompt_tokens']} prompt ({usage['cached_tokens']} cached), "
            f"{usage['completion_tokens']} completion; cost at batch prices: "
            + ("unknown (no price for the model)" if cost is None else f"${cost:.4f}")
        ),
        highlight=False,
    )


def _status_lines(
    folder: Path, model: str | None, base_url: str | None, api_key_env: str
) -> list[BatchLine]:
    from summarise.batchapi import remote

    config = _checked_endpoint(folder, model, base_url, api_key_env)
    try:
        client: openai.OpenAI | None = remote.make_client(config)
    except EndpointError:  # no key: the ledger alone still says where things stand
        client = None
    return list(remote.refresh(folder, client, config.endpoint_host))


@batch_app.command()
def cancel(
    folder: DirArg,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
) -> None:
    """Cancel every batch of the folder that has not ended (collect keeps what ran)."""
    from summarise.batchapi import remote
    from summarise.cli import exit_codes

    with exit_codes():
        config = _checked_endpoint(folder, model, base_url, api_key_env)
        done = remote.cancel(folder, remote.make_client(config), config.endpoint_host)
    for batch_id, now in done:
        typer.echo(f"{batch_id}\t{now}")
    err.print(f"{len(done)} batches cancelled", highlight=False)


@batch_app.command()
def collect(
    folder: DirArg,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Feed. Default: the one prepared for.")
    ] = None,
    errors: Annotated[
        str | None, typer.Option(help="Errors file. Default: beside the feed.")
    ] = None,
    results: Annotated[
        list[Path] | None,
        typer.Option(
            "--results",
            help="Local result files (e.g. vllm run-batch output) instead of downloading.",
        ),
    ] = None,
    sync_fixups: Annotated[
        bool, typer.Option(help="Ask re-asks now, synchronously, instead of in a new round.")
    ] = False,
    max_rounds: Annotated[int, typer.Option(min=1, help="Rounds before an article fails.")] = 3,
    max_attempts: Annotated[
        int, typer.Option(min=1, help="Answers per article, re-asks included.")
    ] = ENDPOINT_DEFAULTS.max_attempts,
    strict: Annotated[bool, typer.Option(help="Drop quotes not found in the article.")] = False,
    supersede: Annotated[
        bool, typer.Option(help="Replace the feed's records of another model or prompt.")
    ] = False,
    max_lines: MaxLinesOpt = 50_000,
    max_bytes: MaxBytesOpt = "200MB",
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    api_key_env: KeyEnvOpt = DEFAULT_KEY_ENV,
) -> None:
    """Read results, write records and error records, and queue the next round."""
    from summarise.batchapi import remote
    from summarise.batchapi.collect import CollectOptions, local_results
    from summarise.batchapi.collect import collect as run_collect
    from summarise.batchapi.fixups import sync_fixer
    from summarise.cli import exit_codes

    pending: list[str] = []
    with exit_codes():
        options = CollectOptions(
            max_rounds=max_rounds,
            max_attempts=max_attempts,
            strict=strict,
            supersede=supersede,
            limits=_limits(max_lines, max_bytes),
            feed=output,
            errors=errors,
        )
        needs_endpoint = sync_fixups or not results
        config = _checked_endpoint(folder, model, base_url, api_key_env) if needs_endpoint else None
        if results:
            sources = local_results(results)
        else:
            assert config is not None
            client = remote.make_client(config)
            sources = remote.remote_results(client, config.endpoint_host, pending)
        fixer = sync_fixer(config, max_attempts) if sync_fixups and config else None
        stats = run_collect(
            folder,
            sources,
            options,
            fixer=fixer,
            fixer_endpoint=config.endpoint_host if config else None,
        )
    err.print(
        f"{stats.done} records, {stats.failed} error records, {stats.reasked} re-asks "
        f"({stats.fixed} answered now), {stats.requeued} requests sent again; "
        f"{stats.ignored} result lines already taken, {stats.unknown} unknown",
        highlight=False,
    )
    for path in stats.files:
        typer.echo(str(folder / path))
    if stats.files:
        err.print(f"next round: {len(stats.files)} request files; submit and collect again")
    if pending:
        err.print(f"{len(pending)} batches still running: collect again later", highlight=False)
    raise typer.Exit(ExitCode.FAILED if stats.failed else ExitCode.OK)


def _checked_endpoint(
    folder: Path, model: str | None, base_url: str | None, api_key_env: str
) -> EndpointConfig:
    """The endpoint from flags and environment; its model must be the folder's, if given."""
    from summarise.batchapi.ledger import LEDGER_NAME, Ledger
    from summarise.batchapi.plan import load_plan

    if not (folder / LEDGER_NAME).is_file():
        raise UsageError(f"{folder} holds no batch ledger: run 'summarise batch prepare' first")
    ledger = Ledger.existing(folder)
    try:
        plan = load_plan(ledger)
    finally:
        ledger.close()
    if plan is None:
        raise UsageError(f"{folder}: the ledger has no plan; prepare again")
    if model and model != plan.model:
        raise UsageError(f"{folder} was prepared for model {plan.model!r}, not {model!r}")
    return _endpoint(plan.model, base_url, api_key_env, {"max_tokens": plan.max_tokens})
