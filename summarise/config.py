"""Settings: which backend, which endpoint, how hard to try; every default written once.

Precedence is flag > environment > default. Defaults that differ by backend (a local model
answers one request at a time, slowly) sit in ``BACKEND_DEFAULTS``; the rest are the field
defaults of ``EndpointConfig``. The command line passes only what the user gave.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypedDict
from urllib.parse import urlparse

from typing_extensions import Unpack

BackendName = Literal["offline", "openai", "local"]
BackendChoice = Literal["auto", "offline", "openai", "local"]

# Structured-output shapes, best first (see backends/openai/client.py).
ResponseMode = Literal["json_schema", "json_object_schema", "json_object", "text"]
MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object_schema", "json_object", "text")

DEFAULT_MODEL = "gpt-4o-mini"

OPENAI_HOST = "api.openai.com"

DEFAULT_FEED = "outputs/summaries.jsonl"
DEFAULT_KEY_ENV = "OPENAI_API_KEY"
ENV_BASE_URL = "OPENAI_BASE_URL"
ENV_MODEL = "SUMMARISE_MODEL"


@dataclass(frozen=True)
class BackendDefaults:
    """Defaults that depend on the backend."""

    concurrency: int
    """Requests in flight."""
    timeout_s: float
    """Seconds per model call."""
    probe_timeout_s: float
    """Seconds per start-up probe request (a local model answers its first one slowly)."""
    workers: int
    """Processes that run articles (``summarise.workers``)."""


def usable_cores() -> int:
    """Cores this process may run on (a container's or ``taskset``'s share, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


BACKEND_DEFAULTS: Mapping[BackendName, BackendDefaults] = {
    # Against a fast endpoint the client's CPU is the ceiling: one worker per core.
    "openai": BackendDefaults(
        concurrency=8, timeout_s=120.0, probe_timeout_s=15.0, workers=usable_cores()
    ),
    # Offline runs are small and start at once; --workers N for a big corpus.
    "offline": BackendDefaults(concurrency=8, timeout_s=120.0, probe_timeout_s=15.0, workers=1),
    # llama.cpp's server runs one request at a time on a CPU; a long article takes minutes.
    "local": BackendDefaults(concurrency=1, timeout_s=600.0, probe_timeout_s=120.0, workers=1),
}
ENV_WORKERS = "SUMMARISE_WORKERS"


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how to call the model. The key is never printed (``repr=False``)."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = BACKEND_DEFAULTS["openai"].timeout_s
    """Wall-clock deadline of one model call: connect, the wait and the whole body."""
    probe_timeout_s: float = BACKEND_DEFAULTS["openai"].probe_timeout_s
    """Wall-clock deadline of each start-up probe request (``/models``, the
    ``response_format`` checks); an endpoint that answers none in time stops the run."""
    max_attempts: int = 3
    """Model calls per article, re-asks included."""
    max_retries: int = 6
    """Retries of one call after transient failures other than rate limits."""
    rate_limit_patience_s: float = 600.0
    """How long one call keeps retrying 429s (as told by ``Retry-After``) before it fails:
    a rate limit slows a run down but should not fail its articles."""
    max_backoff_s: float = 60.0
    max_tokens: int = 4096
    temperature: float = 0.0
    response_format: ResponseMode | Literal["auto"] = "auto"
    system_in_user: bool = False
    record_dir: Path | None = None
    replay_dir: Path | None = None
    context_length: int | None = None
    """The model's context window when known up front (a local server we started)."""
    rpm: int | None = None
    """Client-side limit: requests per minute (every call, re-asks and retries included)."""
    tpm: int | None = None
    """Client-side limit: prompt tokens per minute (estimated from the request size)."""

    @property
    def endpoint_host(self) -> str:
        """Host (and port) only: never a path, query or credentials."""
        if not self.base_url:
            return OPENAI_HOST
        parsed = urlparse(self.base_url)
        host = parsed.hostname or self.base_url
        return f"{host}:{parsed.port}" if parsed.port else host


ENDPOINT_DEFAULTS = EndpointConfig()


class EndpointOptions(TypedDict, total=False):
    """``EndpointConfig`` fields a caller may set; anything left out keeps its default
    (``EndpointConfig`` documents each)."""

    max_attempts: int
    max_retries: int
    rate_limit_patience_s: float
    max_tokens: int
    response_format: ResponseMode | Literal["auto"]
    system_in_user: bool
    record_dir: Path | None
    replay_dir: Path | None
    rpm: int | None
    tpm: int | None
    context_length: int | None


@dataclass(frozen=True)
class Settings:
    """A resolved run configuration."""

    backend: BackendName
    endpoint: EndpointConfig
    concurrency: int
    workers: int = 1
    """Processes that run articles (``RunOptions.workers``)."""
    gguf: Path | None = None
    """The GGUF model file, for the local backend."""


def resolve_settings(
    *,
    backend: BackendChoice = "auto",
    model: str | None = None,
    base_url: str | None = None,
    api_key_env: str = DEFAULT_KEY_ENV,
    gguf: Path | None = None,
    concurrency: int | None = None,
    workers: int | None = None,
    timeout_s: float | None = None,
    probe_timeout_s: float | None = None,
    env: Mapping[str, str] | None = None,
    **options: Unpack[EndpointOptions],
) -> Settings:
    """Pick the backend and endpoint from flags and the conventional environment variables.

    ``auto`` means: an endpoint if one is configured (a base URL, an API key or a replay
    folder), else the offline extractor.
    """
    env = os.environ if env is None else env
    resolved_url = base_url or env.get(ENV_BASE_URL) or None
    api_key = env.get(api_key_env) or None
    chosen: BackendName
    if backend == "auto":
        configured = resolved_url or api_key or options.get("replay_dir") is not None
        chosen = "openai" if configured else "offline"
    else:
        chosen = backend
    defaults = BACKEND_DEFAULTS[chosen]
    endpoint = dataclasses.replace(
        ENDPOINT_DEFAULTS,
        model=model or env.get(ENV_MODEL) or ENDPOINT_DEFAULTS.model,
        base_url=resolved_url,
        api_key=api_key,
        timeout_s=timeout_s or defaults.timeout_s,
        probe_timeout_s=probe_timeout_s or defaults.probe_timeout_s,
        **options,
    )
    return Settings(
        backend=chosen,
        endpoint=endpoint,
        concurrency=concurrency or defaults.concurrency,
        workers=workers or defaults.workers,
        gguf=gguf,
    )
