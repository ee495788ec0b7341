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
import os
import re
import stat
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
InputFormat = Literal["text", "html", "jsonl"]
"""How to read stdin: one article (text or HTML), or JSONL lines."""


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


class InputProblem(str):
    """A path found while expanding a folder or glob that cannot be read as an input.

    It is a ``str`` (the path) so that ``check_inputs`` still returns a list of paths;
    ``read`` turns it into an error ``RawArticle`` with its ``code`` and ``message``.
    """

    code: str
    message: str

    def __new__(cls, path: str, code: str, message: str) -> InputProblem:
        problem = super().__new__(cls, path)
        problem.code = code
        problem.message = message
        return problem


def expand(inputs: Iterable[str], *, exclude: frozenset[Path] = frozenset()) -> Iterator[str]:
    """Paths for the CLI's INPUT arguments: files, folders (recursive), globs, '-'.

    Each file is given once, however often it is named (directly, through a folder or a
    symlink). Files in ``exclude`` (this run's outputs) are skipped in folders and globs.
    Raises ``InputError`` for an argument that names nothing, or an excluded file, before
    anything is read, so that a typo stops the run with a clear message instead of an
    empty feed. Unreadable subfolders and broken symlinks found in a folder are yielded
    as ``InputProblem`` paths, which ``read`` turns into error records.
    """
    excluded = {_resolved(str(p)) for p in exclude}
    seen: set[str] = set()
    for arg in inputs:
        for path in _expand_one(arg, excluded):
            key = path if path == "-" else _resolved(path)
            if key not in seen:
                seen.add(key)
                yield path


def _expand_one(arg: str, excluded: set[str]) -> Iterator[str]:
    if arg == "-":
        yield arg
        return
    path = Path(arg)
    if _is_dir(path):
        yield from _expand_folder(path, arg, excluded)
    elif _is_file(path):
        if _resolved(arg) in excluded:
            raise InputError(f"{arg} is an output of this run (feed, errors or stats file)")
        yield arg
    elif glob.has_magic(arg):
        yield from _expand_glob(arg, excluded)
    elif path.is_symlink():
        raise InputError(f"broken symlink: {arg} -> {os.readlink(arg)} (no such file)")
    else:
        raise InputError(f"no such file or folder: {arg}")


def _expand_folder(folder: Path, arg: str, excluded: set[str]) -> Iterator[str]:
    found: dict[Path, str] = {}
    _walk(folder, found)
    kept = {p: s for p, s in found.items() if _resolved(s) not in excluded}
    if not kept:
        skipped = " (outputs of this run are skipped)" if found else ""
        raise InputError(f"no .txt, .html or .jsonl files in folder {arg}{skipped}")
    yield from (kept[p] for p in sorted(kept))


def _walk(folder: Path, found: dict[Path, str]) -> None:
    """Supported files under ``folder``, like ``rglob`` (symlinked folders not followed),
    plus an ``InputProblem`` for each folder that cannot be listed and broken symlink."""
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except OSError as exc:
        found[folder] = InputProblem(
            str(folder), "unreadable_folder", f"cannot list folder {folder}: {_reason(exc)}"
        )
        return
    for entry in entries:
        path = Path(entry.path)
        if _is_dir(path, follow_symlinks=False):
            _walk(path, found)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES and _is_file(path):
            found[path] = str(path)
        elif path.suffix.lower() in SUPPORTED_SUFFIXES | {""} and _is_dangling(path):
            found[path] = _dangling(path)


def _expand_glob(pattern: str, excluded: set[str]) -> Iterator[str]:
    found: list[str] = []
    for match in sorted(glob.glob(pattern, recursive=True)):
        if _resolved(match) in excluded:
            continue
        if _is_file(Path(match)):
            found.append(match)
        elif _is_dangling(Path(match)):
            found.append(_dangling(Path(match)))
    if not found:
        raise InputError(f"no files match {pattern}")
    yield from found


def _is_dir(path: Path, *, follow_symlinks: bool = True) -> bool:
    try:
        return stat.S_ISDIR((path.stat() if follow_symlinks else path.lstat()).st_mode)
    except (OSError, ValueError):
        return False


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except PermissionError:  # a parent folder we cannot search: read() says so
        return True
    except (OSError, ValueError):
        return False


def _is_dangling(path: Path) -> bool:
    try:
        return path.is_symlink() and not path.exists()
    except OSError:  # a symlink loop
        return path.is_symlink()


def _dangling(path: Path) -> InputProblem:
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return InputProblem(
        str(path), "dangling_symlink", f"broken symlink: {path} -> {target} (no such file)"
    )


def _resolved(path: str) -> str:
    return os.path.realpath(path)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


def check_inputs(inputs: Iterable[str], *, exclude: frozenset[Path] = frozenset()) -> list[str]:
    """Expand all inputs up front (paths only, nothing read) so errors surface early."""
    return list(expand(inputs, exclude=exclude))


def read(
    paths: Iterable[str],
    stdin: BinaryIO | None = None,
    *,
    stdin_format: InputFormat = "text",
) -> Iterator[RawArticle]:
    """Stream ``RawArticle`` values from expanded paths ('-' reads stdin).

    Files are JSONL by their suffix; stdin is one article unless ``stdin_format`` says
    ``jsonl``. Nothing raises: a file or line that cannot be read is an error article.
    """
    for path in paths:
        if isinstance(path, InputProblem):
            yield RawArticle(
                _path_id(path), _display(path), b"", error=path.code, message=_display(path.message)
            )
        elif path == "-":
            yield from _read_stdin(stdin or sys.stdin.buffer, stdin_format)
        elif Path(path).suffix.lower() in JSONL_SUFFIXES:
            yield from _read_jsonl_file(path)
        else:
            yield _read_file(path)


def count_articles(paths: Iterable[str]) -> int | None:
    """How many articles ``read`` will yield (for a progress ETA); ``None`` with stdin.

    JSONL files are counted by their non-blank lines, in 1 MiB blocks: constant memory,
    about a second per gigabyte. A file that cannot be read counts once (its error).
    """
    total = 0
    for path in paths:
        if path == "-":
            return None
        if isinstance(path, InputProblem) or Path(path).suffix.lower() not in JSONL_SUFFIXES:
            total += 1
            continue
        try:
            total += _count_lines(path)
        except OSError:
            total += 1  # read() yields one error article for it
    return total


def _count_lines(path: str) -> int:
    total = 0
    with open(path, "rb") as fh:
        tail = b""
        while block := fh.read(1 << 20):
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            total += sum(1 for line in lines if line.strip())
        total += bool(tail.strip())
    return total


def _read_file(path: str) -> RawArticle:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return _unreadable(_path_id(path), path, exc)
    return RawArticle(_path_id(path), _display(path), data, kind_for(path, data))


def _unreadable(article_id: str, path: str, exc: OSError) -> RawArticle:
    message = f"cannot read {_display(path)}: {_reason(exc)}"
    return RawArticle(article_id, _display(path), b"", error="unreadable", message=message)


def _read_stdin(stream: BinaryIO, stdin_format: InputFormat) -> Iterator[RawArticle]:
    """stdin is one article (text or HTML), or JSONL lines when told so."""
    if stdin_format == "jsonl":
        yield from _read_jsonl(stream, "-")
        return
    try:
        data = stream.read()
    except OSError as exc:
        yield _unreadable("stdin", "-", exc)
        return
    kind: Kind = "html" if stdin_format == "html" else kind_for("", data)
    yield RawArticle("stdin", "-", data, kind)


def _read_jsonl_file(path: str) -> Iterator[RawArticle]:
    try:
        fh = open(path, "rb")  # noqa: SIM115 - an open error is a record; closed below
    except OSError as exc:
        yield _unreadable(_path_id(path), path, exc)
        return
    with fh:
        yield from _read_jsonl(fh, path)


def _read_jsonl(lines: Iterable[bytes], path: str) -> Iterator[RawArticle]:
    """One article per line: {id, text | html, url?, title?, published?}.

    Each line stands alone: one that cannot be parsed or is not an article is an error
    article with the id ``STEM:LINE``, and the lines after it are read as usual.
    """
    stem = _path_id(path) if path != "-" else "stdin"
    number = 0
    try:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield _from_line(line, path, f"{stem}:{number}", number)
    except OSError as exc:  # the file broke mid-way: say where, the rest is lost
        yield _unreadable(f"{stem}:{number + 1}", path, exc)


def _from_line(line: bytes, path: str, fallback_id: str, number: int) -> RawArticle:
    try:
        obj = json.loads(line)
    except RecursionError:
        problem = ("jsonl_too_deep", "arrays or objects nested too deeply to parse")
        return _bad_line(fallback_id, path, line, number, problem)
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, an over-long integer
        return _bad_line(fallback_id, path, line, number, ("invalid_jsonl", str(exc)))
    return _from_object(obj, path, fallback_id, line, number)


def _bad_line(
    article_id: str, path: str, line: bytes, number: int, problem: tuple[str, str]
) -> RawArticle:
    code, message = problem
    return RawArticle(
        article_id, _display(path), line, error=code, message=f"line {number}: {message}"
    )


def _from_object(obj: object, path: str, fallback_id: str, line: bytes, number: int) -> RawArticle:
    if not isinstance(obj, dict):
        problem = ("invalid_jsonl", f"the line is {_json_type(obj)}, not a JSON object")
        return _bad_line(fallback_id, path, line, number, problem)
    article_id, bad_id = _article_id(obj.get("id"), fallback_id)
    if bad_id is not None:
        return _bad_line(fallback_id, path, line, number, ("invalid_id", bad_id))
    is_html = obj.get("html") is not None
    body = obj.get("html") if is_html else obj.get("text")
    if not isinstance(body, str):
        problem = ("invalid_jsonl", "a JSONL article needs a string 'text' or 'html' field")
        return _bad_line(article_id, path, line, number, problem)
    return RawArticle(
        id=article_id,
        path=_display(path),
        data=_valid_unicode(body).encode("utf-8"),
        kind="html" if is_html else "text",
        url=_opt_str(obj.get("url")),
        title=_opt_str(obj.get("title")),
        published=_opt_str(obj.get("published")),
    )


def _article_id(value: object, fallback_id: str) -> tuple[str, str | None]:
    """The line's id (a string or an integer), or the fallback and what is wrong."""
    if value is None or value == "":
        return fallback_id, None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value), None
    if not isinstance(value, str):
        return fallback_id, f"'id' must be a string or an integer, not {_json_type(value)}"
    if _LONE_SURROGATE.search(value):
        return fallback_id, "'id' is not valid Unicode (it holds a lone surrogate escape)"
    return value, None


# A ``str`` from ``json.loads`` holds a surrogate only when the JSON had a lone "\\udXXX"
# escape: it cannot be written as UTF-8, so it must not reach the feed.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_unicode(text: str) -> str:
    """Lone surrogates (not valid Unicode) become U+FFFD, as undecodable bytes do."""
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def _display(path: str) -> str:
    """A path as valid Unicode: undecodable bytes in a file name shown as ``\\xff``."""
    if not _LONE_SURROGATE.search(path):
        return str(path)  # a plain str, not an ``InputProblem``
    try:
        return os.fsencode(path).decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name decodes to
        return _valid_unicode(path)


def _path_id(path: str) -> str:
    return _display(Path(path).stem)


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    return "null" if value is None else names.get(type(value), "a number")


def _opt_str(value: object) -> str | None:
    return _valid_unicode(value) if isinstance(value, str) and value.strip() else None
