"""Batch: many articles through the pipeline with bounded concurrency, exactly once each.

Input is consumed lazily: at most ``concurrency`` articles are held at a time, so a
JSONL export of a million lines streams through in constant memory. Each finished
article is written (and flushed) the moment it completes; articles already present in
the feed or the errors file (same id, content, prompt version and model) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from summarise.backends.base import Backend
from summarise.budget import BudgetReached, TokenBudget, current_budget
from summarise.config import BACKEND_DEFAULTS, DEFAULT_FEED
from summarise.cost import run_cost
from summarise.errors import FatalError, UsageError, WriteError
from summarise.feed import STDOUT, FeedWriter, default_errors_path
from summarise.ingest import InputFormat, RawArticle, check_inputs, read
from summarise.outputs import STATS_NAME, FeedLock, OutputPaths
from summarise.resume import FeedState, reconcile_errors, resume_key
from summarise.workers import Lanes, LocalLane, WorkerProcess, WorkerSetup

WaitHook = Callable[[str], None] | None


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
    """Token budget: articles are admitted only while it can hold their worst case."""
    supersede: bool = False
    """Replace records of another model or prompt in the feed instead of refusing to."""
    workers: int = 1
    """Processes that run articles (``summarise.workers``); this one writes. Above 1 only
    for backends that can be rebuilt in another process, and never with a token budget
    (which is counted in this process)."""


@dataclass
class RunStats:
    """What a run did; printed at the end and written as ``run-stats.json``."""

    ok: int = 0
    """Articles written to the feed."""
    failed: int = 0
    """Articles written to the errors file."""
    skipped: int = 0
    """Articles a previous run had already done (resume)."""
    stopped: str | None = None
    """Why the run stopped early (token budget, fatal error), if it did."""
    deduplicated: int = 0
    """Articles whose content was the same as another's: sent to the model once."""
    wall_s: float = 0.0
    errors: Counter[str] = field(default_factory=Counter)
    """Error records by code."""
    in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    """Prompt tokens the provider served from its cache."""
    workers: int = 1
    """Worker processes the run had (``RunOptions.workers``; 1: this process only)."""
    in_workers: int = 0
    """Articles the worker processes ran; the rest ran in this process (all of them with
    one worker, and the first ones while the workers start up)."""

    @property
    def done(self) -> int:
        return self.ok + self.failed

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def to_dict(self, model: str | None = None) -> dict[str, Any]:
        """The counts, plus ``cost_usd`` at ``model``'s synchronous price in the price table
        (``summarise.cost``); None for a model without a price (offline, local)."""
        data = asdict(self)
        data["errors"] = dict(self.errors)
        data["articles_per_s"] = round(self.done / self.wall_s, 2) if self.wall_s else None
        data["cost_usd"] = run_cost(
            model, self.prompt_tokens, self.completion_tokens, self.cached_tokens
        )
        return data


HEARTBEAT_S = 10.0


def _every(
    interval_s: float, say: Callable[[], str | None], on_wait: WaitHook
) -> asyncio.Task[None]:
    """A background task that calls ``on_wait(say())`` every ``interval_s`` while ``say``
    has something to say (None: nothing to report this time)."""

    async def tick() -> None:
        while True:
            await asyncio.sleep(interval_s)
            message = say()
            if message and on_wait is not None:
                on_wait(message)

    return asyncio.create_task(tick())


async def run_batch(
    raws: Iterable[RawArticle],
    backend: Backend,
    writer: FeedWriter,
    *,
    options: RunOptions,
    state: FeedState | None = None,
    on_update: Callable[[RunStats], None] | None = None,
    on_wait: WaitHook = None,
    stats: RunStats | None = None,
) -> RunStats:
    """Process every article once; raises ``FatalError`` (after stopping) if one occurs.

    Pass ``stats`` to keep the counts when a ``FatalError`` ends the run. With a token
    budget (``summarise.budget``), running out of it stops admitting articles and lets the
    ones in flight finish before the run ends with ``stats.stopped`` set.
    """
    stats = stats if stats is not None else RunStats()
    state = state if state is not None else FeedState()
    config = (backend.model, backend.prompt_version)
    started = time.monotonic()
    lanes = _lanes(backend, options)
    stats.workers = max(1, len(lanes.workers))
    slots = asyncio.Semaphore(options.concurrency)
    tasks: dict[asyncio.Task[None], float] = {}  # task -> when it started
    fatal: list[FatalError] = []
    last_done = [started]
    budget_over: list[BudgetReached] = []
    if options.max_tokens_per_run is not None:
        current_budget.set(TokenBudget(options.max_tokens_per_run))  # tasks inherit it

    def notify() -> None:
        stats.wall_s = round(time.monotonic() - started, 3)
        stats.deduplicated = lanes.hits
        stats.in_workers = lanes.in_workers
        if on_update:
            on_update(stats)

    def waiting() -> str | None:
        now = time.monotonic()
        if not tasks or now - last_done[0] < HEARTBEAT_S:
            return None
        oldest = now - min(tasks.values())
        return f"waiting for the endpoint: {len(tasks)} requests in flight, oldest {oldest:.0f} s"

    async def work(raw: RawArticle) -> None:
        try:
            outcome = await lanes.run(raw, state.superseded(raw.id, config))
            writer.append(outcome.ok, outcome.line)
        except BudgetReached as exc:  # this article is redone by the next run
            budget_over.append(exc)
            return
        except FatalError as exc:
            fatal.append(exc)
            return
        except Exception as exc:  # a bug past the pipeline: stop rather than lose the article
            fatal.append(FatalError(f"internal error: {type(exc).__name__}: {exc}"))
            return
        finally:
            slots.release()
            stats.in_flight -= 1
        last_done[0] = time.monotonic()
        if outcome.ok:
            state.note(outcome.id, config)
            stats.ok += 1
        else:
            stats.failed += 1
            stats.errors[outcome.error or "unknown"] += 1
        usage = outcome.usage  # failed attempts cost tokens too
        stats.prompt_tokens += usage.prompt_tokens
        stats.completion_tokens += usage.completion_tokens
        stats.cached_tokens += usage.cached_tokens
        notify()

    heartbeat = _every(HEARTBEAT_S, waiting, on_wait)
    try:
        await lanes.start()
        for raw in raws:
            if not in_shard(raw.id, options.shard):
                continue
            key = resume_key(raw.id, raw.sha256, backend.prompt_version, backend.model)
            if state.should_skip(key, options.retry_errors):
                stats.skipped += 1
                continue
            await slots.acquire()
            if fatal or budget_over:
                break
            stats.in_flight += 1
            task = asyncio.create_task(work(raw))
            tasks[task] = time.monotonic()
            task.add_done_callback(lambda done: tasks.pop(done, None))
        while tasks and not fatal:  # out of budget: what is in flight still finishes
            await asyncio.wait(set(tasks), return_when=asyncio.FIRST_COMPLETED)
    finally:
        heartbeat.cancel()
        pending = list(tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(heartbeat, *pending, return_exceptions=True)
        await lanes.close()
        notify()
    if fatal:
        stats.stopped = str(fatal[0])
        raise fatal[0]
    if budget_over:
        stats.stopped = budget_over[0].message
    return stats


def _lanes(backend: Backend, options: RunOptions) -> Lanes:
    """This process, and ``options.workers`` worker processes where the backend allows."""
    local = LocalLane(backend, options.strict)
    if options.workers <= 1 or options.max_tokens_per_run is not None:
        return Lanes(local)
    recipe = backend.worker_recipe(options.workers)
    if recipe is None:
        return Lanes(local)
    setup = WorkerSetup(recipe, options.strict)
    return Lanes(local, [WorkerProcess(setup) for _ in range(options.workers)])


@dataclass
class Job:
    """A whole run: inputs, outputs and options (what ``summarise run`` does)."""

    inputs: list[str]
    output: str = DEFAULT_FEED
    errors: str | None = None
    options: RunOptions = field(default_factory=RunOptions)
    stdin_format: InputFormat = "text"
    """What ``-`` (stdin) holds: one article (text or HTML), or JSONL lines."""

    @property
    def outputs(self) -> OutputPaths:
        errors = Path(self.errors) if self.errors else default_errors_path(self.output)
        feed = Path(self.output)
        beside_errors = self.output == STDOUT or feed.is_char_device()  # -o -, -o /dev/full
        base = errors.parent if beside_errors else feed.parent
        return OutputPaths(feed=self.output, errors=errors, stats=base / STATS_NAME)


async def run_job(
    job: Job,
    backend: Backend,
    *,
    stdin: BinaryIO | None = None,
    on_update: Callable[[RunStats], None] | None = None,
    on_started: Callable[[Backend], None] | None = None,
    on_wait: WaitHook = None,
) -> RunStats:
    """Check the outputs, lock the feed, resume from it, run, and write ``run-stats.json``.

    Raises ``UsageError`` or ``InputError`` for outputs or inputs that cannot work, and
    ``FeedRefused`` for a feed this run may not write, before anything is
    written or any request is sent.
    """
    outputs = job.outputs
    outputs.check(job.inputs)
    paths = check_inputs(job.inputs, exclude=outputs.files())
    stats = RunStats()
    with FeedLock(outputs.lock, job.output):
        state = FeedState.load(job.output, outputs.errors)
        state.check_config(
            (backend.model, backend.prompt_version),
            supersede=job.options.supersede,
            feed=job.output,
        )
        _reconcile(outputs, state)
        probing = _every(HEARTBEAT_S, lambda: f"waiting for {backend.endpoint} to answer", on_wait)
        try:
            try:
                await backend.start()  # inside: a backend that fails to start is still closed
            finally:
                probing.cancel()
            if on_started is not None:
                on_started(backend)
            with FeedWriter(job.output, outputs.errors) as writer:
                await run_batch(
                    read(paths, stdin, stdin_format=job.stdin_format),
                    backend,
                    writer,
                    options=job.options,
                    state=state,
                    on_update=on_update,
                    on_wait=on_wait,
                    stats=stats,
                )
        finally:
            await backend.aclose()
            _reconcile(outputs, state)
            _write_stats(outputs.stats, stats, backend.model)
    return stats


def _reconcile(outputs: OutputPaths, state: FeedState) -> None:
    try:
        reconcile_errors(outputs.errors, state.current)
    except OSError as exc:
        raise WriteError(f"cannot rewrite the errors file {outputs.errors}: {exc}") from exc


def _write_stats(path: Path, stats: RunStats, model: str | None = None) -> None:
    """Replace ``run-stats.json`` whole or not at all (a full disk keeps the old one)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(stats.to_dict(model), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
