"""summarise: structured, grounded summaries of diplomatic news.

>>> from summarise import summarise_article
>>> record = summarise_article("Blinken met Lavrov in New Delhi on Thursday.")

The public API. Importing it loads no HTTP or model client library: ``OpenAIBackend`` and
``LocalBackend`` are imported on first use, and the offline path never needs them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

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


async def asummarise_article(
    text: str | bytes | RawArticle,
    *,
    id: str = "article",
    title: str | None = None,
    published: str | None = None,
    url: str | None = None,
    html: bool = False,
    backend: Backend | None = None,
    strict: bool = False,
) -> Record:
    """Async form of ``summarise_article``."""
    raw = (
        text
        if isinstance(text, RawArticle)
        else RawArticle(
            id=id,
            path=None,
            data=text.encode("utf-8") if isinstance(text, str) else text,
            kind="html" if html else "text",
            url=url,
            title=title,
            published=published,
        )
    )
    owned = backend is None
    chosen = backend or make_backend(resolve_settings())
    try:
        await chosen.start()
        result = await process(raw, chosen, strict=strict)
    finally:
        if owned:
            await chosen.aclose()
    if isinstance(result, ErrorRecord):
        raise ArticleFailed(result)
    return result


def summarise_article(
    text: str | bytes | RawArticle,
    *,
    id: str = "article",
    title: str | None = None,
    published: str | None = None,
    url: str | None = None,
    html: bool = False,
    backend: Backend | None = None,
    strict: bool = False,
) -> Record:
    """Summarise one article into a grounded ``Record``.

    >>> record = summarise_article(open("examples/004_8546a322da682372.txt").read())
    >>> record.summary.quotes[0].grounded
    True

    Without ``backend``, the endpoint comes from the environment (``OPENAI_API_KEY``,
    ``OPENAI_BASE_URL``, ``SUMMARISE_MODEL``) and falls back to the offline extractor.
    Raises ``ArticleFailed`` (with the error record) when the article cannot be summarised.
    """
    return asyncio.run(
        asummarise_article(
            text,
            id=id,
            title=title,
            published=published,
            url=url,
            html=html,
            backend=backend,
            strict=strict,
        )
    )
