"""Batch request lines and the files they go in, split at a line and a byte limit.

A line is ``{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body"}``; the
body is ``chat_body(...)``, exactly what ``summarise run`` sends for the same article, with
the strict ``json_schema`` ``response_format``. A ``custom_id`` is the article's resume key
(hex) and the round: ``<key>-<round>``, so a stale answer from an earlier round is known.

Files are written as ``requests-NNNN.jsonl.part`` and renamed only once the ledger has
committed their articles (``RequestFiles``'s ``on_close``): a file that exists under its
final name is always known to the ledger, and a ``.part`` left by a crash is dropped (or
finished, if the ledger had committed it) by ``recover_parts``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any

from summarise import prompt
from summarise.backends.openai.answers import response_format_for
from summarise.backends.openai.client import chat_body
from summarise.config import OPENAI_HOST, EndpointConfig
from summarise.schema import model_facing_schema

CHAT_URL = "/v1/chat/completions"
MAX_LINES = 50_000
"""OpenAI's limit of requests per batch input file."""
MAX_BYTES = 200_000_000
"""OpenAI's limit of bytes per batch input file (200 MB; decimal, the safe side)."""
PART = ".part"
_NAME = re.compile(r"^requests-(\d{4,})\.jsonl$")


def parse_size(text: str) -> int:
    """``"200MB"`` -> 200,000,000; also ``KB``, ``GB``, ``KiB``, ``MiB``, ``GiB`` or bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]i?B?|B)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r} (e.g. 200MB, 50KB, 1000)")
    number, unit = float(match.group(1)), (match.group(2) or "B").upper().rstrip("B") or "B"
    scale = {"B": 1, "K": 10**3, "M": 10**6, "G": 10**9, "KI": 2**10, "MI": 2**20, "GI": 2**30}
    return int(number * scale[unit])


def custom_id(key: str, round_: int) -> str:
    return f"{key}-{round_}"


def parse_custom_id(value: object) -> tuple[str, int] | None:
    """(resume key hex, round) of a ``custom_id`` this package wrote; None otherwise."""
    if not isinstance(value, str):
        return None
    key, sep, number = value.rpartition("-")
    if not sep or not number.isdigit() or len(key) != 32:
        return None
    return key, int(number)


def round_folder(folder: Path, round_: int) -> Path:
    """Round 1 writes into the folder itself, round N into ``round-N/``."""
    return folder if round_ == 1 else folder / f"round-{round_}"


def body_config(
    model: str, endpoint_host: str, max_tokens: int, temperature: float
) -> EndpointConfig:
    """An ``EndpointConfig`` that makes the same request bodies as the synchronous path for
    this model and host (the host decides ``max_tokens`` vs ``max_completion_tokens``)."""
    base_url = None if endpoint_host == OPENAI_HOST else f"http://{endpoint_host}/v1"
    return EndpointConfig(
        model=model, base_url=base_url, max_tokens=max_tokens, temperature=temperature
    )


@cache
def strict_format() -> dict[str, Any]:
    """The strict ``json_schema`` response format, built once (the schema never changes
    within a process; building it costs milliseconds)."""
    found = response_format_for("json_schema", model_facing_schema())
    assert found is not None
    return found


def request_line(
    config: EndpointConfig, key: str, round_: int, messages: Sequence[prompt.Message]
) -> bytes:
    """One line of a batch input file (with its newline)."""
    line = {
        "custom_id": custom_id(key, round_),
        "method": "POST",
        "url": CHAT_URL,
        "body": chat_body(config, messages, strict_format()),
    }
    text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
    return (text + "\n").encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class Limits:
    """How big one request file may grow."""

    max_lines: int = MAX_LINES
    max_bytes: int = MAX_BYTES


OnClose = Callable[[str, int, int], None]
"""Called with (path relative to the batch folder, lines, bytes) once a file is whole and
synced, before it is renamed to its final name: the ledger commits it there."""


class RequestFiles:
    """Appends request lines to ``requests-NNNN.jsonl`` files of one round, starting a new
    file whenever the next line would pass a limit."""

    def __init__(self, folder: Path, round_: int, limits: Limits, on_close: OnClose) -> None:
        self.root = folder
        self.folder = round_folder(folder, round_)
        self.limits = limits
        self.on_close = on_close
        self._number = next_number(self.folder)
        self._fh: IO[bytes] | None = None
        self._path: Path | None = None
        self._lines = 0
        self._bytes = 0

    def fits(self, line: bytes) -> bool:
        """Whether ``line`` fits in a file at all (a single over-size request does not)."""
        return len(line) <= self.limits.max_bytes

    def add(self, line: bytes) -> str:
        """Write ``line``; the path (relative to the batch folder) of the file it went to."""
        full = (
            self._lines + 1 > self.limits.max_lines
            or self._bytes + len(line) > self.limits.max_bytes
        )
        if self._fh is not None and full:
            self.close()
        if self._fh is None:
            self._open()
        assert self._fh is not None and self._path is not None
        self._fh.write(line)
        self._lines += 1
        self._bytes += len(line)
        return self._relative(self._path)

    def _open(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._path = self.folder / f"requests-{self._number:04d}.jsonl"
        self._number += 1
        self._fh = open(self._path.with_name(self._path.name + PART), "wb")  # noqa: SIM115
        self._lines = self._bytes = 0

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def close(self) -> None:
        """Finish the current file: sync it, let the ledger commit it, rename it."""
        if self._fh is None or self._path is None:
            return
        fh, path = self._fh, self._path
        self._fh = None
        fh.flush()
        os.fsync(fh.fileno())
        fh.close()
        part = path.with_name(path.name + PART)
        self.on_close(self._relative(path), self._lines, self._bytes)
        os.replace(part, path)

    def abandon(self) -> None:
        """Drop the current unfinished file (its articles were never committed)."""
        if self._fh is not None and self._path is not None:
            self._fh.close()
            with contextlib.suppress(OSError):
                self._path.with_name(self._path.name + PART).unlink()
        self._fh = None


def next_number(folder: Path) -> int:
    """One more than the highest ``requests-NNNN.jsonl`` number in ``folder`` (or 1)."""
    numbers = [0]
    if folder.is_dir():
        for path in folder.iterdir():
            match = _NAME.match(path.name.removesuffix(PART))
            if match:
                numbers.append(int(match.group(1)))
    return max(numbers) + 1


def recover_parts(folder: Path, known: Callable[[str], bool]) -> None:
    """After a crash: rename a ``.part`` file the ledger had committed (``known``), delete
    any other (its articles were never committed and will be prepared again)."""
    for part in folder.rglob(f"requests-*.jsonl{PART}"):
        final = part.with_name(part.name.removesuffix(PART))
        if known(final.relative_to(folder).as_posix()) and not final.exists():
            os.replace(part, final)
        else:
            part.unlink()
