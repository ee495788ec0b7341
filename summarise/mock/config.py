"""What the mock server can be told to do: its configuration, scripted replies, counters.

``MockConfig`` sets latency, concurrency and rate limits, ``response_format`` quirks,
faults and how batches behave; ``MockReply`` is what a ``responder`` returns for one
request; ``MockStats`` counts what happened. Fault names live in ``FAULTS`` (any
three-digit HTTP status works too).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# Fault names a script or the random injector may use. Any other three-digit HTTP status
# ("400", "404", "502", ...) also works and answers with an OpenAI-shaped error body.
FAULTS: tuple[str, ...] = (
    "429",
    "500",
    "503",
    "401",
    "timeout",
    "reset",
    "malformed_json",
    "schema_invalid",
    "invalid_json_content",
    "length",
    "refusal",
    "empty_choices",
    "hang",
    "trickle",
    "huge_body",
    "truncated_json",
)
"""Besides the chat-specific ones: ``hang`` never answers (until the client hangs up),
``trickle`` sends the answer one byte every ``trickle_interval_s``, ``huge_body`` streams
``huge_body_bytes`` of JSON that never ends (chunked, nothing held in memory),
``truncated_json`` sends the first half of the answer. These four and any HTTP status also
work on ``/models`` (``models_fault``)."""
MODELS_FAULTS: tuple[str, ...] = ("hang", "trickle", "huge_body", "truncated_json")
"""Faults ``models_fault`` may name (any three-digit HTTP status works too)."""
# Drawn by the random injector unless told otherwise: none of them stops a run or hangs.
SOAK_FAULTS: tuple[str, ...] = (
    "429",
    "500",
    "503",
    "reset",
    "malformed_json",
    "schema_invalid",
    "invalid_json_content",
    "length",
    "empty_choices",
)
MATCH_ANY = "*"
"""A fault-script marker that matches every chat completion request."""

Body = dict[str, Any]
Responder = Callable[[Body], "MockReply | Awaitable[MockReply | None] | None"]


@dataclass
class MockReply:
    """What a ``responder`` wants said to one request (``None`` from it: the default).

    ``content`` (a string, or a value sent as JSON) is the assistant message; ``None`` means
    the default synthetic answer unless ``refusal`` is set. ``body`` replaces the whole HTTP
    body (a dict/list as JSON, str/bytes raw). ``fault`` names a fault from ``FAULTS``.
    """

    content: Any = None
    finish_reason: str = "stop"
    refusal: str | None = None
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    fault: str | None = None
    latency_s: float | None = None


@dataclass
class MockConfig:
    """How the mock behaves. Defaults: instant, unlimited, every answer valid."""

    host: str = "127.0.0.1"
    port: int = 0
    latency_s: float = 0.0
    """Added to every chat completion that gets past the rate and concurrency gates."""
    latency_jitter_s: float = 0.0
    """Each latency drawn uniformly from ``latency_s`` +/- this: answers that do not all
    arrive at once, as from a real fleet (a constant latency makes answers arrive in
    convoys)."""
    max_concurrency: int | None = None
    overload: Literal["queue", "503"] = "queue"
    """Above ``max_concurrency``: wait for a slot, or answer 503 at once."""
    rate_limit_rps: float | None = None
    rate_burst: float = 1.0
    """Token bucket size; 1 means requests must be spaced 1/rate apart."""
    retry_after_hint: Literal["reserve", "next_token"] = "reserve"
    """Rate limiter's ``Retry-After``: ``reserve`` books each rejected request a later slot
    (1/rate after the previous one's) that its retry gets; ``next_token`` tells everyone
    when the next token comes, like most servers (a thundering herd without jitter)."""
    retry_after_s: float = 0.1
    """``Retry-After`` sent with a scripted/random ``429`` (the rate limiter computes its own)."""
    hang_s: float = 30.0
    """How long the ``timeout`` fault holds a request before closing the connection."""
    trickle_interval_s: float = 1.0
    """Seconds between the bytes of a ``trickle`` answer."""
    huge_body_bytes: int = 2**30
    """Size of a ``huge_body`` answer (streamed in 64 KiB chunks, never built whole)."""
    error_message: str | None = None
    """Message of the error body sent by HTTP-status faults (e.g. rich markup like ``[/]``)."""
    models_fault: str | None = None
    """A fault for every ``GET /models``: one of ``MODELS_FAULTS`` or an HTTP status."""
    reject_json_schema: bool = False
    """HTTP 500 (llama-cpp-python style) on ``response_format.type == "json_schema"``."""
    ignore_schema: bool = False
    """Accept any response_format but never follow a schema given in it."""
    require_api_key: str | None = None
    """When set, any other bearer key gets 401 ``invalid_api_key``."""
    unknown_model: bool = False
    """Every chat completion gets 404 ``model_not_found``."""
    models: tuple[str, ...] = ("mock-model",)
    context_length: int | None = None
    """Reported as ``max_model_len`` in /models, as vLLM does."""
    responder: Responder | None = None
    """Decides each answer (runs on the server's loop: keep it quick and thread-safe)."""
    faults: dict[str, list[str]] = field(default_factory=dict)
    """Marker -> faults, one consumed per request whose user messages contain the marker
    (re-asks included, as they repeat the article); ``"*"`` matches every request."""
    fault_rate: float = 0.0
    """Probability of a random fault from ``fault_choices`` where no script applies."""
    fault_choices: tuple[str, ...] = SOAK_FAULTS
    fault_marker: str | None = None
    """Random faults only for requests whose user messages contain this (e.g. ``<article>``,
    so that the client's start-up probe is spared)."""
    seed: int = 0
    """Random faults depend on (seed, request body, how often it was seen) only."""
    keep_requests: bool = True
    """Keep every request body in ``.requests`` (turn off for long benchmarks)."""
    replay_dir: Path | None = None
    replay_any: bool = False
    """Replay: a request with no exact recording gets the next recorded summary, in turn."""
    # -- the Files and Batches API (``batches``); no clocks: batches move when polled ------
    batch_polls_per_step: int = 1
    """A batch moves one step (``validating`` -> ``in_progress`` -> ... ) every this many
    ``GET /v1/batches/{id}``; 0: to its end on the first one."""
    batch_requests_per_step: int | None = None
    """Requests a batch runs per ``in_progress`` step (``None``: all in one step)."""
    batch_expire_after: int | None = None
    """A batch expires once this many of its requests have run (``0``: before any); the
    rest never run and are in neither file. ``None``: batches never expire."""
    batch_status_zero_rate: float = 0.0
    """Fraction of error-file lines (seeded by ``seed``, batch and ``custom_id``) written with
    ``"response": {"status_code": 0, ...}``, half of them with ``"error": null`` too."""
    batch_shuffle: bool = True
    """Write output and error lines out of input order (a seeded shuffle, never the input
    order when there are two or more); ``False``: in the order the requests ran."""
    batch_max_requests: int = 50_000
    """More requests than this in an input file fail the batch (``too_many_tasks``)."""

    def __post_init__(self) -> None:
        named = [f for script in self.faults.values() for f in script]
        for name in [*named, *(self.fault_choices if self.fault_rate else ())]:
            if not is_fault(name):
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        models = self.models_fault
        if models is not None and not (models in MODELS_FAULTS or is_status(models)):
            known = ", ".join(MODELS_FAULTS)
            raise ValueError(f"unknown /models fault {models!r}; known: {known} or a status")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ValueError("rate_limit_rps must be > 0")
        if self.batch_polls_per_step < 0:
            raise ValueError("batch_polls_per_step must be >= 0")
        if self.batch_requests_per_step is not None and self.batch_requests_per_step < 1:
            raise ValueError("batch_requests_per_step must be >= 1")
        if self.batch_expire_after is not None and self.batch_expire_after < 0:
            raise ValueError("batch_expire_after must be >= 0")
        if not 0.0 <= self.batch_status_zero_rate <= 1.0:
            raise ValueError("batch_status_zero_rate must be between 0 and 1")
        if self.batch_max_requests < 1:
            raise ValueError("batch_max_requests must be >= 1")


@dataclass
class MockStats:
    """Counters since the server started (a snapshot when read through ``.stats``)."""

    received: int = 0
    chat_requests: int = 0
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    rate_limited: int = 0
    overloaded: int = 0
    prompt_tokens: int = 0
    """Tokens reported in the ``usage`` of whole 200 answers: what a client was billed."""
    completion_tokens: int = 0
    batch_requests: int = 0
    """Requests run inside batches (also counted in ``chat_requests``)."""
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)


def is_fault(name: str) -> bool:
    """Whether ``name`` is a known fault or a three-digit HTTP status."""
    return name in FAULTS or is_status(name)


def is_status(name: str) -> bool:
    """Whether ``name`` is a three-digit HTTP status."""
    return len(name) == 3 and name.isdigit() and 100 <= int(name) <= 599
