"""What every backend is: the ``Backend`` protocol, its ``Extraction``, and context fitting.

A backend turns a cleaned article into a ``ModelSummary`` (plus what it cost); everything
after that (grounding, provenance, the record) is the same code for all backends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from summarise.clean import CleanArticle
from summarise.schema import ModelSummary, RecordWarning, Usage, WarningCode

# A conservative characters-per-token estimate for English news (rate limits, context fit).
CHARS_PER_TOKEN = 3.5
# No news article is longer, and a record's text stays a size feed consumers can hold.
DEFAULT_MAX_ARTICLE_CHARS = 60_000


@dataclass
class Extraction:
    """A validated model answer and what it cost."""

    summary: ModelSummary
    attempts: int
    usage: Usage
    finish_reason: str | None
    latency_s: float
    response_id: str | None
    warnings: list[RecordWarning] = field(default_factory=list)


BackendRecipe = Callable[[], "Backend"]
"""A picklable callable that builds a started backend's equivalent in another process."""


class Backend(Protocol):
    """Where summaries come from. ``prompt_version`` and ``model`` key the resume index."""

    name: str
    model: str | None
    endpoint: str | None
    prompt_version: str

    async def start(self) -> None: ...

    def describe(self) -> str | None:
        """What ``start`` found out about the endpoint, for ``-v``; None if nothing."""
        ...

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        """The extraction and the article text it was made from (possibly truncated)."""
        ...

    async def aclose(self) -> None: ...

    def worker_recipe(self, workers: int) -> BackendRecipe | None:
        """How a worker process (one of ``workers``) builds an equivalent backend, after
        ``start``; None if this backend cannot be shared (a server this process runs)."""
        ...


def fit_text(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` at a paragraph (else sentence, else word) boundary within ``limit``."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    for boundary in ("\n\n", ". ", " "):
        cut = head.rfind(boundary)
        if cut > limit // 2:
            return head[: cut + (1 if boundary == ". " else 0)].rstrip(), True
    return head, True


def article_char_budget(context_tokens: int, answer_tokens: int, instruction_chars: int) -> int:
    """Characters of article that fit a context window beside the instructions and the
    answer (with a little slack for the chat template), at least 1,000."""
    reserved = answer_tokens + instruction_chars / CHARS_PER_TOKEN + 100
    return max(1000, int((context_tokens - reserved) * CHARS_PER_TOKEN))


def truncation_warning(original: int, kept: int, why: str) -> RecordWarning:
    """The ``article_truncated`` warning of a backend that cut the article to fit."""
    return RecordWarning(
        code=WarningCode.article_truncated, message=f"{original} characters cut to {kept}, {why}"
    )
