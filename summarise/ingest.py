"""Ingest: files, folders, globs, JSONL exports and stdin -> a stream of ``RawArticle``.

Inputs are streamed, never loaded all at once, so a JSONL export of a million lines
costs the memory of one line. A broken input (unreadable file, bad JSONL line) does not
stop the stream: it becomes a ``RawArticle`` carrying an ``error`` so that the batch can
write an error record for it and move on.
"""

from __future__ import annotations

import glob
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from summarise.errors import InputError

TEXT_SUFFIXES = {".txt", ".text", ".md"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES

Kind = Literal["text", "html"]


@dataclass(frozen=True)
class RawArticle:
    """One article as it arrived, before any cleaning."""

    id: str
    """The file's stem, or the ``id`` of a JSONL line."""
    path: str | None
    """Where it was read from (``-`` for stdin); None when handed over in code."""
    data: bytes
    """The raw bytes, undecoded: cleaning decodes them."""
    kind: Kind = "text"
    url: str | None = None
    title: str | None = None
    """A title given with the input (JSONL), preferred to one found in the text."""
    published: str | None = None
    error: str | None = None
    """Stable error code when the input could not be read as an article."""
    message: str | None = None
    """What went wrong, for a person, with ``error``."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def kind_for(path: str, data: bytes) -> Kind:
    """HTML by suffix, or by sniffing the start of an unknown file."""
    suffix = Path(path).suffix.lower()
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "text"
    head = data[:512].lstrip().lower()
    return "html" if head.startswith((b"<!doctype html", b"<html")) else "text"


def expand(inputs: Iterable[str]) -> Iterator[str]:
    """Paths for the CLI's INPUT arguments: files, folders (recursive), globs, '-'.

    Raises ``InputError`` for an argument that names nothing, before anything is read,
    so that a typo stops the run with a clear message instead of an empty feed.
    """
    for arg in inputs:
        if arg == "-":
            yield arg
            continue
        path = Path(arg)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
            if not found:
                raise InputError(f"no .txt, .html or .jsonl files in folder {arg}")
            yield from (str(p) for p in found)
        elif path.is_file():
            yield arg
        elif glob.has_magic(arg):
            matches = sorted(p for p in glob.glob(arg, recursive=True) if Path(p).is_file())
            if not matches:
                raise InputError(f"no files match {arg}")
            yield from matches
        else:
            raise InputError(f"no such file or folder: {arg}")


def check_inputs(inputs: Iterable[str]) -> list[str]:
    """Expand all inputs up front (paths only, nothing read) so errors surface early."""
    return list(expand(inputs))


def read(paths: Iterable[str], stdin: BinaryIO | None = None) -> Iterator[RawArticle]:
    """Stream ``RawArticle`` values from expanded paths ('-' reads stdin)."""
    for path in paths:
        if path == "-":
            yield from _read_stream(stdin or sys.stdin.buffer, "-")
        elif Path(path).suffix.lower() in JSONL_SUFFIXES:
            with open(path, "rb") as fh:
                yield from _read_jsonl(fh, path)
        else:
            yield _read_file(path)


def count_articles(paths: Iterable[str]) -> int | None:
    """How many articles ``read`` will yield (for a progress ETA); ``None`` with stdin.

    JSONL files are counted by their non-blank lines, in 1 MiB blocks: constant memory,
    about a second per gigabyte.
    """
    total = 0
    for path in paths:
        if path == "-":
            return None
        if Path(path).suffix.lower() not in JSONL_SUFFIXES:
            total += 1
            continue
        with open(path, "rb") as fh:
            tail = b""
            while block := fh.read(1 << 20):
                lines = (tail + block).split(b"\n")
                tail = lines.pop()
                total += sum(1 for line in lines if line.strip())
            total += bool(tail.strip())
    return total


def _read_file(path: str) -> RawArticle:
    stem = Path(path).stem
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return RawArticle(stem, path, b"", error="unreadable", message=str(exc))
    return RawArticle(stem, path, data, kind_for(path, data))


def _read_stream(stream: BinaryIO, name: str) -> Iterator[RawArticle]:
    """stdin is JSONL when its first non-blank byte is '{', else one article."""
    first = stream.readline()
    while first and not first.strip():
        first = stream.readline()
    if first.lstrip().startswith(b"{"):
        yield from _read_jsonl(_chain(first, stream), name)
    else:
        data = first + stream.read()
        yield RawArticle("stdin", name, data, kind_for("", data))


def _chain(first: bytes, rest: BinaryIO) -> Iterator[bytes]:
    yield first
    yield from rest


def _read_jsonl(lines: Iterable[bytes], path: str) -> Iterator[RawArticle]:
    """One article per line: {id, text | html, url?, title?, published?}."""
    stem = Path(path).stem if path != "-" else "stdin"
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        fallback_id = f"{stem}:{number}"
        try:
            obj = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            yield RawArticle(
                fallback_id, path, line, error="invalid_jsonl", message=f"line {number}: {exc}"
            )
            continue
        yield _from_object(obj, path, fallback_id, line)


def _from_object(obj: object, path: str, fallback_id: str, line: bytes) -> RawArticle:
    if not isinstance(obj, dict):
        return RawArticle(
            fallback_id, path, line, error="invalid_jsonl", message="line is not a JSON object"
        )
    article_id = str(obj.get("id") or fallback_id)
    body = obj.get("html") if obj.get("html") is not None else obj.get("text")
    if not isinstance(body, str):
        return RawArticle(
            article_id,
            path,
            line,
            error="invalid_jsonl",
            message="JSONL article needs a string 'text' or 'html' field",
        )
    return RawArticle(
        id=article_id,
        path=path,
        data=body.encode("utf-8"),
        kind="html" if obj.get("html") is not None else "text",
        url=_opt_str(obj.get("url")),
        title=_opt_str(obj.get("title")),
        published=_opt_str(obj.get("published")),
    )


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
