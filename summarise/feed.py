"""Feed: the JSONL output and the errors file beside it, written one whole line at a time.

Every input ends as exactly one line in one of the two files. Each line is appended and
flushed on its own; a write that fails part-way (a full disk) is cut back to the last whole
line at once, and on restart a torn last line left by a crash is cut off, so a reader never
sees half a record. A failed write stops the run (``WriteError``); a closed stdout (``| head``)
ends it quietly (``OutputClosed``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, TypeVar

import jsonlines

from summarise.errors import OutputClosed, WriteError
from summarise.schema import ErrorRecord, Record

STDOUT = "-"
T = TypeVar("T")


def current(items: Iterable[T], id_of: Callable[[T], str]) -> list[T]:
    """The current record of each id: its last line, standing where that last line is."""
    by_id: dict[str, T] = {}
    for item in items:
        key = id_of(item)
        by_id.pop(key, None)
        by_id[key] = item
    return list(by_id.values())


def write_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, sync it, rename it over ``path``:
    a reader sees the old file or the whole new one, and a failure leaves no temporary file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            fh.writelines(chunks)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def default_errors_path(feed: str) -> Path:
    """``outputs/summaries.jsonl`` -> ``outputs/summaries.errors.jsonl``; stdout -> outputs/."""
    if feed == STDOUT:
        return Path("outputs") / "errors.jsonl"
    path = Path(feed)
    return path.with_name(f"{path.stem}.errors{path.suffix or '.jsonl'}")


def repair_torn_tail(path: Path) -> bool:
    """Cut a last line that was not completely written (no newline, or not JSON)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with open(path, "rb+") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        block = min(size, 1 << 20)
        while True:
            fh.seek(size - block)
            tail = fh.read(block)
            last_newline = tail.rstrip(b"\n").rfind(b"\n")
            if last_newline >= 0 or block == size:
                break
            block = min(size, block * 2)
        start = size - block + last_newline + 1 if last_newline >= 0 else 0
        last_line = tail[last_newline + 1 :] if last_newline >= 0 else tail
        if last_line.endswith(b"\n") and _parses(last_line):
            return False
        fh.truncate(start)
        return True


def _parses(line: bytes) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def iter_lines(path: Path) -> Iterator[dict[str, Any]]:
    """Parsed lines of a JSONL file, skipping a torn or invalid one."""
    if not path.is_file():
        return
    with jsonlines.open(path) as reader:
        yield from reader.iter(type=dict, skip_invalid=True, skip_empty=True)


class _LineFile:
    """One JSONL file opened for appending whole lines."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        self.fh = fh
        self.name = name

    def append(self, line: bytes) -> None:
        seekable = self.fh.seekable()
        end = self.fh.seek(0, os.SEEK_END) if seekable else 0
        try:
            self.fh.write(line)
            self.fh.flush()
        except BrokenPipeError as exc:
            raise OutputClosed(f"{self.name} was closed by the reader") from exc
        except OSError as exc:
            if seekable:  # cut a partly written line back off, so no reader ever sees it
                with contextlib.suppress(OSError):
                    self.fh.truncate(end)
            raise WriteError(f"cannot write {self.name}: {exc}") from exc


def encode_line(result: Record | ErrorRecord) -> bytes:
    """One compact JSON line; text that UTF-8 cannot carry (lone surrogates) is escaped."""
    try:
        return result.__pydantic_serializer__.to_json(result) + b"\n"  # pydantic-core: fast
    except ValueError:  # a lone surrogate: UTF-8 cannot carry it, JSON's escapes can
        data = result.model_dump(mode="json")
        return (json.dumps(data, separators=(",", ":")) + "\n").encode("ascii")


class FeedWriter:
    """Appends records to the feed and error records to the errors file, one whole line each."""

    def __init__(self, feed: str, errors: Path) -> None:
        self.feed_name = feed
        self.errors_path = errors
        self._owned: list[IO[bytes]] = []
        try:
            self._feed = (
                self._open(feed) if feed != STDOUT else _LineFile(sys.stdout.buffer, "stdout")
            )
            self._errors = self._open(str(errors))
        except OSError as exc:
            self.close()
            raise WriteError(f"cannot open the outputs: {exc}") from exc

    def _open(self, name: str) -> _LineFile:
        path = Path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(path)
        fh = open(path, "ab")  # noqa: SIM115 (closed in close())
        self._owned.append(fh)
        return _LineFile(fh, name)

    def write(self, result: Record | ErrorRecord) -> None:
        self.append(isinstance(result, Record), encode_line(result))

    def append(self, to_feed: bool, line: bytes) -> None:
        """One encoded line: to the feed, else to the errors file."""
        (self._feed if to_feed else self._errors).append(line)

    def close(self) -> None:
        for fh in self._owned:
            with contextlib.suppress(OSError):
                fh.close()
        self._owned.clear()

    def __enter__(self) -> FeedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
