"""Batch: many articles through the pipeline with bounded concurrency, exactly once each.

Input is consumed lazily: at most ``concurrency`` articles are held at a time, so a
JSONL export of a million lines streams through in constant memory. Each finished
article is written (and flushed) the moment it completes; articles already present in
the feed or the errors file (same id, content, prompt version and model) are skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from summarise.backends.base import Backend, Extraction
from summarise.clean import CleanArticle
from summarise.config import BACKEND_DEFAULTS
from summarise.errors import FatalError, UsageError, WriteError
from summarise.feed import (
    STDOUT,
    FeedWriter,
    ResumeIndex,
    compact_errors,
    default_errors_path,
    load_keys,
    resume_key,
)
from summarise.ingest import RawArticle, check_inputs, read
from summarise.pipeline import process
from summarise.schema import Record

DEDUP_WINDOW = 10_000


def parse_shard(value: str) -> tuple[int, int]:
    """``"2/8"`` -> (2, 8): this process takes the second of eight shards."""
    try:
        k_text, n_text = value.split("/")
        k, n = int(k_text), int(n_text)
    except ValueError as exc:
        raise UsageError(f"--shard must look like K/N (e.g. 1/4), not {value!r}") from exc
    if not 1 <= k <= n:
        raise UsageError(f"--shard {value}: K must be between 1 and N")
    return k, n


def in_shard(article_id: str, shard: tuple[int, int] | None) -> bool:
    """Stable across machines and Python runs (no ``hash()`` randomisation)."""
    if shard is None:
        return True
    k, n = shard
    digest = hashlib.blake2b(article_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n == k - 1


@dataclass
class RunOptions:
    """How a batch runs (``Settings`` says what it talks to)."""

    concurrency: int = BACKEND_DEFAULTS["openai"].concurrency
    """Articles in flight at once."""
    shard: tuple[int, int] | None = None
    """(K, N): only the K-th of N deterministic slices of the input."""
    retry_errors: bool = False
    """Retry articles already in the errors file (their lines are then replaced)."""
    strict: bool = False
    """Drop quotes not found in the article."""
    max_tokens_per_run: int | None = None
    """Stop admitting articles once this many tokens are spent."""


@dataclass
class RunStats:
    """What a run did; printed at the end and written as ``run-stats.json``."""

    ok: int = 0
    """Articles written to the feed."""
    failed: int = 0
    """Articles written to the errors file."""
    skipped: int = 0
    """Articles a previous run had already done (resume)."""
    deduplicated: int = 0
    """Articles whose content was the same as another's: sent to the model once."""
    wall_s: float = 0.0
    stopped: str | None = None
    """Why the run stopped early (token budget, fatal error), if it did."""
    in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the provider served from its cache."""
    errors: Counter[str] = field(default_factory=Counter)
    """Error records by code."""

    @property
    def done(self) -> int:
        return self.ok + self.failed

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["errors"] = dict(self.errors)
        data["articles_per_s"] = round(self.done / self.wall_s, 2) if self.wall_s else None
        return data


class DeduplicatingBackend:
    """Sends identical article content to the wrapped backend once per recent window."""

    def __init__(self, inner: Backend, window: int = DEDUP_WINDOW) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.endpoint = inner.endpoint
        self.prompt_version = inner.prompt_version
        self.window = window
        self.hits = 0
        self._seen: OrderedDict[str, asyncio.Future[tuple[Extraction, str]]] = OrderedDict()

    async def start(self) -> None:
        await self.inner.start()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        key = hashlib.sha256(
            "\0".join((article.title or "", article.published or "", article.text)).encode()
        ).hexdigest()
        if key in self._seen:
            self.hits += 1
            self._seen.move_to_end(key)
            return await asyncio.shield(self._seen[key])
        future: asyncio.Future[tuple[Extraction, str]] = asyncio.get_running_loop().create_future()
        self._seen[key] = future
        if len(self._seen) > self.window:
            self._seen.popitem(last=False)
        try:
            result = await self.inner.summarise(article)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: duplicates may never ask
            raise
        future.set_result(result)
        return result


async def run_batch(
    raws: Iterable[RawArticle],
    backend: Backend,
    writer: FeedWriter,
    *,
    options: RunOptions,
    index: ResumeIndex | None = None,
    on_update: Callable[[RunStats], None] | None = None,
    stats: RunStats | None = None,
) -> RunStats:
    """Process every article once; raises ``FatalError`` (after stopping) if one occurs.

    Pass ``stats`` to keep the counts when a ``FatalError`` ends the run.
    """
    stats = stats if stats is not None else RunStats()
    started = time.monotonic()
    dedup = DeduplicatingBackend(backend)
    slots = asyncio.Semaphore(options.concurrency)
    tasks: set[asyncio.Task[None]] = set()
    fatal: list[FatalError] = []

    def notify() -> None:
        stats.wall_s = round(time.monotonic() - started, 3)
        stats.deduplicated = dedup.hits
        if on_update:
            on_update(stats)

    async def work(raw: RawArticle) -> None:
        try:
            result = await process(raw, dedup, strict=options.strict)
            writer.write(result)
        except FatalError as exc:
            fatal.append(exc)
            return
        except OSError as exc:  # a feed that cannot be written: nothing more is worth asking
            fatal.append(WriteError(f"cannot write the feed or errors file: {exc}"))
            return
        finally:
            slots.release()
            stats.in_flight -= 1
        if isinstance(result, Record):
            stats.ok += 1
            usage = result.provenance.usage
        else:
            stats.failed += 1
            stats.errors[result.error] += 1
            usage = result.usage  # failed attempts cost tokens too
        stats.prompt_tokens += usage.prompt_tokens
        stats.completion_tokens += usage.completion_tokens
        stats.cached_tokens += usage.cached_tokens
        notify()

    def over_budget() -> bool:
        return options.max_tokens_per_run is not None and stats.tokens >= options.max_tokens_per_run

    try:
        for raw in raws:
            if not in_shard(raw.id, options.shard):
                continue
            key = resume_key(raw.id, raw.sha256, backend.prompt_version, backend.model)
            if index is not None and index.should_skip(key, options.retry_errors):
                stats.skipped += 1
                continue
            await slots.acquire()
            if fatal:
                break
            if over_budget():
                stats.stopped = f"token budget of {options.max_tokens_per_run} reached"
                break
            stats.in_flight += 1
            task = asyncio.create_task(work(raw))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        while tasks and not fatal:
            await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        notify()
    if fatal:
        stats.stopped = str(fatal[0])
        raise fatal[0]
    return stats


@dataclass
class Job:
    """A whole run: inputs, outputs and options (what ``summarise run`` does)."""

    inputs: list[str]
    output: str = "outputs/summaries.jsonl"
    errors: str | None = None
    options: RunOptions = field(default_factory=RunOptions)

    @property
    def errors_path(self) -> Path:
        return Path(self.errors) if self.errors else default_errors_path(self.output)

    @property
    def stats_path(self) -> Path:
        base = self.errors_path.parent if self.output == STDOUT else Path(self.output).parent
        return base / "run-stats.json"


async def run_job(
    job: Job,
    backend: Backend,
    *,
    stdin: BinaryIO | None = None,
    on_update: Callable[[RunStats], None] | None = None,
) -> RunStats:
    """Expand inputs, resume from existing outputs, run, and write ``run-stats.json``.

    Raises ``InputError`` for inputs that name nothing, before anything is written.
    """
    paths = check_inputs(job.inputs)
    index = ResumeIndex.load(job.output, job.errors_path)
    stats = RunStats()
    try:
        await backend.start()  # inside: a backend that fails to start is still closed
        with FeedWriter(job.output, job.errors_path) as writer:
            try:
                await run_batch(
                    read(paths, stdin),
                    backend,
                    writer,
                    options=job.options,
                    index=index,
                    on_update=on_update,
                    stats=stats,
                )
            finally:
                if job.options.retry_errors and job.output != STDOUT:
                    compact_errors(job.errors_path, load_keys(Path(job.output)))
    finally:
        await backend.aclose()
        job.stats_path.parent.mkdir(parents=True, exist_ok=True)
        job.stats_path.write_text(json.dumps(stats.to_dict(), indent=2) + "\n", encoding="utf-8")
    return stats
