"""The start-up probe's parts: what it found, what it asks, how long it may try.

``ModelClient.capabilities()`` asks ``/models`` for the context length, then which
``response_format`` shapes the endpoint accepts and enforces. The probe is short by design:
every request has a deadline of ``EndpointConfig.probe_timeout_s``, and the whole probe
tolerates ``PROBE_MAX_RETRIES`` transient failures with short backoff, so an endpoint that
is unreachable or never answers stops the run in seconds (or two deadlines) with a message
that says which, rather than after minutes of silence.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import openai
from openai.types.chat import ChatCompletion

from summarise import prompt
from summarise.backends.openai.answers import InvalidAnswer, extract_json
from summarise.backends.openai.retries import os_errno, transient_code
from summarise.config import EndpointConfig, ResponseMode

PROBE_MAX_RETRIES = 2
"""Transient failures the whole probe tolerates (all its requests together)."""
PROBE_MAX_SILENT = 2
"""Requests without an answer within the probe's deadline after which the probe gives up."""
PROBE_MAX_BACKOFF_S = 1.0
"""Longest wait between probe retries when the server gives no ``Retry-After``."""

# A probe schema whose only valid answer a model cannot guess unless it is enforced.
PROBE_VALUE = "summarise-probe-ok"
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": [PROBE_VALUE]}},
    "required": ["probe"],
    "additionalProperties": False,
}
PROBE_MESSAGES: list[prompt.Message] = [
    {"role": "user", "content": "Reply with a JSON object that has one string field."}
]
MODELS_REQUEST = "GET /models"
CHAT_REQUEST = "POST /chat/completions"


@dataclass
class Capabilities:
    """What the probe found out about an endpoint."""

    accepted: dict[str, bool] = field(default_factory=dict)
    enforced: dict[str, bool] = field(default_factory=dict)
    mode: ResponseMode = "text"
    context_length: int | None = None

    def describe(self) -> str:
        shapes = ", ".join(
            f"{m}: {'accepted' if self.accepted.get(m) else 'rejected'}"
            + (" (schema enforced)" if self.enforced.get(m) else "")
            for m in self.accepted
        )
        ctx = self.context_length if self.context_length else "unknown"
        found = f"response_format {shapes}" if shapes else "response_format not probed (forced)"
        return f"{found}; using {self.mode}; context length {ctx}"


@dataclass
class ProbeBudget:
    """Transient failures the probe has met so far, across all its requests."""

    failures: int = 0
    silent: int = 0

    def spend(self, exc: BaseException | None) -> bool:
        """Count one transient failure; True when the probe should give up."""
        self.failures += 1
        if _is_silence(exc):
            self.silent += 1
        return self.failures > PROBE_MAX_RETRIES or self.silent >= PROBE_MAX_SILENT


class Unsupported(Exception):
    """The probe found that the endpoint rejects a response_format shape."""


def probe_rejects(exc: BaseException) -> bool:
    """During the probe, 400/422/500/501 mean 'this response_format is not supported'."""
    return isinstance(exc, openai.APIStatusError) and exc.status_code in (400, 422, 500, 501)


def probe_enforced(completion: ChatCompletion) -> bool:
    """Whether the probe's answer is the one only an enforced schema allows."""
    if not completion.choices:
        return False
    try:
        return bool(
            extract_json(completion.choices[0].message.content or "") == {"probe": PROBE_VALUE}
        )
    except InvalidAnswer:
        return False


def context_length_from(body: bytes, model: str) -> int | None:
    """The context length in a ``/models`` body, as vLLM (``max_model_len``),
    llama-cpp-python (``meta.n_ctx``), LM Studio and others expose it; ``None`` when the
    body says nothing usable (or is not JSON at all)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list):
        return None
    for entry in data:
        if not isinstance(entry, dict) or (entry.get("id") != model and len(data) > 1):
            continue
        found = entry.get("meta")
        meta: dict[str, Any] = found if isinstance(found, dict) else {}
        for value in (
            entry.get("max_model_len"),
            entry.get("context_length"),
            entry.get("context_window"),
            meta.get("n_ctx"),
            meta.get("n_ctx_train"),
        ):
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
    return None


def probe_failure_message(
    exc: BaseException, config: EndpointConfig, budget: ProbeBudget, request: str
) -> str:
    """Why the probe gave up on the endpoint, and what to check."""
    host = config.endpoint_host
    where = config.base_url or f"https://{host}/v1"
    tries = f"{budget.failures} {'try' if budget.failures == 1 else 'tries'}"
    if _is_silence(exc):
        return (
            f"no answer from {host} within {probe_deadline_s(config):g} s while probing the "
            f"endpoint ({request}, {tries}): check that a server is answering at {where} "
            "(--probe-timeout sets the wait)"
        )
    if isinstance(exc, openai.APIConnectionError):
        return (
            f"cannot connect to {host} while probing the endpoint ({request}, {tries}): "
            f"{connection_cause(exc)}; check --base-url ({where}) and that the server is running"
        )
    kind = transient_code(exc).replace("_", " ")
    return f"{kind} at {host} while probing the endpoint ({request}, {tries}): {exc}"


def probe_deadline_s(config: EndpointConfig) -> float:
    """Each probe request's deadline: the probe's own, never longer than ``--timeout``."""
    return min(config.probe_timeout_s, config.timeout_s)


def connection_cause(exc: BaseException) -> str:
    """The operating system's reason for a failed connection ("connection refused"), else
    the HTTP library's."""
    number = os_errno(exc)
    if number is not None:
        return os.strerror(number).lower()  # asyncio's own strerror names no reason
    cause = exc.__cause__
    return str(cause or exc).lower() or type(exc).__name__


def _is_silence(exc: BaseException | None) -> bool:
    return exc is not None and transient_code(exc) == "timeout"
