"""The ledger of a batch folder: every article, every request file, every batch.

One sqlite3 file, ``DIR/ledger.sqlite`` (WAL journal: a crash loses at most the
uncommitted changes, never the file). Three tables:

- ``meta``: how the requests were built (model, prompt version, answer budget, the feed
  they are for) and a random ``ledger_id`` that names this folder in batch metadata;
- ``articles``: one row per article, keyed by its resume key (hex): id, source, the text
  the model sees (for grounding), state, round, the request file and ``custom_id`` of its
  current round, the batch that answered, and its ``Attempts`` (JSON);
- ``files``: one row per request file: round, lines, bytes, the uploaded file id, the
  batch id, the batch's last status and request counts, whether it was collected.

An article's states: ``prepared`` (in a request file) -> ``submitted`` (its file's batch
exists) -> ``done`` (its record is in the feed) or ``failed`` (its error record is in the
errors file) or ``queued`` (to be asked again next round: a re-ask or a re-queued request,
``reason`` says why) -> ``prepared`` in the next round's file. Every change is an upsert
keyed by the resume key, so doing a step twice changes nothing.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from summarise import prompt
from summarise.backends.openai.attempts import Attempts
from summarise.pipeline import ArticleInfo
from summarise.schema import RecordWarning, Source

LEDGER_NAME = "ledger.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    key TEXT PRIMARY KEY,          -- resume key (id, sha256, prompt version, model), hex
    article_id TEXT NOT NULL,
    path TEXT, url TEXT, sha256 TEXT NOT NULL,
    title TEXT, published TEXT, chars_raw INTEGER NOT NULL,
    text TEXT NOT NULL,            -- the cleaned (fitted) text the model sees
    notes TEXT NOT NULL,           -- JSON: warnings made while preparing (article_truncated)
    state TEXT NOT NULL,
    round INTEGER NOT NULL,
    file TEXT,                     -- request file of the current round, relative to DIR
    custom_id TEXT,                -- custom_id of the current round's request
    batch_id TEXT,                 -- the batch that gave the last answer
    attempts TEXT NOT NULL,        -- summarise.backends.openai.attempts.Attempts, JSON
    reason TEXT                    -- why it is queued or failed, for a person
);
CREATE INDEX IF NOT EXISTS articles_file ON articles (file, state);
CREATE INDEX IF NOT EXISTS articles_state ON articles (state);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY,         -- relative to DIR: requests-0001.jsonl, round-2/...
    round INTEGER NOT NULL,
    lines INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    file_id TEXT,                  -- the uploaded file (Files API)
    create_started REAL,           -- set before batches.create: reconcile after a crash
    batch_id TEXT,
    endpoint TEXT,                 -- host the batch was submitted to
    status TEXT NOT NULL DEFAULT 'prepared',
    counts TEXT,                   -- JSON request_counts of the last retrieve
    output_file_id TEXT, error_file_id TEXT,
    collected INTEGER NOT NULL DEFAULT 0
);
"""


class State(StrEnum):
    """Where an article stands (see the module docstring)."""

    prepared = "prepared"
    submitted = "submitted"
    queued = "queued"
    done = "done"
    failed = "failed"


OPEN_STATES = (State.prepared, State.submitted)
"""States whose article awaits an answer to its current request."""

_SYSTEM_MARK = "\0system\0"


def pack_attempts(attempts: Attempts) -> str:
    """``Attempts`` as JSON, with the (long, shared) system prompt left out."""
    system = prompt.load_prompts().system
    data = attempts.model_dump(mode="json")
    for name in ("messages", "conversation"):
        for message in data[name]:
            if message["content"].startswith(system):
                message["content"] = _SYSTEM_MARK + message["content"][len(system) :]
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def unpack_attempts(text: str) -> Attempts:
    """The inverse of ``pack_attempts``."""
    system = prompt.load_prompts().system
    data = json.loads(text)
    for name in ("messages", "conversation"):
        for message in data[name]:
            if message["content"].startswith(_SYSTEM_MARK):
                message["content"] = system + message["content"][len(_SYSTEM_MARK) :]
    return Attempts.model_validate(data)


@dataclass
class Entry:
    """One article row."""

    key: str
    info: ArticleInfo
    text: str
    attempts: Attempts
    notes: list[RecordWarning] = field(default_factory=list)
    state: State = State.prepared
    round: int = 1
    file: str | None = None
    custom_id: str | None = None
    batch_id: str | None = None
    reason: str | None = None


@dataclass
class FileRow:
    """One request file row."""

    path: str
    round: int
    lines: int
    bytes: int
    file_id: str | None = None
    create_started: float | None = None
    batch_id: str | None = None
    endpoint: str | None = None
    status: str = "prepared"
    counts: dict[str, int] | None = None
    output_file_id: str | None = None
    error_file_id: str | None = None
    collected: bool = False


class Ledger:
    """The ledger of one batch folder. Changes are committed by ``commit()`` (or on leaving
    a ``with`` block without an error); an uncommitted change is lost in a crash."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / LEDGER_NAME, isolation_level="DEFERRED")
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        if self.meta("ledger_id") is None:
            self.set_meta("ledger_id", uuid.uuid4().hex)
            self.commit()

    @classmethod
    def existing(cls, folder: Path) -> Ledger:
        """The ledger of a folder ``prepare`` made; ``FileNotFoundError`` if there is none."""
        if not (folder / LEDGER_NAME).is_file():
            raise FileNotFoundError(folder / LEDGER_NAME)
        return cls(folder)

    def close(self) -> None:
        self.db.close()

    def commit(self) -> None:
        self.db.commit()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            self.commit()
        self.close()

    # -- meta -------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- articles ---------------------------------------------------------------------------

    def has(self, key: str) -> bool:
        return (
            self.db.execute("SELECT 1 FROM articles WHERE key = ?", (key,)).fetchone() is not None
        )

    def put(self, entry: Entry) -> None:
        """Insert the row of ``entry.key``, or update it in place (its rowid, the order
        articles are listed in, stays)."""
        info = entry.info
        self.db.execute(
            _UPSERT,
            (
                entry.key,
                info.id,
                info.source.path,
                info.source.url,
                info.source.sha256,
                info.title,
                info.published,
                info.chars_raw,
                entry.text,
                json.dumps([n.model_dump(mode="json") for n in entry.notes]),
                entry.state.value,
                entry.round,
                entry.file,
                entry.custom_id,
                entry.batch_id,
                pack_attempts(entry.attempts),
                entry.reason,
            ),
        )

    def get(self, key: str) -> Entry | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM articles WHERE key = ?", (key,)).fetchone()
        return None if row is None else _entry(row)

    def set_state(self, key: str, state: State, **fields: Any) -> None:
        """Change an article's state and any of ``file``, ``custom_id``, ``round``,
        ``batch_id``, ``reason`` (columns) without reading the row."""
        names = ["state", *fields]
        values = [state.value, *fields.values()]
        assignments = ", ".join(f"{name} = ?" for name in names)
        self.db.execute(f"UPDATE articles SET {assignments} WHERE key = ?", (*values, key))

    def keys(
        self, *states: State, file: str | None = None, round_: int | None = None
    ) -> Iterator[str]:
        """Keys of the articles in ``states`` (of request file ``file``, of round ``round_``,
        if given), in the
        order they were prepared; read a page at a time, so that a caller may change the
        rows as it goes and memory stays bounded."""
        marks = ", ".join("?" for _ in states)
        where = f"state IN ({marks})"
        params: list[str | int] = [s.value for s in states]
        if file is not None:
            where += " AND file = ?"
            params.append(file)
        if round_ is not None:
            where += " AND round = ?"
            params.append(round_)
        return self._paged(where, params)

    def rounds(self, state: State) -> list[int]:
        """The rounds that have articles in ``state``, in order."""
        query = "SELECT DISTINCT round FROM articles WHERE state = ? ORDER BY round"
        return [int(row[0]) for row in self.db.execute(query, (state.value,))]

    def unfinished(self) -> Iterator[str]:
        """Keys of the articles neither done nor failed (to reconcile with the feed)."""
        return self._paged("state NOT IN (?, ?)", [State.done.value, State.failed.value])

    def _paged(self, where: str, params: Sequence[str | int]) -> Iterator[str]:
        after = 0
        query = (
            f"SELECT rowid, key FROM articles WHERE rowid > ? AND {where} ORDER BY rowid LIMIT ?"
        )
        while True:
            rows = self.db.execute(query, (after, *params, _PAGE)).fetchall()
            if not rows:
                return
            after = int(rows[-1][0])
            yield from (str(row[1]) for row in rows)

    def counts(self) -> dict[str, int]:
        """Articles per state."""
        rows = self.db.execute("SELECT state, COUNT(*) FROM articles GROUP BY state")
        return {str(state): int(n) for state, n in rows}

    def usage(self) -> tuple[int, int, int]:
        """(prompt, completion, cached) tokens over every article's answers so far."""
        sums = ", ".join(
            f"COALESCE(SUM(json_extract(attempts, '$.usage.{name}')), 0)"
            for name in ("prompt_tokens", "completion_tokens", "cached_tokens")
        )
        row = self.db.execute(f"SELECT {sums} FROM articles").fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    # -- files ------------------------------------------------------------------------------

    def add_file(self, row: FileRow) -> None:
        self.db.execute(
            "INSERT OR IGNORE INTO files (path, round, lines, bytes) VALUES (?, ?, ?, ?)",
            (row.path, row.round, row.lines, row.bytes),
        )

    def set_file(self, path: str, **fields: Any) -> None:
        """Set columns of a file row (``counts`` as a dict, ``collected`` as a bool)."""
        if "counts" in fields and fields["counts"] is not None:
            fields["counts"] = json.dumps(fields["counts"])
        if "collected" in fields:
            fields["collected"] = int(fields["collected"])
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self.db.execute(f"UPDATE files SET {assignments} WHERE path = ?", (*fields.values(), path))

    def files(self) -> list[FileRow]:
        """Every request file, round by round, in name order."""
        rows = self.db.execute(f"SELECT {_FILE_COLUMNS} FROM files ORDER BY round, path")
        return [_file_row(row) for row in rows.fetchall()]

    def file(self, path: str) -> FileRow | None:
        row = self.db.execute(
            f"SELECT {_FILE_COLUMNS} FROM files WHERE path = ?", (path,)
        ).fetchone()
        return None if row is None else _file_row(row)


_PAGE = 5000
_UPSERT = (
    "INSERT INTO articles (key, article_id, path, url, sha256, title, published, chars_raw, "
    "text, notes, state, round, file, custom_id, batch_id, attempts, reason) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(
        f"{c} = excluded.{c}"
        for c in ("state", "round", "file", "custom_id", "batch_id", "attempts", "reason", "notes")
    )
)
_COLUMNS = (
    "key, article_id, path, url, sha256, title, published, chars_raw, text, notes, state, "
    "round, file, custom_id, batch_id, attempts, reason"
)
_FILE_COLUMNS = (
    "path, round, lines, bytes, file_id, create_started, batch_id, endpoint, status, counts, "
    "output_file_id, error_file_id, collected"
)


def _entry(row: tuple[Any, ...]) -> Entry:
    (key, article_id, path, url, sha256, title, published, chars_raw, text, notes) = row[:10]
    (state, round_, file, custom_id, batch_id, attempts, reason) = row[10:]
    info = ArticleInfo(
        article_id, Source(path=path, url=url, sha256=sha256), title, published, chars_raw
    )
    return Entry(
        key=key,
        info=info,
        text=text,
        attempts=unpack_attempts(attempts),
        notes=[RecordWarning.model_validate(n) for n in json.loads(notes)],
        state=State(state),
        round=round_,
        file=file,
        custom_id=custom_id,
        batch_id=batch_id,
        reason=reason,
    )


def _file_row(row: tuple[Any, ...]) -> FileRow:
    values = list(row)
    values[9] = json.loads(values[9]) if values[9] else None
    values[12] = bool(values[12])
    return FileRow(*values)
