"""Outputs of a run: where they go, checked before anything runs, and one writer at a time.

The feed, the errors file and ``run-stats.json`` must be three different files, none of
them an input (a run must never read or overwrite what it writes), and none of them a
folder. While a run writes a feed it holds an OS lock (``flock``) on ``FEED.lock``: a second
run on the same feed stops at once, saying which process holds it, and a lock left by a
killed process never blocks, since the kernel releases it with the process.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from summarise.errors import FeedRefused, UsageError
from summarise.feed import STDOUT

try:
    import fcntl
except ImportError:  # not POSIX: runs are not locked
    fcntl = None  # type: ignore[assignment]

STATS_NAME = "run-stats.json"


@dataclass(frozen=True)
class OutputPaths:
    """The files one run writes."""

    feed: str
    """The feed path, or ``-`` for stdout."""
    errors: Path
    stats: Path

    @property
    def lock(self) -> Path:
        """Beside the feed; beside the errors file when the feed is stdout or a device."""
        feed = Path(self.feed)
        target = self.errors if self.feed == STDOUT or feed.is_char_device() else feed
        return target.with_name(target.name + ".lock")

    def files(self) -> frozenset[Path]:
        """Every file the run writes, resolved (to keep them out of the inputs)."""
        named = [self.errors, self.stats, self.lock]
        if self.feed != STDOUT:
            named.append(Path(self.feed))
        return frozenset(p.resolve() for p in named)

    def check(self, inputs: list[str]) -> None:
        """Raise ``UsageError`` unless the outputs are distinct files that no input names."""
        named = {
            "-o/--output": self.feed,
            "--errors": str(self.errors),
            "run-stats": str(self.stats),
        }
        for flag, value in named.items():
            if value != STDOUT and Path(value).is_dir():
                raise UsageError(
                    f"{flag} names a folder: {value}; give a file, e.g. {value}/summaries.jsonl"
                )
        resolved = [Path(v).resolve() for v in named.values() if v != STDOUT]
        if len(set(resolved)) < len(resolved):
            raise UsageError(
                f"the feed ({self.feed}), the errors file ({self.errors}) and the run stats "
                f"({self.stats}) must be three different files"
            )
        for arg in inputs:
            if arg != STDOUT and Path(arg).resolve() in set(resolved):
                raise UsageError(f"{arg} is both an input and an output of this run")


class FeedLock:
    """An exclusive ``flock`` on ``path`` for the ``with`` block; ``FeedRefused`` if taken."""

    def __init__(self, path: Path, feed: str) -> None:
        self.path = path
        self.feed = feed
        self._fh: IO[str] | None = None

    def __enter__(self) -> FeedLock:
        if fcntl is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+", encoding="utf-8")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            fh.close()
            raise FeedRefused(
                f"another summarise run (pid {holder}) is writing {self.feed}; wait for it "
                "to finish, or write to another feed (-o)",
                code="feed_locked",
            ) from exc
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()  # closing releases the lock
            self._fh = None
