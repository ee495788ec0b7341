"""One error model: every failure has a stable ``code``, a ``stage`` and a ``message``.

Two kinds, told apart by what happens next:

* ``ArticleError``: this article cannot be summarised; it becomes an error record (its
  ``code`` and ``stage`` are the record's ``error`` and ``stage``) and the run goes on.
* ``FatalError``: the run cannot go on (bad flags or inputs, a rejected key, an endpoint
  that cannot be used, a local model server that died); said once, and the process exits
  with ``exit_code``.

The command line maps these to exit codes in one place; the codes themselves are here.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar

from summarise.schema import Stage, Usage


class ExitCode(IntEnum):
    """What ``summarise`` exits with (documented in the README)."""

    OK = 0
    """Every article summarised."""
    FAILED = 1
    """Some articles ended in the errors file."""
    FATAL = 2
    """The run could not go on."""
    BUDGET = 3
    """Stopped by ``--max-tokens-per-run``: run again to continue."""
    WRITE_FAILED = 4
    """The feed or errors file could not be written (full disk, I/O error): the run stopped."""
    INTERRUPTED = 130
    """Ctrl-C: finished articles are kept; run again to resume."""
    OUTPUT_CLOSED = 141
    """Stdout was closed by its reader (``| head``): the run ended quietly, like Unix tools."""
    TERMINATED = 143
    """SIGTERM: as Ctrl-C, finished articles are kept; run again to resume."""


class SummariseError(Exception):
    """Base of every error ``summarise`` raises on purpose."""

    default_code: ClassVar[str] = "error"
    default_stage: ClassVar[str] = "run"

    def __init__(self, message: str, *, code: str | None = None, stage: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.stage = stage or self.default_stage

    def __str__(self) -> str:
        return self.message


class ArticleError(SummariseError):
    """One article failed; the run goes on and the article gets an error record.

    Like instructor's retry exception, it carries what the attempt cost: model calls made,
    the last raw response id and the tokens spent.
    """

    default_code = "article_failed"
    stage: Stage  # an error record's stage, narrower than a fatal error's

    def __init__(
        self,
        code: str,
        message: str,
        *,
        stage: Stage,
        attempts: int = 0,
        last_response_id: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message, code=code, stage=stage)
        self.attempts = attempts
        self.last_response_id = last_response_id
        self.usage = usage or Usage()


class FatalError(SummariseError):
    """The run cannot go on: stop once, say why, exit with ``exit_code``."""

    default_code = "fatal"
    exit_code: ClassVar[ExitCode] = ExitCode.FATAL


class UsageError(FatalError):
    """A bad flag, option value or combination of them."""

    default_code, default_stage = "usage", "setup"


class InputError(FatalError):
    """The inputs name nothing that can be read (no such file, empty glob, ...)."""

    default_code, default_stage = "no_input", "ingest"


class EndpointError(FatalError):
    """The model endpoint cannot be used: rejected key, unknown model, unreachable, ..."""

    default_code, default_stage = "endpoint", "model"


class LocalModelError(EndpointError):
    """The local model cannot be served: missing extra, bad GGUF, server that would not start."""

    default_code = "local_model"


class LocalServerDied(LocalModelError):
    """The llama.cpp server this run started died while the run was using it."""

    default_code = "local_server_died"


class WriteError(FatalError):
    """The feed or the errors file cannot be written (full disk, I/O error)."""

    default_code, default_stage = "write_failed", "write"
    exit_code = ExitCode.WRITE_FAILED


class OutputClosed(WriteError):
    """Stdout, where the feed goes, was closed by its reader: end quietly."""

    default_code = "output_closed"
    exit_code = ExitCode.OUTPUT_CLOSED


class FeedRefused(FatalError):
    """This run may not write the feed: another run holds its lock (``feed_locked``), or it
    holds records of another model or prompt (``feed_conflict``)."""

    default_stage = "setup"


class CorrectionsError(FatalError):
    """A review's corrections cannot be applied: a line that is not a correction
    (``corrections_invalid``), corrections that do not match the feed (``corrections_stale``),
    or a feed line that is not a record (``feed_invalid``)."""

    default_code, default_stage = "corrections_invalid", "review"


class Terminated(FatalError):
    """SIGTERM: the run stopped like on Ctrl-C, keeping what is finished."""

    default_code = "terminated"
    exit_code = ExitCode.TERMINATED
