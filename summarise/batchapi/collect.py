"""``batch collect``: results -> records and error records, and the next round's requests.

Every answer goes through the synchronous path's code: ``Attempts.judge`` (validation,
re-ask set-up, truncation, refusal), then ``summarise.pipeline.make_record`` (grounding,
provenance) into the same feed and errors file as ``summarise run``. Then:

- a valid answer -> its record in the feed, the article ``done``;
- an invalid or cut-off answer -> a re-ask (``Attempts.conversation``) queued for the
  next round, or asked at once with ``--sync-fixups``; a refusal -> an error record;
- a failed request (an error line, ``status_code`` 0, a batch that expired, was
  cancelled or failed, a request missing from every result file) -> queued again;
- past ``max_rounds`` (or ``max_attempts`` answers) -> an error record saying why.

Crash-safe and idempotent: a line is written to the feed (or errors file) before the
ledger marks the article finished, and on start an article whose key is already in the
feed (errors file) is marked done (failed). A result whose ``custom_id`` names another
round than the article's current one, or an article already finished, is ignored.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from summarise.backends.base import Extraction
from summarise.backends.openai.attempts import ModelError
from summarise.batchapi.ledger import LEDGER_NAME, OPEN_STATES, Entry, FileRow, Ledger, State
from summarise.batchapi.plan import BatchProducer, Plan, load_plan, outputs_for
from summarise.batchapi.prepare import LOCK_NAME
from summarise.batchapi.requests import (
    Limits,
    RequestFiles,
    custom_id,
    parse_custom_id,
    recover_parts,
    request_line,
)
from summarise.batchapi.results import Result, read_results
from summarise.errors import ArticleError, FatalError, UsageError
from summarise.feed import FeedWriter
from summarise.outputs import FeedLock
from summarise.pipeline import error_line, make_record
from summarise.resume import FeedState, reconcile_errors
from summarise.schema import ModelSummary, Usage

COMMIT_EVERY = 500
"""Ledger commits while collecting (a crash redoes at most this many, from the feed)."""

LEFTOVER = {
    "completed": ("missing_result", "no result line for this request"),
    "expired": ("batch_expired", "the batch expired before this request ran"),
    "cancelled": ("batch_cancelled", "the batch was cancelled before this request ran"),
    "failed": ("batch_failed", "the batch failed"),
}
"""Why a request with no result line is sent again, by the status its batch ended in."""

Fixes = list[tuple[Entry, Extraction | ArticleError]]
Fixer = Callable[[Sequence[Entry]], Coroutine[Any, Any, Fixes]]
"""Asks re-asks synchronously (``--sync-fixups``): each entry's extraction or error."""


@dataclass(frozen=True)
class ResultSet:
    """Result files of one batch (or local files) and the request files they answer."""

    paths: Sequence[Path]
    files: frozenset[str] | None = None
    """Request files these results are for; None: every file they hold a line of."""
    batch_id: str | None = None
    status: str = "completed"
    """The status the batch ended in (decides why a missing request is sent again)."""
    endpoint: str | None = None
    detail: str | None = None
    """What a failed batch's ``errors`` said."""


@dataclass(frozen=True)
class CollectOptions:
    """How to collect."""

    max_rounds: int = 3
    max_attempts: int = 3
    """Answers per article, re-asks included (``summarise run --max-attempts``)."""
    strict: bool = False
    supersede: bool = False
    limits: Limits = field(default_factory=Limits)
    feed: str | None = None
    """Another feed than the one the folder was prepared for (``-o``)."""
    errors: str | None = None


@dataclass
class CollectStats:
    """What one ``collect`` did."""

    done: int = 0
    failed: int = 0
    reasked: int = 0
    requeued: int = 0
    fixed: int = 0
    """Re-asks answered synchronously (``--sync-fixups``)."""
    ignored: int = 0
    """Result lines for an article already finished, or for an earlier round."""
    unknown: int = 0
    """Result lines whose ``custom_id`` this folder never wrote."""
    files: list[str] = field(default_factory=list)
    """Request files of the next round(s)."""


class Collector:
    """Turns results into lines of the feed and the errors file, and ledger changes."""

    def __init__(
        self,
        ledger: Ledger,
        plan: Plan,
        writer: FeedWriter,
        state: FeedState,
        options: CollectOptions,
    ) -> None:
        self.ledger = ledger
        self.plan = plan
        self.writer = writer
        self.state = state
        self.options = options
        self.stats = CollectStats()
        self._pending = 0

    def reconcile(self) -> None:
        """Articles whose line reached the feed (errors file) before a crash are done
        (failed); so are articles a ``summarise run`` on the same feed has finished."""
        for key in self.ledger.unfinished():
            digest = bytes.fromhex(key)
            if digest in self.state.done:
                self.ledger.set_state(key, State.done)
            elif digest in self.state.failed:
                self.ledger.set_state(key, State.failed)
        self.ledger.commit()

    def take(self, results: ResultSet) -> None:
        """Every line of ``results``, then what they left unanswered."""
        touched: set[str] = set()
        producer = self.plan.producer(results.endpoint)
        for path in results.paths:
            for result in read_results(path):
                entry = self._entry_for(result)
                if entry is None:
                    continue
                if entry.file:
                    touched.add(entry.file)
                self._answer(entry, result, producer, results.batch_id)
                self._tick()
        code, message = LEFTOVER.get(results.status, LEFTOVER["failed"])
        if results.detail:
            message = f"{message}: {results.detail}"
        for file in sorted(results.files if results.files is not None else touched):
            for key in self.ledger.keys(*OPEN_STATES, file=file):
                entry = self.ledger.get(key)
                if entry is not None:
                    self._requeue(entry, code, message, producer)
            self.ledger.set_file(file, collected=True, status=results.status)
        self.ledger.commit()

    def _entry_for(self, result: Result) -> Entry | None:
        parsed = parse_custom_id(result.custom_id)
        entry = self.ledger.get(parsed[0]) if parsed else None
        if parsed is None or entry is None:
            self.stats.unknown += 1
            return None
        if entry.state not in OPEN_STATES or entry.round != parsed[1]:
            self.stats.ignored += 1
            return None
        return entry

    def _answer(
        self, entry: Entry, result: Result, producer: BatchProducer, batch_id: str | None
    ) -> None:
        if result.error is not None:
            self._requeue(entry, *result.error, producer)
            return
        try:
            completion = ChatCompletion.model_validate(result.body)
        except ValidationError as exc:
            self._requeue(entry, "bad_response", f"not a chat completion: {exc}"[:500], producer)
            return
        entry.batch_id = batch_id
        try:
            summary = entry.attempts.judge(completion)
        except ModelError as exc:  # a refusal
            self._fail(entry, exc, producer)
            return
        if summary is not None:
            self.finish(entry, _extraction(entry, summary), producer, batch_id)
        elif entry.attempts.made >= self.options.max_attempts:
            self._fail(entry, entry.attempts.exhausted(self.options.max_attempts), producer)
        else:
            self.stats.reasked += 1
            code, message = entry.attempts.problem
            self._queue(entry, "reask", code, message, producer)

    def _requeue(self, entry: Entry, code: str, message: str, producer: BatchProducer) -> None:
        self.stats.requeued += 1
        self._queue(entry, "requeue", code, message, producer)

    def _queue(
        self, entry: Entry, kind: str, code: str, message: str, producer: BatchProducer
    ) -> None:
        """Queue ``entry`` for the next round (``kind``: reask or requeue), or end it with an
        error record if this was its last round."""
        if entry.round >= self.options.max_rounds:
            text = f"{message} (no valid answer after {entry.round} rounds)"
            stage: Literal["model", "validate"] = (
                "validate" if code in ("invalid_json", "schema_invalid") else "model"
            )
            self._fail(entry, entry.attempts.failure(code, text, stage=stage), producer)
            return
        entry.state, entry.round, entry.file = State.queued, entry.round + 1, None
        entry.reason, entry.custom_id = f"{kind}: {code}: {message}"[:500], None
        self.ledger.put(entry)

    def finish(
        self,
        entry: Entry,
        extraction: Extraction,
        producer: BatchProducer,
        batch_id: str | None,
    ) -> None:
        """Ground and write the record, then mark the article done."""
        try:
            record = make_record(
                entry.info,
                producer,
                entry.text,
                extraction,
                strict=self.options.strict,
                batch_id=batch_id,
            )
        except FatalError:
            raise
        except Exception as exc:  # a bug in grounding: an error record, never a lost article
            message = f"{type(exc).__name__} in the ground stage: {exc}"[:2000]
            self._fail(entry, ArticleError("internal_error", message, stage="ground"), producer)
            return
        config = (self.plan.model, self.plan.prompt_version)
        record.supersedes = self.state.superseded(record.id, config)
        self.writer.write(record)
        self.state.note(record.id, config)
        entry.state, entry.reason = State.done, None
        self.ledger.put(entry)
        self.stats.done += 1

    def _fail(self, entry: Entry, error: ArticleError, producer: BatchProducer) -> None:
        """Write the error record, then mark the article failed."""
        self.writer.write(error_line(entry.info.id, entry.info.source, producer, error))
        entry.state, entry.reason = State.failed, f"{error.code}: {error.message}"[:500]
        self.ledger.put(entry)
        self.stats.failed += 1

    def _tick(self) -> None:
        self._pending += 1
        if self._pending >= COMMIT_EVERY:
            self.ledger.commit()
            self._pending = 0

    def write_next_rounds(self) -> None:
        """Every queued article's next request, into ``round-N/requests-NNNN.jsonl``; one
        round at a time, so that each commit covers whole files only."""
        config = self.plan.body_config()
        producer = self.plan.producer()
        for round_ in self.ledger.rounds(State.queued):
            files = RequestFiles(
                self.ledger.folder, round_, self.options.limits, self._committer(round_)
            )
            try:
                for key in self.ledger.keys(State.queued, round_=round_):
                    entry = self.ledger.get(key)
                    if entry is None:
                        continue
                    line = request_line(config, key, round_, entry.attempts.conversation)
                    if not files.fits(line):
                        error = entry.attempts.failure(
                            "request_too_large", f"the round {round_} request is {len(line)} bytes"
                        )
                        self._fail(entry, error, producer)
                        continue
                    entry.file = files.add(line)
                    entry.state, entry.custom_id = State.prepared, custom_id(key, round_)
                    self.ledger.put(entry)
                files.close()
            except BaseException:
                files.abandon()
                raise

    def _committer(self, round_: int) -> Callable[[str, int, int], None]:
        def committed(path: str, lines: int, size: int) -> None:
            self.ledger.add_file(FileRow(path, round_, lines, size))
            self.ledger.commit()
            self.stats.files.append(path)

        return committed

    def reasks(self) -> list[Entry]:
        """Queued re-asks (``--sync-fixups`` answers them now instead of next round)."""
        found = (self.ledger.get(key) for key in self.ledger.keys(State.queued))
        return [e for e in found if e is not None and (e.reason or "").startswith("reask")]

    def take_fixes(
        self, fixes: Iterable[tuple[Entry, Extraction | ArticleError]], endpoint: str | None
    ) -> None:
        """Records (or error records) for re-asks answered synchronously."""
        producer = self.plan.producer(endpoint)
        for entry, outcome in fixes:
            if isinstance(outcome, ArticleError):
                self._fail(entry, outcome, producer)
            else:
                self.stats.fixed += 1
                self.finish(entry, outcome, producer, entry.batch_id)
        self.ledger.commit()


def _extraction(entry: Entry, summary: ModelSummary) -> Extraction:
    attempts = entry.attempts
    return Extraction(
        summary=summary,
        attempts=attempts.made,
        usage=attempts.usage,
        finish_reason=attempts.finish_reason,
        latency_s=0.0,  # a batch has no per-request latency
        response_id=attempts.last_response_id,
        warnings=[*attempts.warnings, *entry.notes],
    )


def merge_fix(entry: Entry, outcome: Extraction | ArticleError) -> Extraction | ArticleError:
    """A synchronous re-ask's outcome, counting the batch answers before it."""
    before = entry.attempts
    if isinstance(outcome, ArticleError):
        outcome.attempts += before.made
        outcome.usage = _sum_usage(before.usage, outcome.usage)
        return outcome
    return dataclasses.replace(
        outcome,
        attempts=before.made + outcome.attempts,
        usage=_sum_usage(before.usage, outcome.usage),
        warnings=[*before.warnings, *outcome.warnings, *entry.notes],
    )


def _sum_usage(a: Usage, b: Usage) -> Usage:
    return Usage(
        prompt_tokens=a.prompt_tokens + b.prompt_tokens,
        completion_tokens=a.completion_tokens + b.completion_tokens,
        cached_tokens=a.cached_tokens + b.cached_tokens,
    )


def collect(
    folder: Path,
    sources: Callable[[Ledger], Iterable[ResultSet]],
    options: CollectOptions,
    *,
    fixer: Fixer | None = None,
    fixer_endpoint: str | None = None,
) -> CollectStats:
    """Take every result ``sources(ledger)`` yields, answer re-asks with ``fixer`` if given,
    and write the next round's requests."""
    if not (folder / LEDGER_NAME).is_file():
        raise UsageError(f"{folder} holds no batch ledger: run 'summarise batch prepare' first")
    with FeedLock(folder / LOCK_NAME, str(folder)), Ledger(folder) as ledger:
        plan = load_plan(ledger)
        if plan is None:
            raise UsageError(f"{folder}: the ledger has no plan; prepare again")
        if options.feed is not None:
            errors = outputs_for(options.feed, options.errors).errors
            plan = dataclasses.replace(
                plan, feed=str(Path(options.feed).resolve()), errors=str(errors.resolve())
            )
        elif options.errors is not None:
            plan = dataclasses.replace(plan, errors=str(Path(options.errors).resolve()))
        outputs = plan.outputs
        with FeedLock(outputs.lock, plan.feed):
            state = FeedState.load(plan.feed, outputs.errors)
            state.check_config(
                (plan.model, plan.prompt_version), supersede=options.supersede, feed=plan.feed
            )
            recover_parts(folder, lambda path: ledger.file(path) is not None)
            try:
                with FeedWriter(plan.feed, outputs.errors) as writer:
                    collector = Collector(ledger, plan, writer, state, options)
                    collector.reconcile()
                    for results in sources(ledger):
                        collector.take(results)
                    if fixer is not None:
                        entries = collector.reasks()
                        if entries:
                            fixes = asyncio.run(fixer(entries))
                            merged = [(e, merge_fix(e, o)) for e, o in fixes]
                            collector.take_fixes(merged, fixer_endpoint)
                    collector.write_next_rounds()
            finally:
                reconcile_errors(outputs.errors, state.current)
    return collector.stats


def local_results(paths: Sequence[Path]) -> Callable[[Ledger], Iterable[ResultSet]]:
    """Results read from local files (``--results``), e.g. ``vllm run-batch`` output."""
    for path in paths:
        if not path.is_file():
            raise UsageError(f"results file not found: {path}")

    def sources(ledger: Ledger) -> Iterable[ResultSet]:
        return [ResultSet(paths=list(paths))]

    return sources
