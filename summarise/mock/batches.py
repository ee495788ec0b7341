"""The mock's batches and their life: ``validating`` -> ``in_progress`` -> ``finalizing`` ->
``completed``, or ``failed``, ``expired``, ``cancelling`` -> ``cancelled``.

Time plays no part: a batch moves one step every ``MockConfig.batch_polls_per_step``
retrieves (``GET /v1/batches/{id}``), so a test polls instead of sleeping. The steps:

- ``validating``: the input file is read; any problem -> ``failed`` (with ``errors``),
  else -> ``in_progress`` (nothing run yet).
- ``in_progress``: each step runs up to ``batch_requests_per_step`` requests (all, by
  default) through the server's own chat path; when all have run -> ``finalizing``; once
  ``batch_expire_after`` requests have run and some are left -> ``expired``: those left
  never run and are in neither file, as ``request_counts`` shows.
- ``finalizing`` -> ``completed``; ``cancelling`` (after ``POST .../cancel``) ->
  ``cancelled``, keeping what ran before the cancel.

The output and error files are written when a batch ends, out of input order.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from summarise.mock.batch_lines import (
    BatchRequest,
    Line,
    jsonl,
    read_input,
    result_line,
    shuffled,
    status_zero,
)
from summarise.mock.config import Body, MockConfig
from summarise.mock.files import FileStore
from summarise.mock.wire import Answer

RunRequest = Callable[[Body], Awaitable[Answer]]
"""Answers one request of a batch the way the server answers a chat completion."""

ENDS = frozenset({"completed", "failed", "expired", "cancelled"})
"""Statuses a batch never leaves."""
CANCELLABLE = frozenset({"validating", "in_progress", "finalizing"})
WINDOW_S = 24 * 3600


@dataclass
class MockBatch:
    """One batch: what it was asked, where it is, what its requests answered."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    metadata: dict[str, str] | None
    created_at: int
    status: str = "validating"
    times: dict[str, int] = field(default_factory=dict)
    """``in_progress_at``, ``finalizing_at``, ... as they happen."""
    requests: list[BatchRequest] = field(default_factory=list)
    next_request: int = 0
    outputs: list[Line] = field(default_factory=list)
    errors: list[Line] = field(default_factory=list)
    problems: list[Line] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    model: str | None = None
    usage: dict[str, int] = field(default_factory=lambda: {"input": 0, "cached": 0, "output": 0})
    polls: int = 0

    def as_object(self) -> dict[str, Any]:
        """The batch as the API's ``batch`` object (``openai.types.Batch``)."""
        stamps = ("in_progress", "finalizing", "completed", "failed", "expired")
        u = self.usage
        return {
            "id": self.id,
            "object": "batch",
            "endpoint": self.endpoint,
            "model": self.model,
            "errors": None if self.problems is None else {"object": "list", "data": self.problems},
            "input_file_id": self.input_file_id,
            "completion_window": self.completion_window,
            "status": self.status,
            "output_file_id": self.output_file_id,
            "error_file_id": self.error_file_id,
            "created_at": self.created_at,
            "expires_at": self.created_at + WINDOW_S,
            **{f"{s}_at": self.times.get(s) for s in (*stamps, "cancelling", "cancelled")},
            "request_counts": {
                "total": len(self.requests),
                "completed": len(self.outputs),
                "failed": len(self.errors),
            },
            "usage": {
                "input_tokens": u["input"],
                "input_tokens_details": {"cached_tokens": u["cached"]},
                "output_tokens": u["output"],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": u["input"] + u["output"],
            },
            "metadata": self.metadata,
        }


class BatchStore:
    """Every batch of one server, and the steps that move them (run on the server's loop)."""

    def __init__(self, config: MockConfig, files: FileStore, run: RunRequest) -> None:
        self.config = config
        self.files = files
        self._run = run
        self._lock = threading.Lock()
        self._batches: dict[str, MockBatch] = {}
        self._count = 0
        self._answered = 0

    def create(
        self,
        input_file_id: str,
        endpoint: str,
        completion_window: str,
        metadata: dict[str, str] | None,
    ) -> MockBatch:
        """A new batch, ``validating``."""
        with self._lock:
            self._count += 1
            batch = MockBatch(
                f"batch_mock{self._count:08d}",
                input_file_id,
                endpoint,
                completion_window,
                metadata,
                int(time.time()),
            )
            self._batches[batch.id] = batch
        return batch

    def get(self, batch_id: str) -> MockBatch | None:
        """The batch with this id, if any."""
        with self._lock:
            return self._batches.get(batch_id)

    def all(self) -> list[MockBatch]:
        """Every batch, newest first (the order ``GET /v1/batches`` lists them in)."""
        with self._lock:
            return list(reversed(self._batches.values()))

    async def poll(self, batch: MockBatch) -> None:
        """A retrieve: every ``batch_polls_per_step``-th one moves the batch a step (0: to
        its end at once)."""
        every = self.config.batch_polls_per_step
        if every == 0:
            while batch.status not in ENDS:
                await self.step(batch)
            return
        batch.polls += 1
        if batch.polls >= every:
            batch.polls = 0
            await self.step(batch)

    def cancel(self, batch: MockBatch) -> bool:
        """Start cancelling (``False``: the batch has ended or is cancelling already)."""
        if batch.status not in CANCELLABLE:
            return False
        self._enter(batch, "cancelling")
        return True

    async def step(self, batch: MockBatch) -> None:
        """Move ``batch`` one step along its life (nothing, once it has ended)."""
        status = batch.status
        if status == "validating":
            self._validate(batch)
        elif status == "in_progress":
            await self._run_some(batch)
        elif status == "finalizing":
            self._finish(batch, "completed")
        elif status == "cancelling":
            self._finish(batch, "cancelled")

    # -- the steps -------------------------------------------------------------------------

    def _enter(self, batch: MockBatch, status: str) -> None:
        batch.status = status
        batch.times[status] = int(time.time())

    def _validate(self, batch: MockBatch) -> None:
        cfg = self.config
        stored = self.files.get(batch.input_file_id)
        if stored is None:  # deleted after the batch was created
            message = f"The input file {batch.input_file_id!r} no longer exists."
            batch.problems = [
                {"code": "file_not_found", "message": message, "line": None, "param": None}
            ]
            self._enter(batch, "failed")
            return
        requests, problems = read_input(
            stored.data, batch.endpoint, max_requests=cfg.batch_max_requests
        )
        if problems:
            batch.problems = problems
            self._enter(batch, "failed")
            return
        batch.requests = requests
        batch.model = str(requests[0].body.get("model") or cfg.models[0])
        self._enter(batch, "in_progress")

    async def _run_some(self, batch: MockBatch) -> None:
        cfg = self.config
        left = len(batch.requests) - batch.next_request
        todo = left if cfg.batch_requests_per_step is None else cfg.batch_requests_per_step
        if cfg.batch_expire_after is not None:
            todo = min(todo, max(0, cfg.batch_expire_after - batch.next_request))
        for request in batch.requests[batch.next_request : batch.next_request + todo]:
            answer = await self._run(request.body)
            batch.next_request += 1
            self._record(batch, request, answer)
            if batch.status != "in_progress":  # cancelled while a responder awaited
                return
        if batch.next_request >= len(batch.requests):
            self._enter(batch, "finalizing")
        elif cfg.batch_expire_after is not None and batch.next_request >= cfg.batch_expire_after:
            self._finish(batch, "expired")

    def _record(self, batch: MockBatch, request: BatchRequest, answer: Answer) -> None:
        with self._lock:
            self._answered += 1
            number = self._answered
        line, ok = result_line(request, answer, number)
        if ok:
            usage = line["response"]["body"].get("usage") or {}
            details = usage.get("prompt_tokens_details") or {}
            batch.usage["input"] += int(usage.get("prompt_tokens") or 0)
            batch.usage["cached"] += int(details.get("cached_tokens") or 0)
            batch.usage["output"] += int(usage.get("completion_tokens") or 0)
            batch.outputs.append(line)
            return
        rate = self.config.batch_status_zero_rate
        draw = random.Random(f"{self.config.seed}:{batch.id}:{request.custom_id}")
        batch.errors.append(status_zero(line, draw) if draw.random() < rate else line)

    def _finish(self, batch: MockBatch, status: str) -> None:
        """Write the output and error files (those that have lines) and end the batch."""
        for kind, lines in (("output", batch.outputs), ("error", batch.errors)):
            if not lines:
                continue
            if self.config.batch_shuffle:
                lines = shuffled(lines, random.Random(f"{self.config.seed}:{batch.id}:{kind}"))
            stored = self.files.add(f"{batch.id}_{kind}.jsonl", "batch_output", jsonl(lines))
            if kind == "output":
                batch.output_file_id = stored.id
            else:
                batch.error_file_id = stored.id
        self._enter(batch, status)
