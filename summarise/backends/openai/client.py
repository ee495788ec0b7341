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

Every call has a wall-clock deadline and every body a size cap (``guards``); the probe has
its own short deadline and retry budget (``probe``), so a dead endpoint stops the run fast.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import httpx2
import openai
import orjson
from aiolimiter import AsyncLimiter
from openai.types.chat import ChatCompletion
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception
from tenacity.wait import wait_random_exponential

from summarise import prompt
from summarise.backends.base import CHARS_PER_TOKEN, Extraction
from summarise.backends.openai.answers import BadCompletion, parse_completion, response_format_for
from summarise.backends.openai.attempts import Attempts, ModelError
from summarise.backends.openai.guards import (
    DeadlineExceeded,
    ResponseTooLarge,
    cap_response_body,
    deadline,
)
from summarise.backends.openai.probe import (
    CHAT_REQUEST,
    MODELS_REQUEST,
    PROBE_MAX_BACKOFF_S,
    PROBE_MESSAGES,
    PROBE_SCHEMA,
    Capabilities,
    ProbeBudget,
    Unsupported,
    context_length_from,
    probe_deadline_s,
    probe_enforced,
    probe_failure_message,
    probe_rejects,
)
from summarise.backends.openai.replay import RecordingTransport, ReplayMiss, ReplayTransport
from summarise.backends.openai.retries import (
    describe_failure,
    fatal_message,
    is_context_overflow,
    is_rate_limit,
    is_transient,
    retry_after_s,
    spaced_limiter,
    transient_code,
)
from summarise.budget import current_budget
from summarise.config import MODES, OPENAI_HOST, EndpointConfig, ResponseMode
from summarise.errors import EndpointError
from summarise.schema import model_facing_schema

T = TypeVar("T")

__all__ = ["Capabilities", "ModelClient", "ModelError"]


class ModelClient:
    """Async client for one endpoint; probes it once and reuses what it found."""

    def __init__(
        self,
        config: EndpointConfig,
        *,
        transport: httpx2.AsyncBaseTransport | None = None,
        liveness: Callable[[], Awaitable[None]] | None = None,
        capabilities: Capabilities | None = None,
    ) -> None:
        """``liveness``, for a server this process runs, is awaited after a failed connection:
        it raises a ``FatalError`` when the server is gone, so a dead port is not retried.
        ``capabilities``: what an earlier probe of this endpoint found (no probe then)."""
        self.config = config
        self._liveness = liveness
        if config.replay_dir is not None:
            transport = ReplayTransport(config.replay_dir)
        elif config.record_dir is not None:
            transport = RecordingTransport(config.record_dir, transport)
        # Every response body, on every route, is read through the size cap.
        hooks = {"response": [cap_response_body]}
        # aiohttp under the SDK (its documented alternative transport): about half the
        # client CPU per request of the default httpx stack, which is the ceiling against
        # a fast fleet.
        http_client = (
            httpx2.AsyncClient(transport=transport, event_hooks=hooks)
            if transport
            else openai.DefaultAioHttpClient(event_hooks=hooks)
        )
        self._openai = openai.AsyncOpenAI(
            api_key=config.api_key or "no-key",
            base_url=config.base_url,
            timeout=config.timeout_s,
            max_retries=0,  # tenacity owns retries, so that they are counted and bounded
            http_client=http_client,
            default_headers=JSON_HEADERS,  # bodies go as bytes (orjson), so say what they are
        )
        self._schema = model_facing_schema()
        # Built once per shape: the schema is the same for every article of the run.
        self._formats = {mode: response_format_for(mode, self._schema) for mode in MODES}
        self._capabilities = capabilities
        self._probe_lock = asyncio.Lock()
        self._rpm = spaced_limiter(config.rpm) if config.rpm else None
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

        An endpoint that cannot be probed (unreachable, silent, not recorded) stops the run:
        every article would fail the same way.
        """
        async with self._probe_lock:
            if self._capabilities is None:
                try:
                    self._capabilities = await self._probe()
                except ModelError as exc:
                    raise EndpointError(
                        f"cannot use the endpoint at {self.config.endpoint_host}: {exc.message}"
                    ) from exc
            return self._capabilities

    async def _probe(self) -> Capabilities:
        budget = ProbeBudget()
        caps = Capabilities(context_length=await self._context_length(budget))
        forced = self.config.response_format
        if forced != "auto":
            caps.mode = forced
            return caps
        for mode in MODES[:-1]:
            try:
                completion = await self._create(
                    PROBE_MESSAGES, mode, schema=PROBE_SCHEMA, max_tokens=32, probe=budget
                )
            except Unsupported:
                caps.accepted[mode] = False
                continue
            caps.accepted[mode] = True
            caps.enforced[mode] = probe_enforced(completion)
            if caps.enforced[mode]:
                caps.mode = mode
                return caps
        # Nothing enforces the schema: prefer a shape that at least forces JSON syntax.
        json_modes: tuple[ResponseMode, ...] = ("json_object_schema", "json_object")
        accepted = [m for m in json_modes if caps.accepted.get(m)]
        caps.mode = accepted[0] if accepted else "text"
        return caps

    async def _context_length(self, budget: ProbeBudget) -> int | None:
        """Context length as servers expose it in /models (vLLM, llama-cpp-python, LM Studio).

        Any answer that says nothing usable (an error status, a body that is not JSON, cut
        short or over the size cap) means "unknown" and the probe goes on; no answer at all
        (unreachable, silent past the deadline) counts against the probe's retries.
        """

        async def send() -> httpx2.Response:
            return await self._guarded(
                lambda: self._openai.get("/models", cast_to=httpx2.Response), probe=True
            )

        def unanswered(exc: BaseException) -> bool:
            return isinstance(exc, openai.APIConnectionError | DeadlineExceeded)

        try:
            response = await self._retrying(send, retry_on=unanswered, probe=budget)
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise EndpointError(fatal_message(exc, self.config)) from exc
            return None
        except (openai.APIConnectionError, DeadlineExceeded) as exc:
            message = probe_failure_message(exc, self.config, budget, MODELS_REQUEST)
            raise EndpointError(message) from exc
        except (openai.APIError, ReplayMiss, ResponseTooLarge):
            return None
        return context_length_from(response.content, self.config.model)

    async def _guarded(self, call: Callable[[], Awaitable[T]], *, probe: bool) -> T:
        """One HTTP exchange within its wall-clock deadline; after a failed connection (or
        silence) the ``liveness`` hook says whether a server we run has died."""
        seconds, setting = (
            (probe_deadline_s(self.config), "--probe-timeout")
            if probe
            else (self.config.timeout_s, "--timeout")
        )
        try:
            async with deadline(seconds, setting):
                return await call()
        except (openai.APIConnectionError, DeadlineExceeded):
            if self._liveness is not None:
                await self._liveness()
            raise

    async def _retrying(
        self,
        send: Callable[[], Awaitable[T]],
        *,
        retry_on: Callable[[BaseException], bool],
        probe: ProbeBudget | None,
    ) -> T:
        """``send()`` retried with tenacity: 429s for ``rate_limit_patience_s`` (as told by
        ``Retry-After``), other transient failures ``max_retries`` times with exponential
        backoff and jitter, or, during the probe, within its shared ``ProbeBudget``."""

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = retry_after_s(exc) if exc else None
            if hinted is not None:
                # Jitter, so that clients told the same wait do not all come back at once.
                return min(hinted * random.uniform(1.0, 1.2) + 0.01, self.config.max_backoff_s)
            ceiling = self.config.max_backoff_s
            if probe is not None:
                ceiling = min(ceiling, PROBE_MAX_BACKOFF_S)
            return float(wait_random_exponential(multiplier=0.5, max=ceiling)(state))

        failures = 0
        first_429: list[float] = []

        def stop(state: RetryCallState) -> bool:
            nonlocal failures
            exc = state.outcome.exception() if state.outcome else None
            if is_rate_limit(exc):
                first_429[:] = first_429 or [time.monotonic()]
                return time.monotonic() - first_429[0] >= self.config.rate_limit_patience_s
            if probe is not None:
                return probe.spend(exc)
            failures += 1
            return failures > self.config.max_retries

        retrying = AsyncRetrying(
            retry=retry_if_exception(retry_on), stop=stop, wait=wait, reraise=True
        )
        async for attempt in retrying:
            with attempt:
                return await send()
        raise AssertionError("unreachable: tenacity re-raises the last error")

    async def _create(
        self,
        messages: Sequence[prompt.Message],
        mode: ResponseMode,
        *,
        schema: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        probe: ProbeBudget | None = None,
    ) -> ChatCompletion:
        """One chat completion, retried on transient failures (``probe``: a probe request)."""
        response_format = (
            response_format_for(mode, schema) if schema is not None else self._formats[mode]
        )
        kwargs = chat_body(self.config, messages, response_format, max_tokens=max_tokens)
        body = encode_body(kwargs)
        budget_key = answer_budget_key(self.config)
        probing = probe is not None

        async def send() -> ChatCompletion:
            await self._throttle(messages)
            budget = current_budget.get()  # the run's --max-tokens-per-run, if any
            estimate = _worst_case_tokens(messages, kwargs[budget_key])
            if budget is not None:
                await budget.admit(estimate)
            used = 0
            try:
                # post() rather than chat.completions.create(): the same request without
                # the SDK's per-call parameter transform; the body encoded once, by orjson,
                # and the raw response parsed by orjson (CPU per call is the ceiling
                # against a fast fleet).
                response: httpx2.Response = await self._guarded(
                    lambda: self._openai.post(
                        "/chat/completions",
                        content=body,
                        cast_to=httpx2.Response,
                        options={"security": {"bearer_auth": True}},
                    ),
                    probe=probing,
                )
                completion = parse_completion(response.content)
                if completion.usage is not None:
                    used = completion.usage.prompt_tokens + completion.usage.completion_tokens
                return completion
            finally:
                if budget is not None:
                    await budget.settle(estimate, used)

        def retry_on(exc: BaseException) -> bool:
            return is_transient(exc) and not (probing and probe_rejects(exc))

        try:
            return await self._retrying(send, retry_on=retry_on, probe=probe)
        except openai.APIStatusError as exc:
            if probing and probe_rejects(exc):
                raise Unsupported(mode) from exc
            if exc.status_code in (401, 403, 404):
                raise EndpointError(fatal_message(exc, self.config)) from exc
            if exc.status_code in (400, 422) and is_context_overflow(exc):
                raise ModelError("context_length_exceeded", str(exc.message)) from exc
            if exc.status_code in (400, 422):
                raise EndpointError(fatal_message(exc, self.config)) from exc
            raise self._transient_failure(exc, probe) from exc
        except ReplayMiss as exc:
            raise ModelError("replay_miss", str(exc)) from exc
        except (openai.APIConnectionError, DeadlineExceeded, ResponseTooLarge) as exc:
            raise self._transient_failure(exc, probe) from exc
        except (openai.APIResponseValidationError, BadCompletion) as exc:
            if probing:
                raise self._transient_failure(exc, probe) from exc
            raise ModelError("bad_response", f"unparseable response body: {exc}") from exc

    def _transient_failure(self, exc: BaseException, probe: ProbeBudget | None) -> Exception:
        """What a call that ran out of retries becomes: during the probe the run stops (every
        article would fail the same way), otherwise this article gets an error record."""
        if probe is not None:
            return EndpointError(probe_failure_message(exc, self.config, probe, CHAT_REQUEST))
        return ModelError(transient_code(exc), describe_failure(exc, self.config))

    async def extract(self, messages: Sequence[prompt.Message]) -> Extraction:
        """Ask for a ``ModelSummary``, re-asking on invalid answers, within ``max_attempts``."""
        mode = (await self.capabilities()).mode
        started = time.monotonic()
        state = Attempts.start(list(messages))
        while state.made < self.config.max_attempts:
            try:
                completion = await self._create(state.conversation, mode)
            except ModelError as exc:
                exc.attempts, exc.last_response_id = state.made + 1, state.last_response_id
                exc.usage = state.usage
                raise
            summary = state.judge(completion)
            if summary is not None:
                return Extraction(
                    summary=summary,
                    attempts=state.made,
                    usage=state.usage,
                    finish_reason=state.finish_reason,
                    latency_s=round(time.monotonic() - started, 3),
                    response_id=state.last_response_id,
                    warnings=state.warnings,
                )
        raise state.exhausted(self.config.max_attempts)


JSON_HEADERS = {"Content-Type": "application/json"}


def encode_body(body: dict[str, Any]) -> bytes:
    """The request body as JSON bytes: orjson, or the standard library for text orjson
    refuses (lone surrogates, which it cannot encode as UTF-8)."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode("ascii")


def _worst_case_tokens(messages: Sequence[prompt.Message], answer_tokens: int) -> int:
    """What one call may cost at most: the prompt (estimated) and the whole answer budget."""
    return int(sum(len(m["content"]) for m in messages) / CHARS_PER_TOKEN) + answer_tokens


def answer_budget_key(config: EndpointConfig) -> str:
    """OpenAI's newer models take only ``max_completion_tokens``; other servers know
    ``max_tokens``."""
    return "max_completion_tokens" if config.endpoint_host == OPENAI_HOST else "max_tokens"


def chat_body(
    config: EndpointConfig,
    messages: Sequence[prompt.Message],
    response_format: dict[str, Any] | None,
    *,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """The body of one chat completion request: what the synchronous path sends, and what
    a Batch API request file holds for the same article."""
    body: dict[str, Any] = {
        "model": config.model,
        "messages": list(messages),
        "temperature": config.temperature,
    }
    body[answer_budget_key(config)] = max_tokens or config.max_tokens
    if response_format is not None:
        body["response_format"] = response_format
    return body
