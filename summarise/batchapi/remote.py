"""The OpenAI Files and Batches API: submit, status, cancel, and fetching results.

Through the ``openai`` SDK (``files.create(purpose="batch")``, ``batches.create`` with a
24 h window and metadata naming the ledger and the file, ``batches.retrieve``,
``batches.cancel``, ``files.content``). Submitting never makes two batches of one file:
the ledger records the uploaded file id after the upload and the moment a create starts
before calling it, and a file whose create started but left no batch id (a crash, a lost
answer) is first looked for in ``batches.list()`` by its metadata. Downloads go to
``DIR/results/`` (``.part`` until whole), so collecting again reads them from disk.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import openai
from openai.types import Batch

from summarise.batchapi.collect import ResultSet
from summarise.batchapi.ledger import FileRow, Ledger, State
from summarise.batchapi.plan import load_plan
from summarise.batchapi.prepare import LOCK_NAME
from summarise.config import OPENAI_HOST, EndpointConfig
from summarise.errors import EndpointError, UsageError
from summarise.outputs import FeedLock

T = TypeVar("T")

ENDED = frozenset({"completed", "failed", "expired", "cancelled"})
"""Statuses a batch never leaves."""
RESULTS_DIR = "results"
LIST_SLACK_S = 600.0
"""How far before a create started ``batches.list()`` is searched for its batch."""


def make_client(config: EndpointConfig) -> openai.OpenAI:
    """A synchronous SDK client for ``config``'s endpoint (key from the environment)."""
    if config.endpoint_host == OPENAI_HOST and not config.api_key:
        raise EndpointError(
            "no API key for api.openai.com: set OPENAI_API_KEY (or name another variable "
            "with --api-key-env), or give --base-url"
        )
    return openai.OpenAI(
        api_key=config.api_key or "no-key",
        base_url=config.base_url,
        timeout=config.timeout_s,
        max_retries=config.max_retries,
    )


def call(what: str, host: str, fn: Callable[[], T]) -> T:
    """``fn()``, with the SDK's errors said once as an ``EndpointError``."""
    try:
        return fn()
    except openai.APIStatusError as exc:
        raise EndpointError(f"{what} failed at {host}: {exc.status_code} {exc.message}") from exc
    except openai.APIConnectionError as exc:
        raise EndpointError(f"{what} failed: cannot reach {host} ({exc})") from exc


@contextlib.contextmanager
def opened(folder: Path) -> Iterator[Ledger]:
    """The folder's ledger, locked against other batch commands on it."""
    try:
        ledger = Ledger.existing(folder)
    except FileNotFoundError:
        raise UsageError(
            f"{folder} holds no batch ledger: run 'summarise batch prepare' first"
        ) from None
    with FeedLock(folder / LOCK_NAME, str(folder)), ledger:
        yield ledger


@dataclass
class SubmitStats:
    """What one ``submit`` did."""

    created: list[tuple[str, str]] = field(default_factory=list)
    """(request file, batch id) of the batches created now."""
    found: list[tuple[str, str]] = field(default_factory=list)
    """(request file, batch id) of batches created before a crash, found by metadata."""
    already: int = 0
    """Request files that had a batch already."""


def submit(folder: Path, client: openai.OpenAI, host: str) -> SubmitStats:
    """A batch for every request file that has none yet (never two for one file)."""
    stats = SubmitStats()
    with opened(folder) as ledger:
        ledger_id = ledger.meta("ledger_id") or ""
        for row in ledger.files():
            if row.batch_id or row.collected:
                stats.already += 1
                continue
            if row.create_started is not None:
                batch = find_batch(client, host, ledger_id, row.path, row.create_started)
                if batch is not None:
                    _record_batch(ledger, row, batch, host)
                    stats.found.append((row.path, batch.id))
                    continue
            batch = _create(client, host, ledger, row, ledger_id, folder)
            stats.created.append((row.path, batch.id))
    return stats


def _create(
    client: openai.OpenAI, host: str, ledger: Ledger, row: FileRow, ledger_id: str, folder: Path
) -> Batch:
    file_id = row.file_id
    if file_id is None:
        path = folder / row.path
        with open(path, "rb") as fh:
            uploaded = call(
                f"uploading {row.path}",
                host,
                lambda: client.files.create(file=(path.name, fh), purpose="batch"),
            )
        file_id = uploaded.id
        ledger.set_file(row.path, file_id=file_id)
        ledger.commit()
    ledger.set_file(row.path, create_started=time.time())
    ledger.commit()
    metadata = {"summarise_ledger": ledger_id, "summarise_file": row.path}
    batch = call(
        f"creating the batch of {row.path}",
        host,
        lambda: client.batches.create(
            input_file_id=file_id,
            endpoint="/v1/chat/completions",
            completion_window="24h",
            metadata=metadata,
        ),
    )
    _record_batch(ledger, row, batch, host)
    return batch


def _record_batch(ledger: Ledger, row: FileRow, batch: Batch, host: str) -> None:
    ledger.set_file(row.path, batch_id=batch.id, status=batch.status, endpoint=host)
    for key in ledger.keys(State.prepared, file=row.path):
        ledger.set_state(key, State.submitted)
    ledger.commit()


def find_batch(
    client: openai.OpenAI, host: str, ledger_id: str, path: str, since: float
) -> Batch | None:
    """The batch made for ``path`` of this ledger, by its metadata (newest first, back to a
    little before ``since``), if a create went through before a crash."""

    def search() -> Batch | None:
        for batch in client.batches.list(limit=100):
            meta = batch.metadata or {}
            if meta.get("summarise_ledger") == ledger_id and meta.get("summarise_file") == path:
                return batch
            if batch.created_at < since - LIST_SLACK_S:
                return None
        return None

    return call("listing batches", host, search)


@dataclass(frozen=True)
class BatchLine:
    """One request file as ``status`` shows it."""

    path: str
    round: int
    lines: int
    batch_id: str | None
    status: str
    counts: dict[str, int]
    collected: bool


def refresh(folder: Path, client: openai.OpenAI | None, host: str) -> list[BatchLine]:
    """Every request file, its batches retrieved anew (when a client is given) unless
    they have ended."""
    lines = []
    with opened(folder) as ledger:
        for row in ledger.files():
            if client is not None and row.batch_id and row.status not in ENDED:
                _update(ledger, row, _retrieve(client, host, row.batch_id))
                row = ledger.file(row.path) or row
            counts = row.counts or {"total": row.lines, "completed": 0, "failed": 0}
            lines.append(
                BatchLine(
                    row.path, row.round, row.lines, row.batch_id, row.status, counts, row.collected
                )
            )
    return lines


def article_counts(folder: Path) -> dict[str, int]:
    """Articles per ledger state."""
    with opened(folder) as ledger:
        return ledger.counts()


def spent(folder: Path) -> dict[str, Any]:
    """Tokens answered so far and their cost at the model's Batch API price (``cost_usd``:
    None for a model the price table does not know)."""
    from summarise.cost import run_cost

    with opened(folder) as ledger:
        prompt_tokens, completion_tokens, cached_tokens = ledger.usage()
        plan = load_plan(ledger)
    model = plan.model if plan else None
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cached_tokens": cached_tokens,
        "cost_usd": run_cost(model, prompt_tokens, completion_tokens, cached_tokens, batch=True),
    }


def _retrieve(client: openai.OpenAI, host: str, batch_id: str) -> Batch:
    return call(f"retrieving {batch_id}", host, lambda: client.batches.retrieve(batch_id))


def _update(ledger: Ledger, row: FileRow, batch: Batch) -> None:
    counts = batch.request_counts
    ledger.set_file(
        row.path,
        status=batch.status,
        counts=counts.model_dump() if counts else None,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
    )
    ledger.commit()


def cancel(folder: Path, client: openai.OpenAI, host: str) -> list[tuple[str, str]]:
    """Cancel every batch that has not ended; (batch id, status now) of each."""
    done: list[tuple[str, str]] = []
    with opened(folder) as ledger:
        for row in ledger.files():
            if not row.batch_id or row.status in ENDED:
                continue
            batch = _cancel(client, host, row.batch_id)
            _update(ledger, row, batch)
            done.append((batch.id, str(batch.status)))
    return done


def _cancel(client: openai.OpenAI, host: str, batch_id: str) -> Batch:
    return call(f"cancelling {batch_id}", host, lambda: client.batches.cancel(batch_id))


def remote_results(
    client: openai.OpenAI, host: str, pending: list[str]
) -> Callable[[Ledger], Iterable[ResultSet]]:
    """Results of every ended batch not yet collected, downloaded; batches still running
    are appended to ``pending``."""

    def sources(ledger: Ledger) -> Iterator[ResultSet]:
        for row in ledger.files():
            if not row.batch_id or row.collected:
                continue
            batch = _retrieve(client, host, row.batch_id)
            _update(ledger, row, batch)
            if batch.status not in ENDED:
                pending.append(row.batch_id)
                continue
            paths = [
                download(client, host, ledger.folder, batch.id, kind, file_id)
                for kind, file_id in (
                    ("output", batch.output_file_id),
                    ("errors", batch.error_file_id),
                )
                if file_id
            ]
            yield ResultSet(
                paths=paths,
                files=frozenset({row.path}),
                batch_id=batch.id,
                status=batch.status,
                endpoint=row.endpoint or host,
                detail=_problems(batch),
            )

    return sources


def download(
    client: openai.OpenAI, host: str, folder: Path, batch_id: str, kind: str, file_id: str
) -> Path:
    """``DIR/results/BATCH-KIND.jsonl``, downloaded once (streamed to disk)."""
    target = folder / RESULTS_DIR / f"{batch_id}-{kind}.jsonl"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")

    def fetch() -> None:
        with client.files.with_streaming_response.content(file_id) as response:
            response.stream_to_file(part)

    call(f"downloading {file_id}", host, fetch)
    os.replace(part, target)
    return target


def _problems(batch: Batch) -> str | None:
    errors: Any = batch.errors
    data = getattr(errors, "data", None) or []
    found = [f"{e.code}: {e.message}" for e in data[:3] if e is not None]
    return "; ".join(found) or None
