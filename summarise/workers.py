"""Workers: a run's CPU stages (clean, model call, ground, encode) in N processes behind
the one writer.

The parent reads the input, decides what to skip (resume), hands each article to a lane
and writes every line itself, so the feed keeps one writer and the exactly-once guarantees
of a one-process run. A lane is this process (alone with ``--workers 1``, and while the
worker processes start up) or a worker process, ``python -m summarise.workers``, which
speaks length-prefixed pickles over its stdin and stdout:

    parent -> worker   WorkerSetup, then (seq, RawArticle, supersedes) per article
    worker -> parent   ("ready", None), ("done", (seq, Outcome, dedup hits)),
                       ("fatal", (seq, FatalError))

A worker that dies fails the articles it held with a ``FatalError`` (nothing of theirs was
written, so the next run does them); a parent that dies closes the workers' stdin, and a
worker whose stdin closes exits at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import stat
import struct
import sys
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from summarise.backends.base import Backend, BackendRecipe
from summarise.dedup import DeduplicatingBackend
from summarise.errors import FatalError
from summarise.feed import encode_line
from summarise.ingest import RawArticle
from summarise.pipeline import process
from summarise.schema import ErrorRecord, Record, Superseded, Usage

_FRAME = struct.Struct("!I")
_STICKY_WINDOW = 10_000  # recent contents remembered, so that duplicates meet one cache
_CLOSE_WAIT_S = 5.0


@dataclass(frozen=True)
class Outcome:
    """One finished article, as the writer and the run's counters need it."""

    id: str
    ok: bool
    """A record (feed), else an error record (errors file)."""
    line: bytes
    """The encoded JSONL line."""
    error: str | None
    usage: Usage

    @classmethod
    def of(cls, result: Record | ErrorRecord) -> Outcome:
        if isinstance(result, Record):
            return cls(result.id, True, encode_line(result), None, result.provenance.usage)
        return cls(result.id, False, encode_line(result), result.error, result.usage)


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker process needs to run articles as the parent would."""

    recipe: BackendRecipe
    strict: bool


async def run_article(
    raw: RawArticle, backend: Backend, *, strict: bool, supersedes: Superseded | None
) -> Outcome:
    """The pipeline for one article, down to its encoded line (the same in every lane)."""
    result = await process(raw, backend, strict=strict)
    if isinstance(result, Record):
        result.supersedes = supersedes
    return Outcome.of(result)


class LocalLane:
    """Articles run in this process, on the parent's backend."""

    def __init__(self, backend: Backend, strict: bool) -> None:
        self.dedup = DeduplicatingBackend(backend)
        self.strict = strict
        self.outstanding = 0
        self.ready = True  # always: this process

    @property
    def hits(self) -> int:
        return self.dedup.hits

    async def run(self, raw: RawArticle, supersedes: Superseded | None) -> Outcome:
        return await run_article(raw, self.dedup, strict=self.strict, supersedes=supersedes)


async def _read_frame(reader: asyncio.StreamReader) -> Any:
    """The next pickled frame, or None at the end of the stream."""
    try:
        header = await reader.readexactly(_FRAME.size)
        payload = await reader.readexactly(_FRAME.unpack(header)[0])
    except asyncio.IncompleteReadError:
        return None
    return pickle.loads(payload)


def _frame(value: Any) -> bytes:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return _FRAME.pack(len(payload)) + payload


class WorkerProcess:
    """One worker process and the articles it holds."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.outstanding = 0
        self.hits = 0
        self.ready = False
        self._process: asyncio.subprocess.Process | None = None
        self._pending: dict[int, asyncio.Future[Outcome]] = {}
        self._seq = 0
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "summarise.workers",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdin is not None
        self._process.stdin.write(_frame(self.setup))
        self._reader = asyncio.create_task(self._read_answers())

    async def run(self, raw: RawArticle, supersedes: Superseded | None) -> Outcome:
        assert self._process is not None and self._process.stdin is not None
        self._seq += 1
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._pending[self._seq] = future
        try:
            self._process.stdin.write(_frame((self._seq, raw, supersedes)))
            await self._process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the worker is gone: the reader fails this article's future
        return await future

    async def _read_answers(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        how = "its output ended"
        try:
            while (frame := await _read_frame(self._process.stdout)) is not None:
                kind, body = frame
                if kind == "ready":
                    self.ready = True
                elif kind == "done":
                    seq, outcome, self.hits = body
                    self._settle(seq, outcome)
                else:  # "fatal"
                    seq, exc = body
                    self._settle(seq, exc)
            code = await self._process.wait()
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        except Exception as exc:  # an unreadable frame: the worker cannot be trusted further
            how = f"unreadable answer: {type(exc).__name__}: {exc}"
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        finally:
            self.ready = False
            message = (
                f"worker process {self._process.pid} ended unexpectedly ({how}); the "
                "articles it held were not written: run again to do them"
            )
            for seq in list(self._pending):
                self._settle(seq, FatalError(message))

    def _settle(self, seq: int, value: Outcome | BaseException) -> None:
        future = self._pending.pop(seq, None)
        if future is None or future.done():
            return
        if isinstance(value, BaseException):
            future.set_exception(value)
        else:
            future.set_result(value)

    async def close(self) -> None:
        """End the worker: at once if it holds nothing it was asked to finish."""
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if not self.ready and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()  # still starting up: nothing to finish
        try:
            await asyncio.wait_for(process.wait(), _CLOSE_WAIT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


Lane = LocalLane | WorkerProcess


class Lanes:
    """Hands each article to the least busy lane: worker processes once they are ready,
    this process until then (so a run starts at once and a small one never waits)."""

    def __init__(self, local: LocalLane, workers: Sequence[WorkerProcess] = ()) -> None:
        self.local = local
        self.workers = list(workers)
        self._sticky: OrderedDict[str, Lane] = OrderedDict()
        self.in_workers = 0
        """Articles that worker processes ran (the rest ran in this process)."""

    @property
    def hits(self) -> int:
        """Articles served from a de-duplication cache, in every lane."""
        return self.local.hits + sum(worker.hits for worker in self.workers)

    async def start(self) -> None:
        for worker in self.workers:
            await worker.start()

    def _pick(self, raw: RawArticle) -> Lane:
        # The same content goes where it went before, so that its de-duplication cache hits.
        sticky = self._sticky.get(raw.sha256)
        if sticky is not None and sticky.ready:
            self._sticky.move_to_end(raw.sha256)
            return sticky
        ready = [worker for worker in self.workers if worker.ready]
        chosen: Lane = min(ready, key=lambda w: w.outstanding) if ready else self.local
        self._sticky[raw.sha256] = chosen
        if len(self._sticky) > _STICKY_WINDOW:
            self._sticky.popitem(last=False)
        return chosen

    async def run(self, raw: RawArticle, supersedes: Superseded | None) -> Outcome:
        lane = self._pick(raw)
        lane.outstanding += 1
        try:
            outcome = await lane.run(raw, supersedes)
        finally:
            lane.outstanding -= 1
        if lane is not self.local:
            self.in_workers += 1
        return outcome

    async def close(self) -> None:
        await asyncio.gather(*(worker.close() for worker in self.workers))


# -- the worker process ----------------------------------------------------------------------


async def _serve(reader: asyncio.StreamReader, out: asyncio.StreamWriter) -> None:
    setup: WorkerSetup | None = await _read_frame(reader)
    if setup is None:
        return
    backend = DeduplicatingBackend(setup.recipe())
    tasks: set[asyncio.Task[None]] = set()

    async def send(message: tuple[str, Any]) -> None:
        out.write(_frame(message))
        await out.drain()

    async def one(seq: int, raw: RawArticle, supersedes: Superseded | None) -> None:
        try:
            outcome = await run_article(raw, backend, strict=setup.strict, supersedes=supersedes)
        except FatalError as exc:
            await send(("fatal", (seq, exc)))
            return
        except Exception as exc:  # past the pipeline's own net: a bug, which must stop the run
            await send(("fatal", (seq, FatalError(f"internal error in a worker: {exc!r}"))))
            return
        await send(("done", (seq, outcome, backend.hits)))

    try:
        await backend.start()
        await send(("ready", None))
        while (frame := await _read_frame(reader)) is not None:
            task = asyncio.create_task(one(*frame))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        # stdin closed: the parent has what it asked for, or is gone. Either way, stop.
    except FatalError as exc:
        await send(("fatal", (0, exc)))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await backend.aclose()


def main() -> None:
    """A worker process: serve the parent on stdin/stdout until stdin closes."""
    if not all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in (0, 1)):
        sys.exit("summarise.workers is started by `summarise run --workers N`, on a pipe")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    asyncio.run(_main())


async def _main() -> None:
    loop = asyncio.get_running_loop()
    # The frames own the real stdout; anything printed by mistake goes to stderr instead.
    frames_fd = os.dup(1)
    os.dup2(2, 1)
    reader = asyncio.StreamReader(limit=2**31)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(0, "rb", buffering=0)
    )
    transport, protocol = await loop.connect_write_pipe(
        asyncio.streams.FlowControlMixin, os.fdopen(frames_fd, "wb", buffering=0)
    )
    writer = asyncio.StreamWriter(transport, protocol, reader, loop)
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the parent is gone
        await _serve(reader, writer)


if __name__ == "__main__":
    # Run as the importable module, not as __main__: the frames' classes must pickle under
    # the names the parent knows them by.
    from summarise import workers

    workers.main()
