"""Feed: the JSONL output, the errors file beside it, and the resume index over both.

Every input ends as exactly one line in one of the two files. Lines are appended and
flushed one at a time, so a crash loses at most the line being written; on restart a torn
last line is cut off and the article it belonged to is simply done again.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import jsonlines

from summarise.schema import ErrorRecord, Record

STDOUT = "-"


def default_errors_path(feed: str) -> Path:
    """``outputs/summaries.jsonl`` -> ``outputs/summaries.errors.jsonl``; stdout -> outputs/."""
    if feed == STDOUT:
        return Path("outputs") / "errors.jsonl"
    path = Path(feed)
    return path.with_name(f"{path.stem}.errors{path.suffix or '.jsonl'}")


def resume_key(
    article_id: str, sha256: str, prompt_version: str | None, model: str | None
) -> bytes:
    """A 16-byte digest per article, so the index of a million-line feed stays small."""
    raw = "\0".join((article_id, sha256, prompt_version or "", model or ""))
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).digest()


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


def _key_of(line: dict[str, Any]) -> bytes | None:
    try:
        if "provenance" in line:
            prov = line["provenance"]
            return resume_key(
                line["id"], line["source"]["sha256"], prov["prompt_version"], prov["model"]
            )
        return resume_key(
            line["id"], line["source"]["sha256"], line.get("prompt_version"), line.get("model")
        )
    except (KeyError, TypeError):
        return None


def load_keys(path: Path) -> set[bytes]:
    return {key for line in iter_lines(path) if (key := _key_of(line)) is not None}


class ResumeIndex:
    """What a previous run with the same outputs already finished."""

    def __init__(self, done: set[bytes], failed: set[bytes]) -> None:
        self.done = done
        self.failed = failed

    @classmethod
    def load(cls, feed: str, errors: Path) -> ResumeIndex:
        done = load_keys(Path(feed)) if feed != STDOUT else set()
        return cls(done, load_keys(errors))

    def should_skip(self, key: bytes, retry_errors: bool) -> bool:
        return key in self.done or (key in self.failed and not retry_errors)


def compact_errors(errors: Path, done: set[bytes]) -> int:
    """Drop error lines whose article has since succeeded (``--retry-errors``), atomically."""
    if not errors.is_file() or not done:
        return 0
    kept: list[bytes] = []
    dropped = 0
    with open(errors, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                key = _key_of(json.loads(raw))
            except ValueError:
                key = None
            if key is not None and key in done:
                dropped += 1
            else:
                kept.append(raw if raw.endswith(b"\n") else raw + b"\n")
    if dropped:
        tmp = errors.with_name(errors.name + ".tmp")
        tmp.write_bytes(b"".join(kept))
        os.replace(tmp, errors)
    return dropped


class FeedWriter:
    """Appends records to the feed and error records to the errors file, flushing each."""

    def __init__(self, feed: str, errors: Path) -> None:
        self.feed_name = feed
        self.errors_path = errors
        self._feed_fh: IO[str]
        if feed == STDOUT:
            self._feed_fh = sys.stdout
        else:
            Path(feed).parent.mkdir(parents=True, exist_ok=True)
            repair_torn_tail(Path(feed))
            self._feed_fh = open(feed, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())
        errors.parent.mkdir(parents=True, exist_ok=True)
        repair_torn_tail(errors)
        self._errors_fh = open(errors, "a", encoding="utf-8")  # noqa: SIM115
        self._feed = jsonlines.Writer(self._feed_fh, compact=True, flush=True)
        self._errors = jsonlines.Writer(self._errors_fh, compact=True, flush=True)

    def write(self, result: Record | ErrorRecord) -> None:
        target = self._feed if isinstance(result, Record) else self._errors
        target.write(result.model_dump(mode="json"))

    def close(self) -> None:
        self._feed.close()
        self._errors.close()
        if self._feed_fh is not sys.stdout:
            self._feed_fh.close()
        self._errors_fh.close()

    def __enter__(self) -> FeedWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
