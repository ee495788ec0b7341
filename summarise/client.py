"""Client: one article's messages -> a validated ``ModelSummary`` from any OpenAI-compatible
endpoint (OpenAI, vLLM, Ollama, llama.cpp server, LM Studio, Azure, OpenRouter, ...).

What servers accept differs, so the structured-output shape is chosen per endpoint by a
probe at start-up, in this order: ``json_schema`` (strict) -> ``json_object`` with the
schema attached (llama-cpp-python's server) -> plain ``json_object`` -> plain text with the
JSON extracted. The schema is always in the system prompt too, and the answer is always
validated: a server that accepts a schema and ignores it is caught either way.

Failures are sorted three ways:

* transient (429, 5xx, timeouts, dropped connections): retried with ``tenacity``,
  exponential backoff with jitter, honouring ``Retry-After``;
* per-article (invalid JSON, schema violations, truncation, refusals, exhausted
  retries): re-asked where that can help, else a ``ModelError`` -> an error record;
* run-stopping (401, 403, unknown model, bad request): a ``FatalError``, raised once.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import httpx2
import openai
from aiolimiter import AsyncLimiter
from openai.types.chat import ChatCompletion
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.wait import wait_random_exponential

from summarise import prompt
from summarise.replay import RecordingTransport, ReplayMiss, ReplayTransport
from summarise.schema import ModelSummary, Usage, model_facing_schema

ResponseMode = Literal["json_schema", "json_object_schema", "json_object", "text"]
MODES: tuple[ResponseMode, ...] = ("json_schema", "json_object_schema", "json_object", "text")

DEFAULT_MODEL = "gpt-4o-mini"
# A conservative characters-per-token estimate for English news (rate limits, context fit).
CHARS_PER_TOKEN = 3.5
OPENAI_HOST = "api.openai.com"

# Keywords left out of the schema sent as response_format: OpenAI's strict mode rejects
# them, and llama.cpp turns a long maxLength into a grammar so deep that its parser
# overflows the stack (SIGSEGV at maxLength ~1200). The full schema still travels in the
# system prompt and pydantic enforces it on every answer.
_STRICT_UNSUPPORTED = frozenset({"maxLength", "minLength"})

# A probe schema whose only valid answer a model cannot guess unless it is enforced.
_PROBE_VALUE = "summarise-probe-ok"
_PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": [_PROBE_VALUE]}},
    "required": ["probe"],
    "additionalProperties": False,
}
_PROBE_MESSAGES: list[prompt.Message] = [
    {"role": "user", "content": "Reply with a JSON object that has one string field."}
]


class FatalError(Exception):
    """The run cannot go on (bad key, unknown model, rejected request): stop once."""


class ModelError(Exception):
    """This article could not be summarised by the model; becomes an error record."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        stage: Literal["model", "validate"] = "model",
        attempts: int = 0,
        last_response_id: str | None = None,
        usage: Usage | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.stage = stage
        self.attempts = attempts
        self.last_response_id = last_response_id
        self.usage = usage or Usage()


@dataclass(frozen=True)
class EndpointConfig:
    """Where and how to call the model. The key is never printed (``repr=False``)."""

    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = 120.0
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
class Extraction:
    """A validated model answer and what it cost."""

    summary: ModelSummary
    attempts: int
    usage: Usage
    finish_reason: str | None
    latency_s: float
    response_id: str | None
    warnings: list[str] = field(default_factory=list)


class InvalidAnswer(ValueError):
    """The model's content is not a valid ``ModelSummary``; the message is for the re-ask."""

    def __init__(self, code: str, problem: str) -> None:
        super().__init__(problem)
        self.code = code


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema minus keywords that servers reject or choke on (see above)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in _STRICT_UNSUPPORTED}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    result: dict[str, Any] = strip(schema)
    return result


def response_format_for(mode: ResponseMode, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "summary", "strict": True, "schema": strict_schema(schema)},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": strict_schema(schema)}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def extract_json(content: str) -> Any:
    """The first JSON object in ``content`` (tolerates Markdown fences and chatter)."""
    start = content.find("{")
    if start < 0:
        raise InvalidAnswer("invalid_json", "the answer contains no JSON object")
    try:
        value, _ = json.JSONDecoder().raw_decode(content, start)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer("invalid_json", f"the answer is not valid JSON ({exc})") from exc
    return value


def format_validation_error(exc: ValidationError, limit: int = 10) -> str:
    problems = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    suffix = f"; and {more} more" if more > 0 else ""
    return "the JSON does not match the schema: " + "; ".join(problems) + suffix


def parse_summary(content: str) -> ModelSummary:
    """Parse and validate a model answer; raises ``InvalidAnswer`` with a re-ask message."""
    value = extract_json(content)
    try:
        return ModelSummary.model_validate(value)
    except ValidationError as exc:
        raise InvalidAnswer("schema_invalid", format_validation_error(exc)) from exc


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
    return isinstance(exc, openai.APIResponseValidationError | json.JSONDecodeError)


def _is_rate_limit(exc: BaseException | None) -> bool:
    return isinstance(exc, openai.APIStatusError) and exc.status_code == 429


def _transient_code(exc: BaseException) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection_error"
    if isinstance(exc, openai.APIStatusError):
        return "rate_limited" if exc.status_code == 429 else "server_error"
    return "bad_response"


def _is_context_overflow(exc: openai.APIStatusError) -> bool:
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


def _spaced_limiter(per_minute: int) -> AsyncLimiter:
    """Requests evenly spaced, never in bursts: servers that count per second or refill a
    bucket continuously reject a minute's quota sent at once, and the rejected requests
    then come back together."""
    return AsyncLimiter(1, 60 / per_minute)


class ModelClient:
    """Async client for one endpoint; probes it once and reuses what it found."""

    def __init__(
        self, config: EndpointConfig, *, transport: httpx2.AsyncBaseTransport | None = None
    ) -> None:
        self.config = config
        if config.replay_dir is not None:
            transport = ReplayTransport(config.replay_dir)
        elif config.record_dir is not None:
            transport = RecordingTransport(config.record_dir, transport)
        http_client = httpx2.AsyncClient(transport=transport) if transport else None
        self._openai = openai.AsyncOpenAI(
            api_key=config.api_key or "no-key",
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,  # tenacity owns retries, so that they are counted and bounded
            http_client=http_client,
        )
        self._schema = model_facing_schema()
        # Built once per shape: the schema is the same for every article of the run.
        self._formats = {mode: response_format_for(mode, self._schema) for mode in MODES}
        self._capabilities: Capabilities | None = None
        self._probe_lock = asyncio.Lock()
        self._rpm = _spaced_limiter(config.rpm) if config.rpm else None
        self._tpm = AsyncLimiter(config.tpm, 60) if config.tpm else None

    async def _throttle(self, messages: Sequence[prompt.Message]) -> None:
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            estimate = sum(len(m["content"]) for m in messages) / CHARS_PER_TOKEN
            await self._tpm.acquire(min(float(self._tpm.max_rate), estimate))

    async def aclose(self) -> None:
        await self._openai.close()

    async def capabilities(self) -> Capabilities:
        """The probe's findings, probing on first use (once, even under concurrency).

        An endpoint that cannot be probed (unreachable, not recorded) stops the run: every
        article would fail the same way.
        """
        async with self._probe_lock:
            if self._capabilities is None:
                try:
                    self._capabilities = await self._probe()
                except ModelError as exc:
                    raise FatalError(
                        f"cannot use the endpoint at {self.config.endpoint_host}: {exc.message}"
                    ) from exc
            return self._capabilities

    async def _probe(self) -> Capabilities:
        caps = Capabilities(context_length=await self._context_length())
        forced = self.config.response_format
        if forced != "auto":
            caps.mode = forced
            return caps
        for mode in MODES[:-1]:
            try:
                completion = await self._create(
                    _PROBE_MESSAGES, mode, schema=_PROBE_SCHEMA, max_tokens=32, probing=True
                )
            except _Unsupported:
                caps.accepted[mode] = False
                continue
            caps.accepted[mode] = True
            caps.enforced[mode] = _probe_enforced(completion)
            if caps.enforced[mode]:
                caps.mode = mode
                return caps
        # Nothing enforces the schema: prefer a shape that at least forces JSON syntax.
        json_modes: tuple[ResponseMode, ...] = ("json_object_schema", "json_object")
        accepted = [m for m in json_modes if caps.accepted.get(m)]
        caps.mode = accepted[0] if accepted else "text"
        return caps

    async def _context_length(self) -> int | None:
        """Context length as servers expose it in /models (vLLM, llama-cpp-python, LM Studio)."""
        try:
            page = await self._openai.models.list()
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise FatalError(fatal_message(exc, self.config)) from exc
            return None
        except (openai.APIError, ReplayMiss):
            return None
        for entry in page.data or []:
            if entry.id != self.config.model and len(page.data) > 1:
                continue
            extra = entry.model_extra or {}
            meta = extra.get("meta") if isinstance(extra.get("meta"), dict) else {}
            for value in (
                extra.get("max_model_len"),
                extra.get("context_length"),
                extra.get("context_window"),
                (meta or {}).get("n_ctx"),
                (meta or {}).get("n_ctx_train"),
            ):
                if isinstance(value, int) and value > 0:
                    return value
        return None

    async def _create(
        self,
        messages: Sequence[prompt.Message],
        mode: ResponseMode,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        probing: bool = False,
    ) -> ChatCompletion:
        """One chat completion, retried on transient failures."""
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "messages": list(messages),
            "temperature": self.config.temperature,
        }
        # OpenAI's newer models take only max_completion_tokens; other servers know max_tokens.
        budget_key = (
            "max_completion_tokens" if self.config.endpoint_host == OPENAI_HOST else "max_tokens"
        )
        kwargs[budget_key] = max_tokens or self.config.max_tokens
        response_format = (
            response_format_for(mode, schema) if schema is not None else self._formats[mode]
        )
        if response_format is not None:
            kwargs["response_format"] = response_format

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = retry_after_s(exc) if exc else None
            if hinted is not None:
                # Jitter, so that clients told the same wait do not all come back at once.
                return min(hinted * random.uniform(1.0, 1.2) + 0.01, self.config.max_backoff_s)
            backoff = wait_random_exponential(multiplier=0.5, max=self.config.max_backoff_s)
            return float(backoff(state))

        failures = 0
        first_429: list[float] = []

        def stop(state: RetryCallState) -> bool:
            nonlocal failures
            if _is_rate_limit(state.outcome.exception() if state.outcome else None):
                first_429[:] = first_429 or [time.monotonic()]
                return time.monotonic() - first_429[0] >= self.config.rate_limit_patience_s
            failures += 1
            return failures > self.config.max_retries

        retrying = AsyncRetrying(
            retry=retry_if_exception(lambda e: is_transient(e) and not _probe_rejects(e, probing)),
            stop=stop,
            wait=wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    await self._throttle(messages)
                    # post() rather than chat.completions.create(): the same request body
                    # without the SDK's per-call parameter transform (~1 ms of CPU a call).
                    completion: ChatCompletion = await self._openai.post(
                        "/chat/completions",
                        body=kwargs,
                        cast_to=ChatCompletion,
                        options={"security": {"bearer_auth": True}},
                    )
                    return completion
        except openai.APIStatusError as exc:
            if probing and _probe_rejects(exc, probing):
                raise _Unsupported(mode) from exc
            if exc.status_code in (401, 403, 404):
                raise FatalError(fatal_message(exc, self.config)) from exc
            if exc.status_code in (400, 422) and _is_context_overflow(exc):
                raise ModelError("context_length_exceeded", str(exc.message)) from exc
            if exc.status_code in (400, 422):
                raise FatalError(fatal_message(exc, self.config)) from exc
            raise ModelError(_transient_code(exc), _describe(exc, self.config)) from exc
        except ReplayMiss as exc:
            raise ModelError("replay_miss", str(exc)) from exc
        except openai.APIConnectionError as exc:
            raise ModelError(_transient_code(exc), _describe(exc, self.config)) from exc
        except (openai.APIResponseValidationError, json.JSONDecodeError) as exc:
            raise ModelError("bad_response", f"unparseable response body: {exc}") from exc
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def extract(self, messages: Sequence[prompt.Message]) -> Extraction:
        """Ask for a ``ModelSummary``, re-asking on invalid answers, within ``max_attempts``."""
        mode = (await self.capabilities()).mode
        started = time.monotonic()
        usage = Usage()
        conversation = list(messages)
        last_id: str | None = None
        problem: tuple[str, str] = ("empty_response", "no answer")
        warnings: list[str] = []
        for attempt in range(1, self.config.max_attempts + 1):
            try:
                completion = await self._create(conversation, mode)
            except ModelError as exc:
                exc.attempts, exc.last_response_id, exc.usage = attempt, last_id, usage
                raise
            last_id = completion.id or last_id
            _add_usage(usage, completion)
            if not completion.choices:
                problem = ("empty_response", "the endpoint returned no choices")
                warnings.append(f"reasked: attempt {attempt}: {problem[1]}")
                continue
            choice = completion.choices[0]
            message = choice.message
            if message.refusal or choice.finish_reason == "content_filter":
                reason = message.refusal or "content filter"
                raise ModelError(
                    "refused",
                    f"the model refused: {reason}",
                    attempts=attempt,
                    last_response_id=last_id,
                    usage=usage,
                )
            if choice.finish_reason == "length":
                problem = ("truncated", "the answer was cut off at the token limit")
                warnings.append(f"truncated_retry: attempt {attempt} hit the token limit")
                conversation = [*messages, prompt.truncated_message()]
                continue
            content = message.content or ""
            try:
                summary = parse_summary(content)
            except InvalidAnswer as exc:
                problem = (exc.code, str(exc))
                warnings.append(f"reasked: attempt {attempt}: {exc}"[:300])
                conversation = [
                    *messages,
                    {"role": "assistant", "content": content},
                    prompt.reask_message(str(exc)),
                ]
                continue
            return Extraction(
                summary=summary,
                attempts=attempt,
                usage=usage,
                finish_reason=choice.finish_reason,
                latency_s=round(time.monotonic() - started, 3),
                response_id=last_id,
                warnings=warnings,
            )
        code, message_text = problem
        stage: Literal["model", "validate"] = (
            "validate" if code in ("invalid_json", "schema_invalid") else "model"
        )
        raise ModelError(
            code,
            f"{message_text} (after {self.config.max_attempts} attempts)",
            stage=stage,
            attempts=self.config.max_attempts,
            last_response_id=last_id,
            usage=usage,
        )


class _Unsupported(Exception):
    """The probe found that the endpoint rejects a response_format shape."""


def _probe_rejects(exc: BaseException, probing: bool) -> bool:
    """During the probe, 400/422/500/501 mean 'this response_format is not supported'."""
    return (
        probing
        and isinstance(exc, openai.APIStatusError)
        and exc.status_code in (400, 422, 500, 501)
    )


def _probe_enforced(completion: ChatCompletion) -> bool:
    if not completion.choices:
        return False
    try:
        return bool(
            extract_json(completion.choices[0].message.content or "") == {"probe": _PROBE_VALUE}
        )
    except InvalidAnswer:
        return False


def _add_usage(usage: Usage, completion: ChatCompletion) -> None:
    if completion.usage is None:
        return
    usage.prompt_tokens += completion.usage.prompt_tokens or 0
    usage.completion_tokens += completion.usage.completion_tokens or 0
    details = completion.usage.prompt_tokens_details
    if details is not None and details.cached_tokens:
        usage.cached_tokens += details.cached_tokens


def _describe(exc: BaseException, config: EndpointConfig) -> str:
    kind = _transient_code(exc).replace("_", " ")
    if _is_rate_limit(exc):
        waited = f"retried for {config.rate_limit_patience_s:g} s (--rate-limit-patience)"
        return f"{kind} at {config.endpoint_host}, {waited}: {exc}"
    return f"{kind} at {config.endpoint_host} after {config.max_retries} retries: {exc}"
