"""``batch prepare``: inputs -> request files and ledger rows, streaming, no network.

Each article goes through the same stages as in ``summarise run`` up to the request:
ingest, clean, the text fitted to ``max_article_chars``, ``prompt.build_messages``, and
``chat_body`` with the strict ``json_schema`` response format. Articles already in the
feed or the errors file (same resume key), or already in the ledger, are skipped; an
article that fails before the request is built gets its error record at once, as in
``run``. Memory is bounded: one article at a time, and the ledger's uncommitted rows live
in sqlite's journal on disk, not in Python.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from summarise import prompt
from summarise.backends.base import (
    DEFAULT_MAX_ARTICLE_CHARS,
    article_char_budget,
    fit_text,
    truncation_warning,
)
from summarise.backends.openai.attempts import Attempts
from summarise.batch import in_shard
from summarise.batchapi.ledger import Entry, FileRow, Ledger, State
from summarise.batchapi.plan import BatchProducer, Plan, outputs_for, save_plan
from summarise.batchapi.requests import (
    Limits,
    RequestFiles,
    custom_id,
    recover_parts,
    request_line,
)
from summarise.clean import clean
from summarise.config import EndpointConfig
from summarise.errors import ArticleError, WriteError
from summarise.feed import FeedWriter
from summarise.ingest import InputFormat, RawArticle, check_inputs, read
from summarise.outputs import FeedLock
from summarise.pipeline import ArticleInfo, error_record
from summarise.resume import FeedState, reconcile_errors, resume_key
from summarise.schema import RecordWarning

LOCK_NAME = "ledger.lock"


@dataclass
class PrepareStats:
    """What one ``prepare`` did."""

    prepared: int = 0
    """Articles written to request files."""
    failed: int = 0
    """Articles that got an error record (ingest, clean, an over-size request)."""
    in_feed: int = 0
    """Skipped: already in the feed or the errors file."""
    in_ledger: int = 0
    """Skipped: already prepared in this folder."""
    files: list[str] = field(default_factory=list)
    """Request files written, relative to the folder."""


@dataclass(frozen=True)
class PrepareOptions:
    """How to prepare (besides the endpoint config that shapes the bodies)."""

    feed: str
    errors: str | None = None
    limits: Limits = field(default_factory=Limits)
    shard: tuple[int, int] | None = None
    supersede: bool = False
    stdin_format: InputFormat = "text"


def plan_for(config: EndpointConfig, options: PrepareOptions) -> Plan:
    """The plan of a folder prepared with ``config`` and ``options``."""
    outputs = outputs_for(options.feed, options.errors)
    max_chars = DEFAULT_MAX_ARTICLE_CHARS
    if config.context_length:
        system = len(prompt.load_prompts().system)
        max_chars = article_char_budget(config.context_length, config.max_tokens, system)
    return Plan(
        model=config.model,
        prompt_version=prompt.prompt_version(),
        endpoint_host=config.endpoint_host,
        max_tokens=config.max_tokens,
        temperature=config.temperature,
        system_in_user=config.system_in_user,
        max_article_chars=max_chars,
        feed=str(Path(options.feed).resolve()),
        errors=str(outputs.errors.resolve()),
    )


def prepare(
    inputs: list[str],
    folder: Path,
    config: EndpointConfig,
    options: PrepareOptions,
    *,
    stdin: BinaryIO | None = None,
) -> PrepareStats:
    """Write request files for every new article of ``inputs`` into ``folder``."""
    outputs = outputs_for(options.feed, options.errors)
    outputs.check(inputs)
    exclude = outputs.files() | _files_under(folder)
    paths = check_inputs(inputs, exclude=exclude)
    stats = PrepareStats()
    folder.mkdir(parents=True, exist_ok=True)
    with (
        FeedLock(folder / LOCK_NAME, str(folder)),
        FeedLock(outputs.lock, options.feed),
        Ledger(folder) as ledger,
    ):
        plan = save_plan(ledger, plan_for(config, options))
        recover_parts(folder, lambda path: ledger.file(path) is not None)
        state = FeedState.load(options.feed, outputs.errors)
        state.check_config(
            (plan.model, plan.prompt_version), supersede=options.supersede, feed=options.feed
        )
        _reconcile(outputs.errors, state)
        producer = plan.producer(plan.endpoint_host)

        def committed(path: str, lines: int, size: int) -> None:
            ledger.add_file(FileRow(path, 1, lines, size))
            ledger.commit()
            stats.files.append(path)

        files = RequestFiles(folder, 1, options.limits, committed)
        try:
            with FeedWriter(options.feed, outputs.errors) as writer:
                for raw in read(paths, stdin, stdin_format=options.stdin_format):
                    if not in_shard(raw.id, options.shard):
                        continue
                    _prepare_one(raw, plan, ledger, files, state, stats, writer.write, producer)
            files.close()
        except BaseException:
            files.abandon()
            raise
    return stats


def _prepare_one(
    raw: RawArticle,
    plan: Plan,
    ledger: Ledger,
    files: RequestFiles,
    state: FeedState,
    stats: PrepareStats,
    write: Callable[..., None],
    producer: BatchProducer,
) -> None:
    key = resume_key(raw.id, raw.sha256, plan.prompt_version, plan.model)
    if state.should_skip(key, retry_errors=False):
        stats.in_feed += 1
        return
    if ledger.has(key.hex()):
        stats.in_ledger += 1
        return
    try:
        entry = build_entry(raw, plan, key.hex())
        line = request_line(plan.body_config(), entry.key, 1, entry.attempts.conversation)
        if not files.fits(line):
            raise ArticleError(
                "request_too_large",
                f"the request is {len(line)} bytes, over the file limit of "
                f"{files.limits.max_bytes}",
                stage="prompt",
            )
    except ArticleError as exc:
        write(error_record(raw, producer, exc))
        stats.failed += 1
        return
    except Exception as exc:  # a bug: the article still ends as a line, never lost
        bug = ArticleError(
            "internal_error", f"{type(exc).__name__} while preparing: {exc}"[:2000], stage="prompt"
        )
        write(error_record(raw, producer, bug))
        stats.failed += 1
        return
    entry.file = files.add(line)
    ledger.put(entry)
    stats.prepared += 1


def build_entry(raw: RawArticle, plan: Plan, key: str) -> Entry:
    """Ingest and clean ``raw`` and build its first request (``ArticleError`` if it cannot
    become one), as ``summarise.pipeline.process`` and ``OpenAIBackend`` would."""
    if raw.error:
        raise ArticleError(raw.error, raw.message or raw.error, stage="ingest")
    article = clean(raw)
    if not article.text.strip():
        raise ArticleError("no_article", "no article text left after cleaning", stage="clean")
    text, cut = fit_text(article.text, plan.max_article_chars)
    notes: list[RecordWarning] = []
    if cut:
        notes.append(truncation_warning(len(article.text), len(text), "to fit the model's context"))
    messages = prompt.build_messages(
        text, title=article.title, published=article.published, system_in_user=plan.system_in_user
    )
    return Entry(
        key=key,
        info=ArticleInfo.of(raw, article),
        text=text,
        attempts=Attempts.start(messages),
        notes=notes,
        state=State.prepared,
        round=1,
        custom_id=custom_id(key, 1),
    )


def _files_under(folder: Path) -> frozenset[Path]:
    """Every file already in the batch folder: never read as an input."""
    if not folder.is_dir():
        return frozenset()
    return frozenset(p.resolve() for p in folder.rglob("*") if p.is_file())


def _reconcile(errors: Path, state: FeedState) -> None:
    try:
        reconcile_errors(errors, state.current)
    except OSError as exc:
        raise WriteError(f"cannot rewrite the errors file {errors}: {exc}") from exc
