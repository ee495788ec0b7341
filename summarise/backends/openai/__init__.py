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
from summarise.clean import CleanArticle
from summarise.config import EndpointConfig

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
                truncation_warning(len(article.text), len(text), "to fit the model's context")
            )
        return extraction, text

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
