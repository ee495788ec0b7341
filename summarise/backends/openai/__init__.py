"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp, LM Studio, ...).

``OpenAIBackend`` builds the prompt for one article, fitted to the model's context, and
asks ``ModelClient`` (``client``) for a validated answer; ``answers`` parses and validates
it, ``retries`` sorts failures, and ``replay`` records or replays raw exchanges.
"""

from __future__ import annotations

import dataclasses
import functools

from summarise import prompt
from summarise.backends.base import (
    DEFAULT_MAX_ARTICLE_CHARS,
    BackendRecipe,
    Extraction,
    article_char_budget,
    fit_text,
    truncation_warning,
)
from summarise.backends.openai.client import Capabilities, ModelClient
from summarise.backends.split import (
    merge_extractions,
    merge_summaries,
    part_spans,
    split_warning,
    sum_usage,
)
from summarise.clean import CleanArticle
from summarise.config import EndpointConfig
from summarise.errors import ArticleError

__all__ = ["ModelClient", "OpenAIBackend"]


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
        self.capabilities: Capabilities | None = None

    async def start(self) -> None:
        """Probe the endpoint once, and size articles to its context window if known."""
        caps = self.capabilities = await self.client.capabilities()
        context = self.config.context_length or caps.context_length
        if context:
            instructions = len(prompt.load_prompts().system)
            self.max_article_chars = article_char_budget(
                context, self.config.max_tokens, instructions
            )

    def describe(self) -> str | None:
        return self.capabilities.describe() if self.capabilities else None

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        """The article (capped at ``DEFAULT_MAX_ARTICLE_CHARS``) in one request, or, when it
        is longer than the model's context, in parts whose answers are merged."""
        text, cut = fit_text(article.text, DEFAULT_MAX_ARTICLE_CHARS)
        spans = part_spans(text, self.max_article_chars)
        extractions: list[Extraction] = []
        for start, end in spans:
            try:
                extractions.append(await self._extract(article, text[start:end]))
            except ArticleError as exc:
                # The error record counts what the parts already answered cost too.
                exc.attempts += sum(e.attempts for e in extractions)
                exc.usage = sum_usage([*(e.usage for e in extractions), exc.usage])
                raise
        if len(extractions) == 1:
            extraction = extractions[0]
        else:
            summary = merge_summaries([e.summary for e in extractions])
            extraction = merge_extractions(extractions, summary)
            extraction.warnings.append(split_warning(len(spans), len(text), self.max_article_chars))
        if cut:
            extraction.warnings.append(
                truncation_warning(len(article.text), len(text), "the most a record holds")
            )
        return extraction, text

    async def _extract(self, article: CleanArticle, text: str) -> Extraction:
        messages = prompt.build_messages(
            text,
            title=article.title,
            published=article.published,
            system_in_user=self.config.system_in_user,
        )
        return await self.client.extract(messages)

    async def aclose(self) -> None:
        await self.client.aclose()

    def worker_recipe(self, workers: int) -> BackendRecipe | None:
        """The same endpoint with what the probe found (workers do not probe again), and
        client-side rate limits split evenly between the ``workers``."""
        if self.capabilities is None:
            return None
        share = dataclasses.replace(
            self.config,
            rpm=_share(self.config.rpm, workers),
            tpm=_share(self.config.tpm, workers),
        )
        return functools.partial(_rebuilt, share, self.capabilities, self.name)


def _share(limit: int | None, workers: int) -> int | None:
    return None if limit is None else max(1, limit // workers)


def _rebuilt(config: EndpointConfig, capabilities: Capabilities, name: str) -> OpenAIBackend:
    return OpenAIBackend(config, ModelClient(config, capabilities=capabilities), name=name)
