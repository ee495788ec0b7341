"""Which failures of a call are transient, how long to wait, and what to tell the user.

Transient: 429 (honouring ``Retry-After``), 408, 5xx, timeouts (httpx's, and the call's
wall-clock deadline), dropped connections, and unparseable or over-size bodies. 401/403/404
and rejected requests stop the run (``fatal_message``).
"""

from __future__ import annotations

import errno
import json

import openai
from aiolimiter import AsyncLimiter

from summarise.backends.openai.answers import BadCompletion
from summarise.backends.openai.guards import DeadlineExceeded, ResponseTooLarge
from summarise.config import EndpointConfig


def retry_after_s(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``retry-after-ms`` or ``retry-after``)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(header)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            continue
    return None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes timeouts
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500 or exc.status_code == 408
    return isinstance(
        exc,
        openai.APIResponseValidationError
        | json.JSONDecodeError
        | BadCompletion
        | DeadlineExceeded
        | ResponseTooLarge,
    )


def is_rate_limit(exc: BaseException | None) -> bool:
    return isinstance(exc, openai.APIStatusError) and exc.status_code == 429


def os_errno(exc: BaseException) -> int | None:
    """The operating system's error number behind a failure (ECONNREFUSED ...), if any."""
    seen: BaseException | None = exc
    for _ in range(10):  # a cause chain is short; never follow a cycle
        if seen is None:
            return None
        if isinstance(seen, OSError) and seen.errno:
            return seen.errno
        seen = seen.__cause__ or seen.__context__
    return None


def transient_code(exc: BaseException) -> str:
    # aiohttp's mapping turns a refused connection into a connect "timeout": the OS error
    # behind it says what really happened.
    silent = isinstance(exc, openai.APITimeoutError) and os_errno(exc) in (None, errno.ETIMEDOUT)
    if silent or isinstance(exc, DeadlineExceeded):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.APIStatusError):
        return "rate_limited" if exc.status_code == 429 else "server_error"
    return "bad_response"


def is_context_overflow(exc: openai.APIStatusError) -> bool:
    text = str(exc).lower()
    return "context_length" in text or "context length" in text or "maximum context" in text


def fatal_message(exc: openai.APIStatusError, config: EndpointConfig) -> str:
    host = config.endpoint_host
    if exc.status_code == 401:
        return (
            f"authentication failed at {host} (HTTP 401): check the API key "
            "(--api-key-env names the environment variable that holds it)"
        )
    if exc.status_code == 403:
        return f"permission denied at {host} (HTTP 403): the key may not use model {config.model!r}"
    if exc.status_code == 404:
        return (
            f"model {config.model!r} or the chat completions route was not found at {host} "
            "(HTTP 404): check --model and --base-url"
        )
    return f"the endpoint at {host} rejected the request (HTTP {exc.status_code}): {exc.message}"


def spaced_limiter(per_minute: int) -> AsyncLimiter:
    """Requests evenly spaced, never in bursts: servers that count per second or refill a
    bucket continuously reject a minute's quota sent at once, and the rejected requests
    then come back together."""
    return AsyncLimiter(1, 60 / per_minute)


def describe_failure(exc: BaseException, config: EndpointConfig) -> str:
    kind = transient_code(exc).replace("_", " ")
    if is_rate_limit(exc):
        waited = f"retried for {config.rate_limit_patience_s:g} s (--rate-limit-patience)"
        return f"{kind} at {config.endpoint_host}, {waited}: {exc}"
    return f"{kind} at {config.endpoint_host} after {config.max_retries} retries: {exc}"
