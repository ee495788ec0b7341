"""Pipeline: one raw article -> a ``Record`` or an ``ErrorRecord``.

ingest -> clean -> prompt -> model (or the offline extractor) -> validate -> ground.
Backends hide where the ``ModelSummary`` comes from; everything after it (grounding,
provenance, the record) is the same code for all of them.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from summarise import offline, prompt
from summarise.clean import CleanArticle, CleanError, clean
from summarise.client import CHARS_PER_TOKEN, EndpointConfig, Extraction, ModelClient, ModelError
from summarise.ground import ground_summary
from summarise.ingest import RawArticle
from summarise.schema import (
    Article,
    ErrorRecord,
    Provenance,
    Record,
    Source,
    Usage,
)

OFFLINE_VERSION = "offline-1"
OFFLINE_NOTICE = (
    "no model endpoint configured: using the offline extractor; "
    "configure --base-url/OPENAI_API_KEY for full summaries"
)
DEFAULT_MAX_ARTICLE_CHARS = 60_000


class Backend(Protocol):
    """Where summaries come from. ``prompt_version`` and ``model`` key the resume index."""

    name: str
    model: str | None
    endpoint: str | None
    prompt_version: str

    async def start(self) -> None: ...

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        """The extraction and the article text it was made from (possibly truncated)."""
        ...

    async def aclose(self) -> None: ...


class OfflineBackend:
    """The deterministic extractor: no network, no key, always available."""

    name = "offline"
    model: str | None = "offline-extractor"
    endpoint: str | None = None
    prompt_version = OFFLINE_VERSION

    async def start(self) -> None:
        return None

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        started = time.monotonic()
        # The same cap as a model's: no news article is longer, and a record's text stays
        # a size that consumers of the feed can hold.
        text, cut = fit_text(article.text, DEFAULT_MAX_ARTICLE_CHARS)
        summary = offline.extract(article.model_copy(update={"text": text}) if cut else article)
        extraction = Extraction(
            summary=summary,
            attempts=0,
            usage=Usage(),
            finish_reason=None,
            latency_s=round(time.monotonic() - started, 4),
            response_id=None,
            warnings=[
                "extractive: issues and outcomes are source sentences chosen by the offline "
                "extractor, not a model's summary"
            ],
        )
        if cut:
            extraction.warnings.append(
                f"article_truncated: {len(article.text)} characters cut to {len(text)}, "
                "the most the offline extractor reads"
            )
        return extraction, text

    async def aclose(self) -> None:
        return None


class OpenAIBackend:
    """Any OpenAI-compatible endpoint, through ``ModelClient``."""

    def __init__(
        self, config: EndpointConfig, client: ModelClient | None = None, *, name: str = "openai"
    ) -> None:
        self.name = name
        self.config = config
        self.client = client or ModelClient(config)
        self.model: str | None = config.model
        self.endpoint: str | None = config.endpoint_host
        self.prompt_version = prompt.prompt_version()
        self.max_article_chars = DEFAULT_MAX_ARTICLE_CHARS

    async def start(self) -> None:
        caps = await self.client.capabilities()
        context = self.config.context_length or caps.context_length
        if context:
            reserved = self.config.max_tokens + len(prompt.load_prompts().system) / CHARS_PER_TOKEN
            budget = context - reserved - 100
            self.max_article_chars = max(1000, int(budget * CHARS_PER_TOKEN))

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        text, cut = fit_text(article.text, self.max_article_chars)
        messages = prompt.build_messages(
            text,
            title=article.title,
            published=article.published,
            system_in_user=self.config.system_in_user,
        )
        extraction = await self.client.extract(messages)
        if cut:
            extraction.warnings.append(
                f"article_truncated: {len(article.text)} characters cut to {len(text)} "
                "to fit the model's context"
            )
        return extraction, text

    async def aclose(self) -> None:
        await self.client.aclose()


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


@dataclass(frozen=True)
class Settings:
    """Resolved run configuration: flags > environment > defaults."""

    backend: str
    config: EndpointConfig


def resolve_settings(
    *,
    backend: str = "auto",
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str = "OPENAI_API_KEY",
    env: Mapping[str, str] | None = None,
    **config: object,
) -> Settings:
    """Pick the backend and endpoint from flags and the conventional environment variables.

    ``auto`` means: an endpoint if one is configured (a base URL or an API key, or a replay
    folder), else the offline extractor.
    """
    env = os.environ if env is None else env
    resolved_url = base_url or env.get("OPENAI_BASE_URL") or None
    api_key = env.get(api_key_env) or None
    resolved_model = model or env.get("SUMMARISE_MODEL") or EndpointConfig.model
    endpoint = EndpointConfig(
        model=resolved_model,
        base_url=resolved_url,
        api_key=api_key,
        **config,  # type: ignore[arg-type]
    )
    if backend == "auto":
        configured = resolved_url or api_key or endpoint.replay_dir is not None
        backend = "openai" if configured else "offline"
    return Settings(backend=backend, config=endpoint)


def make_backend(settings: Settings) -> Backend:
    if settings.backend == "offline":
        return OfflineBackend()
    return OpenAIBackend(settings.config, name="local" if settings.backend == "local" else "openai")


def source_of(raw: RawArticle) -> Source:
    return Source(path=raw.path, url=raw.url, sha256=raw.sha256)


def error_record(
    raw: RawArticle,
    backend: Backend,
    stage: str,
    code: str,
    message: str,
    attempts: int = 0,
    last_response_id: str | None = None,
    usage: Usage | None = None,
) -> ErrorRecord:
    return ErrorRecord(
        id=raw.id,
        source=source_of(raw),
        stage=stage,  # type: ignore[arg-type]
        error=code,
        message=message,
        attempts=attempts,
        backend=backend.name,
        model=backend.model,
        prompt_version=backend.prompt_version,
        last_response_id=last_response_id,
        usage=usage or Usage(),
    )


async def process(
    raw: RawArticle, backend: Backend, *, strict: bool = False
) -> Record | ErrorRecord:
    """Run one article through every stage. ``FatalError`` propagates; nothing else does."""
    if raw.error:
        return error_record(raw, backend, "ingest", raw.error, raw.message or raw.error)
    try:
        article = clean(raw)
    except CleanError as exc:
        return error_record(raw, backend, "clean", exc.code, exc.message)
    if not article.text.strip():
        return error_record(
            raw, backend, "clean", "no_article", "no article text left after cleaning"
        )
    try:
        extraction, text = await backend.summarise(article)
    except ModelError as exc:
        return error_record(
            raw,
            backend,
            exc.stage,
            exc.code,
            exc.message,
            exc.attempts,
            exc.last_response_id,
            exc.usage,
        )
    summary, ground_warnings = ground_summary(
        extraction.summary, text, published=article.published, strict=strict
    )
    return Record(
        id=raw.id,
        source=source_of(raw),
        article=Article(
            title=article.title,
            published=article.published,
            text=text,
            chars_raw=len(raw.data),
            chars_clean=len(text),
        ),
        summary=summary,
        provenance=Provenance(
            backend=backend.name,
            model=backend.model,
            endpoint=backend.endpoint,
            prompt_version=backend.prompt_version,
            attempts=extraction.attempts,
            usage=extraction.usage,
            latency_s=extraction.latency_s,
            finish_reason=extraction.finish_reason,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        ),
        warnings=[*extraction.warnings, *ground_warnings],
    )


class ArticleFailed(Exception):
    """Raised by ``summarise_article`` when the article ends as an error record."""

    def __init__(self, record: ErrorRecord) -> None:
        super().__init__(f"{record.stage}/{record.error}: {record.message}")
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
