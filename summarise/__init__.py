"""summarise: structured, grounded summaries of diplomatic news.

>>> from summarise import summarise_article
>>> record = summarise_article("Blinken met Lavrov in New Delhi on Thursday.")

The public API. Importing it loads no HTTP or model client library: ``OpenAIBackend`` and
``LocalBackend`` are imported on first use, and the offline path never needs them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, TypedDict

from typing_extensions import Unpack

from summarise.backends import make_backend
from summarise.backends.base import Backend
from summarise.backends.offline import OfflineBackend
from summarise.config import EndpointConfig, Settings, resolve_settings
from summarise.errors import ArticleError, FatalError, SummariseError
from summarise.ingest import RawArticle
from summarise.pipeline import process
from summarise.schema import ErrorRecord, ModelSummary, Record

if TYPE_CHECKING:
    from summarise.backends.local import LocalBackend
    from summarise.backends.openai import OpenAIBackend

__all__ = [
    "ArticleError",
    "ArticleFailed",
    "ArticleOptions",
    "Backend",
    "EndpointConfig",
    "ErrorRecord",
    "FatalError",
    "LocalBackend",
    "ModelSummary",
    "OfflineBackend",
    "OpenAIBackend",
    "RawArticle",
    "Record",
    "Settings",
    "SummariseError",
    "asummarise_article",
    "make_backend",
    "resolve_settings",
    "summarise_article",
]

_LAZY = {
    "OpenAIBackend": "summarise.backends.openai",
    "LocalBackend": "summarise.backends.local",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'summarise' has no attribute {name!r}")


class ArticleFailed(SummariseError):
    """Raised by ``summarise_article`` when the article ends as an error record."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(
            f"{record.stage}/{record.error}: {record.message}",
            code=record.error,
            stage=record.stage,
        )
        self.record = record


class ArticleOptions(TypedDict, total=False):
    """What ``summarise_article`` takes besides the text; every key is optional."""

    id: str
    """The record's id (default ``"article"``)."""
    title: str | None
    published: str | None
    """Publication date, ISO 8601: relative dates in the text resolve against it."""
    url: str | None
    html: bool
    """The text is an HTML page (default: plain text)."""
    backend: Backend | None
    """Default: from the environment, as the CLI does; else the offline extractor."""
    strict: bool
    """Drop quotes not found in the article instead of keeping them ungrounded."""


async def asummarise_article(
    text: str | bytes | RawArticle, **options: Unpack[ArticleOptions]
) -> Record:
    """Async form of ``summarise_article``."""
    raw = (
        text
        if isinstance(text, RawArticle)
        else RawArticle(
            id=options.get("id", "article"),
            path=None,
            data=text.encode("utf-8") if isinstance(text, str) else text,
            kind="html" if options.get("html") else "text",
            url=options.get("url"),
            title=options.get("title"),
            published=options.get("published"),
        )
    )
    backend = options.get("backend")
    chosen = backend or make_backend(resolve_settings())
    try:
        await chosen.start()
        result = await process(raw, chosen, strict=options.get("strict", False))
    finally:
        if backend is None:
            await chosen.aclose()
    if isinstance(result, ErrorRecord):
        raise ArticleFailed(result)
    return result


def summarise_article(text: str | bytes | RawArticle, **options: Unpack[ArticleOptions]) -> Record:
    """Summarise one article into a grounded ``Record``.

    >>> record = summarise_article(open("examples/004_8546a322da682372.txt").read())
    >>> record.summary.quotes[0].grounded
    True

    Without ``backend``, the endpoint comes from the environment (``OPENAI_API_KEY``,
    ``OPENAI_BASE_URL``, ``SUMMARISE_MODEL``) and falls back to the offline extractor.
    Raises ``ArticleFailed`` (with the error record) when the article cannot be summarised.
    """
    return asyncio.run(asummarise_article(text, **options))
