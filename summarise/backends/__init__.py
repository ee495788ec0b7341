"""Backends: where a ``ModelSummary`` comes from.

``offline`` (the deterministic extractor), ``openai`` (any OpenAI-compatible endpoint) and
``local`` (a GGUF file served by llama.cpp, through the same client). ``make_backend``
imports only the one asked for, so the offline path loads no HTTP or model client library.
"""

from __future__ import annotations

from summarise.backends.base import Backend
from summarise.config import Settings


def make_backend(settings: Settings) -> Backend:
    """The backend the settings ask for (the local one starts its server in ``start``)."""
    if settings.backend == "offline":
        from summarise.backends.offline import OfflineBackend

        return OfflineBackend()
    if settings.backend == "local":
        from summarise.backends.local import LocalBackend

        return LocalBackend(settings.gguf, settings.endpoint)
    from summarise.backends.openai import OpenAIBackend

    return OpenAIBackend(settings.endpoint)
