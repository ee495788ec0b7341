"""Resume: what the feed and the errors file already hold, and keeping them one line per id.

A run skips articles already done (same id, content, prompt version and model); before and
after it, the errors file is reconciled with the feed (an id that has a record loses its
error lines, and an id keeps only its latest error), so that a crash at any moment, or a
``--retry-errors`` run killed half-way, never leaves an id in both files.

One feed, one current record per id: a run whose model or prompt version differs from the
records already in the feed is refused (``FeedRefused``) unless it is told to supersede
them; then each new record for such an id carries ``supersedes`` (what it replaces) and the
rule for consumers is simple: the last line for an id is the current one.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from summarise.errors import FeedRefused
from summarise.feed import STDOUT, iter_lines
from summarise.schema import Superseded

Config = tuple[str | None, str | None]
"""(model, prompt_version) of a record."""


def resume_key(
    article_id: str, sha256: str, prompt_version: str | None, model: str | None
) -> bytes:
    """A 16-byte digest per article, so the index of a million-line feed stays small."""
    raw = "\0".join((article_id, sha256, prompt_version or "", model or ""))
    return hashlib.blake2b(raw.encode("utf-8"), digest_size=16).digest()


def id_key(article_id: str) -> bytes:
    """An 8-byte digest of an id (memory: a million ids in a few tens of MB)."""
    return hashlib.blake2b(article_id.encode("utf-8", "surrogatepass"), digest_size=8).digest()


def _config_of(line: dict[str, Any]) -> Config:
    holder = line.get("provenance") if isinstance(line.get("provenance"), dict) else line
    assert isinstance(holder, dict)
    return holder.get("model"), holder.get("prompt_version")


def _key_of(line: dict[str, Any]) -> bytes | None:
    """The resume key of a feed or errors line (version 1 and 2 alike), None if malformed."""
    try:
        model, prompt_version = _config_of(line)
        return resume_key(line["id"], line["source"]["sha256"], prompt_version, model)
    except (KeyError, TypeError, AttributeError):
        return None


@dataclass
class FeedState:
    """What a previous run with the same outputs already finished."""

    done: set[bytes] = field(default_factory=set)
    failed: set[bytes] = field(default_factory=set)
    configs: Counter[Config] = field(default_factory=Counter)
    """Feed records per (model, prompt_version)."""
    current: dict[bytes, int] = field(default_factory=dict)
    """id digest -> index into ``_config_list`` of its latest feed record."""
    _config_list: list[Config] = field(default_factory=list)

    @classmethod
    def load(cls, feed: str, errors: Path) -> FeedState:
        state = cls()
        if feed != STDOUT:
            for line in iter_lines(Path(feed)):
                state.add_record(line)
        state.failed = {key for line in iter_lines(errors) if (key := _key_of(line))}
        return state

    def add_record(self, line: dict[str, Any]) -> None:
        key = _key_of(line)
        if key is None:
            return
        self.done.add(key)
        config = _config_of(line)
        self.configs[config] += 1
        self.note(str(line["id"]), config)

    def note(self, article_id: str, config: Config) -> None:
        """A record for ``article_id`` made with ``config`` was just written to the feed."""
        if config not in self._config_list:
            self._config_list.append(config)
        self.current[id_key(article_id)] = self._config_list.index(config)

    def should_skip(self, key: bytes, retry_errors: bool) -> bool:
        return key in self.done or (key in self.failed and not retry_errors)

    def check_config(self, config: Config, *, supersede: bool, feed: str) -> None:
        """Refuse to mix records of another model or prompt into the feed, unless told."""
        others = {c: n for c, n in self.configs.items() if c != config}
        if not others or supersede:
            return
        held = "; ".join(
            f"{n} by model {m!r}, prompt version {p!r}" for (m, p), n in others.items()
        )
        model, prompt_version = config
        raise FeedRefused(
            f"{feed} already holds records made otherwise ({held}); this run uses model "
            f"{model!r}, prompt version {prompt_version!r}. Write to another feed (-o), or "
            "pass --supersede to replace those records (each new line then says what it "
            "supersedes; the last line for an id is the current one)",
            code="feed_conflict",
        )

    def superseded(self, article_id: str, config: Config) -> Superseded | None:
        """What a new record for ``article_id`` replaces, if its current one differs."""
        index = self.current.get(id_key(article_id))
        if index is None or self._config_list[index] == config:
            return None
        model, prompt_version = self._config_list[index]
        return Superseded(model=model, prompt_version=prompt_version)


def reconcile_errors(errors: Path, in_feed: Container[bytes]) -> int:
    """Drop error lines whose id (digest) is ``in_feed``, and all but the last error of an
    id; atomically (a temporary file renamed over the old one). Returns the lines dropped."""
    if not errors.is_file():
        return 0
    lines = list(_raw_lines(errors))
    last: dict[bytes, int] = {}
    for index, (ident, _) in enumerate(lines):
        if ident is not None:
            last[ident] = index
    kept = [
        raw
        for index, (ident, raw) in enumerate(lines)
        if ident is None or (ident not in in_feed and last[ident] == index)
    ]
    dropped = len(lines) - len(kept)
    if dropped:
        tmp = errors.with_name(errors.name + ".tmp")
        with open(tmp, "wb") as fh:
            fh.writelines(kept)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, errors)
    return dropped


def _raw_lines(path: Path) -> Iterator[tuple[bytes | None, bytes]]:
    """(id digest or None, the line as bytes with its newline) for each non-blank line."""
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                value = json.loads(raw)
                ident = id_key(str(value["id"])) if isinstance(value, dict) else None
            except (ValueError, KeyError):
                ident = None
            yield ident, raw if raw.endswith(b"\n") else raw + b"\n"
