"""The offline backend: deterministic extractive summaries, no network, no model.

It is what ``summarise`` uses when no endpoint is configured (and says so); the extraction
itself is in ``extractor``.
"""

from __future__ import annotations

import time

from summarise.backends.base import (
    DEFAULT_MAX_ARTICLE_CHARS,
    BackendRecipe,
    Extraction,
    fit_text,
    truncation_warning,
)
from summarise.backends.offline import extractor
from summarise.clean import CleanArticle
from summarise.schema import RecordWarning, Usage, WarningCode
from summarise.text import language

OFFLINE_VERSION = "offline-1"
OFFLINE_NOTICE = (
    "no model endpoint configured: using the offline extractor; "
    "configure --base-url/OPENAI_API_KEY for full summaries"
)
EXTRACTIVE = RecordWarning(
    code=WarningCode.extractive,
    message="issues and outcomes are source sentences chosen by the offline extractor, "
    "not a model's summary",
)


def language_warning(text: str) -> RecordWarning | None:
    """A ``language_unsupported`` warning when the article is in a language the extractor
    does not read (its summary is then mostly empty; a model's would not be)."""
    code = language.detect(text)
    if code is None or code in language.SUPPORTED:
        return None
    return RecordWarning(
        code=WarningCode.language_unsupported,
        message="the offline extractor reads English and French; "
        f"this article looks like {language.name(code)}",
    )


class OfflineBackend:
    """The deterministic extractor: no network, no key, always available."""

    name = "offline"
    model: str | None = "offline-extractor"
    endpoint: str | None = None
    prompt_version = OFFLINE_VERSION

    async def start(self) -> None:
        return None

    def describe(self) -> str | None:
        return None

    def worker_recipe(self, workers: int) -> BackendRecipe | None:
        return OfflineBackend

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        started = time.monotonic()
        # The same cap as a model's, so records stay alike whichever backend made them.
        text, cut = fit_text(article.text, DEFAULT_MAX_ARTICLE_CHARS)
        summary = extractor.extract(article.model_copy(update={"text": text}) if cut else article)
        extraction = Extraction(
            summary=summary,
            attempts=0,
            usage=Usage(),
            finish_reason=None,
            latency_s=round(time.monotonic() - started, 4),
            response_id=None,
            warnings=[EXTRACTIVE.model_copy()],
        )
        unsupported = language_warning(text)
        if unsupported is not None:
            extraction.warnings.append(unsupported)
        if cut:
            extraction.warnings.append(
                truncation_warning(
                    len(article.text), len(text), "the most the offline extractor reads"
                )
            )
        return extraction, text

    async def aclose(self) -> None:
        return None
