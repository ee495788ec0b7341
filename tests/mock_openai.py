"""A mock OpenAI-compatible server for tests and benchmarks (standard library + pydantic).

An asyncio HTTP/1.1 server with keep-alive that answers ``POST /v1/chat/completions`` (and
``/chat/completions``) and ``GET /v1/models`` the way the ``openai`` client expects, with
configurable latency, a concurrency cap, a token-bucket rate limit (429 + ``Retry-After``),
``response_format`` quirks of real servers, scripted or random faults, and replay of the
exchanges ``summarise run --record`` writes. Everything it says is synthetic.

Three ways to run it::

    with MockServer(MockConfig(latency_s=0.01)) as server:   # background thread
        client = AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)

    async with MockServer(MockConfig()) as server:            # inside a running loop
        ...

    python -m tests.mock_openai --port 0 --latency 0.2 --rate 100   # a process; prints URL

Faults are scripted per article: ``MockConfig(faults={"art-7": ["429", "schema_invalid"]})``
answers the first request whose user messages contain ``art-7`` with a 429, the next one
(the retry) with a schema-invalid answer, and later ones normally. Fault names: ``FAULTS``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import http
import inspect
import json
import math
import random
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from pydantic import ValidationError

from summarise.replay import exchange_key
from summarise.schema import ModelSummary

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
)
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

CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
MODELS_PATHS = frozenset({"/v1/models", "/models"})

# A retry may come this much before its booked slot (timer jitter), and a booked slot is
# kept this long after its time for a slow client.
_RESERVATION_EARLY_S = 0.005
_RESERVATION_GRACE_S = 2.0

REFUSAL_TEXT = "I'm sorry, but I can't help with that request. (synthetic mock refusal)"

# OpenAI-shaped error bodies per status: (type, code, message).
_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Bad request (mock)."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided. You can find your API key at "
        "https://platform.openai.com/account/api-keys. (mock)",
    ),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden (mock)."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist (mock)."),
    408: ("timeout", None, "Request timed out (mock)."),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for requests (mock). Please try again later.",
    ),
    500: ("server_error", None, "The server had an error while processing your request (mock)."),
    502: ("server_error", None, "Bad gateway (mock)."),
    503: ("server_error", "overloaded", "The engine is currently overloaded (mock)."),
}

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

    def __post_init__(self) -> None:
        named = [f for script in self.faults.values() for f in script]
        for name in [*named, *(self.fault_choices if self.fault_rate else ())]:
            if not _is_fault(name):
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
        if self.max_concurrency is not None and self.max_concurrency < 1:
            raise ValueError("max_concurrency must be >= 1")
        if self.rate_limit_rps is not None and self.rate_limit_rps <= 0:
            raise ValueError("rate_limit_rps must be > 0")


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
    statuses: Counter[int] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)


def _is_fault(name: str) -> bool:
    return name in FAULTS or (len(name) == 3 and name.isdigit() and 100 <= int(name) <= 599)


# --- Content: synthetic answers ---------------------------------------------------------

_QUOTE = re.compile(r"“([^”\n]{8,300})”|\"([^\"\n]{8,300})\"")


def message_text(content: Any) -> str:
    """The text of a message's ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def user_texts(body: Body) -> list[str]:
    """The texts of the request's user messages, in order."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    return [
        message_text(m.get("content"))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "user"
    ]


def synthetic_summary(text: str) -> dict[str, Any]:
    """A valid, clearly synthetic ``ModelSummary`` derived from ``text`` (deterministic).

    The first double-quoted passage of the article (inside ``<article>`` when present)
    becomes the quote, so it grounds against the source.
    """
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    start, end = text.find("<article>"), text.rfind("</article>")
    found = _QUOTE.search(text, start if 0 <= start < end else 0, end if start < end else len(text))
    quotes = [{"speaker": None, "text": found.group(1) or found.group(2)}] if found else []
    return {
        "headline": f"Synthetic mock summary {digest}: not a real model answer.",
        "event": {"kind": "other", "date": None, "location": None},
        "participants": [
            {
                "name": f"Mock Participant {digest[:6]}",
                "role": None,
                "affiliation": None,
                "country": None,
                "present": True,
            }
        ],
        "issues": [
            {"topic": "mock topic", "summary": f"Synthetic issue for {digest}.", "positions": []}
        ],
        "outcomes": [],
        "quotes": quotes,
    }


def schema_invalid_summary(text: str) -> dict[str, Any]:
    """Valid JSON that violates ``ModelSummary``: bad enum, wrong type, bad pattern, extra key."""
    summary = synthetic_summary(text)
    summary["event"]["kind"] = "banquet"
    summary["participants"][0]["present"] = "sometimes"
    summary["participants"][0]["country"] = "France"
    summary["mood"] = "cordial"
    return summary


def instance_of(schema: Any, root: Any = None) -> Any:
    """A minimal instance of a JSON Schema (enum/const first, every property filled)."""
    root = schema if root is None else root
    if not isinstance(schema, dict):
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return instance_of(target, root)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            typed = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return instance_of((typed or options)[0], root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {name: instance_of(sub, root) for name, sub in properties.items()}
    if kind == "array":
        return [instance_of(schema.get("items"), root) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "mock".ljust(int(schema.get("minLength", 0)), "x")
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    return None


def requested_schema(body: Body) -> Any:
    """The JSON Schema the request's ``response_format`` carries, if any."""
    fmt = body.get("response_format")
    if not isinstance(fmt, dict):
        return None
    if fmt.get("type") == "json_schema":
        inner = fmt.get("json_schema")
        return inner.get("schema") if isinstance(inner, dict) else None
    return fmt.get("schema")  # llama-cpp-python's {"type": "json_object", "schema": ...}


_SUMMARY_FIELDS = frozenset(ModelSummary.model_fields)


def default_content(body: Body, *, follow_schema: bool = True) -> str:
    """The default answer: an instance of a foreign schema in ``response_format`` (so a probe
    sees it enforced), else a synthetic summary of the first user message (the article, so
    a re-ask gets the same answer as the first attempt)."""
    schema = requested_schema(body)
    if follow_schema and isinstance(schema, dict):
        properties = schema.get("properties")
        if not (isinstance(properties, dict) and set(properties) == _SUMMARY_FIELDS):
            return json.dumps(instance_of(schema))
    texts = user_texts(body)
    return json.dumps(synthetic_summary(texts[0] if texts else ""), ensure_ascii=False)


def chat_completion(
    content: str | None,
    *,
    model: str = "mock-model",
    finish_reason: str = "stop",
    refusal: str | None = None,
    response_id: str = "chatcmpl-mock",
    prompt_tokens: int = 0,
    cached_tokens: int = 0,
    empty: bool = False,
) -> dict[str, Any]:
    """A ``chat.completion`` object around ``content`` (``empty``: no choices)."""
    completion_tokens = len(content or refusal or "") // 4 + 1
    choices = [
        {
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "logprobs": None,
            "finish_reason": finish_reason,
        }
    ]
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [] if empty else choices,
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": cached_tokens},
        },
    }


def error_body(status: int, message: str | None = None, code: str | None = None) -> Body:
    """OpenAI's error body shape for ``status``."""
    kind, default_code, default_message = _ERRORS.get(
        status,
        ("server_error" if status >= 500 else "invalid_request_error", None, "Mock error."),
    )
    return {
        "error": {
            "message": message or default_message,
            "type": kind,
            "param": None,
            "code": code or default_code,
        }
    }


def _token_counts(body: Body) -> tuple[int, int]:
    """(prompt_tokens, cached_tokens): ~4 characters a token; the system message counts as
    cached in 128-token steps once it reaches 1,024 tokens, as OpenAI's prompt cache does."""
    messages = body.get("messages") if isinstance(body.get("messages"), list) else []
    total = system = 0
    for m in messages or []:
        if isinstance(m, dict):
            size = len(message_text(m.get("content"))) // 4 + 4
            total += size
            system += size if m.get("role") == "system" else 0
    cached = system // 128 * 128 if system >= 1024 else 0
    return total, cached


# --- Replay -------------------------------------------------------------------------------


def _route(path: str) -> str:
    """``/api/v1/chat/completions`` -> ``/chat/completions``: recordings made under another
    base path still match."""
    for tail in ("/chat/completions", "/models"):
        if path.endswith(tail):
            return tail
    return path


@dataclass(frozen=True)
class _Recorded:
    status: int
    headers: dict[str, str]
    body: bytes


class _Replay:
    """Recorded exchanges from ``DIR/<key>.json``, loaded once."""

    _DROPPED = frozenset({"content-length", "transfer-encoding", "connection"})

    def __init__(self, directory: Path, *, any_summary: bool) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay folder not found: {directory}")
        self.exact: dict[str, _Recorded] = {}
        self.by_route: dict[str, _Recorded] = {}
        self.pool: list[_Recorded] = []
        self._next = 0
        for file in sorted(directory.glob("*.json")):
            exchange = json.loads(file.read_text(encoding="utf-8"))
            request, response = exchange["request"], exchange["response"]
            recorded = _Recorded(
                status=int(response["status"]),
                headers={
                    k: str(v)
                    for k, v in (response.get("headers") or {}).items()
                    if k.lower() not in self._DROPPED
                },
                body=str(response["body"]).encode("utf-8"),
            )
            self.exact[file.stem] = recorded
            route_key = exchange_key(request["method"], _route(request["path"]), request["body"])
            self.by_route[route_key] = recorded
            if _route(request["path"]) == "/chat/completions" and _is_summary(recorded):
                self.pool.append(recorded)
        if any_summary and not self.pool:
            raise ValueError(
                f"replay_any: no recorded chat completion with a summary in {directory}"
            )

    def lookup(self, method: str, path: str, body: Any, *, any_summary: bool) -> _Recorded | None:
        found = self.exact.get(exchange_key(method, path, body)) or self.by_route.get(
            exchange_key(method, _route(path), body)
        )
        if found is None and any_summary and _route(path) == "/chat/completions":
            found = self.pool[self._next % len(self.pool)]
            self._next += 1
        return found


def _is_summary(recorded: _Recorded) -> bool:
    if recorded.status != 200:
        return False
    try:
        content = json.loads(recorded.body)["choices"][0]["message"]["content"]
        ModelSummary.model_validate_json(content)
    except (ValueError, KeyError, IndexError, TypeError, ValidationError):
        return False
    return True


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class _Answer:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    action: Literal["send", "reset", "hang"] = "send"


def _json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), headers or {})


def _seconds_headers(seconds: float) -> dict[str, str]:
    ms = max(0, math.ceil(seconds * 1000))
    return {"retry-after": f"{ms / 1000:g}", "retry-after-ms": str(ms)}


class _BadRequest(Exception):
    pass


class MockServer:
    """The mock server: ``with MockServer(cfg) as s`` (thread) or ``async with`` (this loop)."""

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        self._lock = threading.Lock()
        self._requests: list[Body] = []
        self._stats = MockStats()
        self._scripts: dict[str, deque[str]] = {}
        self._seen: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._tat = 0.0  # GCRA's theoretical arrival time of the next request
        self._reserved: dict[str, deque[float]] = {}
        self._reservation_order: deque[tuple[float, str]] = deque()
        self._replay: _Replay | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self.port = 0

    # -- public state ----------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://host:port/v1``: what ``AsyncOpenAI(base_url=...)`` takes."""
        return f"http://{self.config.host}:{self.port}/v1"

    @property
    def requests(self) -> list[Body]:
        """Bodies of the POST requests received so far, in arrival order (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def stats(self) -> MockStats:
        """A snapshot of the counters."""
        with self._lock:
            s = self._stats
            return replace(s, statuses=Counter(s.statuses), faults=Counter(s.faults))

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on the running loop (``port`` 0 picks a free port)."""
        cfg = self.config
        self._scripts = {marker: deque(script) for marker, script in cfg.faults.items()}
        if cfg.max_concurrency is not None:
            self._semaphore = asyncio.Semaphore(cfg.max_concurrency)
        if cfg.replay_dir is not None:
            self._replay = _Replay(Path(cfg.replay_dir), any_summary=cfg.replay_any)
        self._server = await asyncio.start_server(
            self._serve_connection, cfg.host, cfg.port, backlog=1024
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def aclose(self) -> None:
        """Stop listening and drop open connections (hung requests included)."""
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> MockServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def __enter__(self) -> MockServer:
        failure: list[BaseException] = []
        ready = threading.Event()

        async def main() -> None:
            self._stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            await self._stop.wait()
            await self.aclose()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            try:
                self._loop.run_until_complete(main())
            finally:
                self._loop.close()

        self._thread = threading.Thread(target=run, name="mock-openai", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            raise failure[0]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._loop is not None and self._stop is not None and self._thread is not None:
            with contextlib.suppress(RuntimeError):  # loop already gone
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join()

    # -- connection handling ---------------------------------------------------------------

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        with self._lock:
            self._stats.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                try:
                    method, path, headers, keep_alive = _parse_head(head)
                    raw = await _read_body(reader, headers)
                except _BadRequest as exc:
                    await _send(writer, _json_answer(400, error_body(400, str(exc))), False)
                    return
                try:
                    answer = await self._answer(method, path, headers, raw)
                except Exception as exc:  # a responder's bug: answer 500 and say so
                    traceback.print_exc()
                    message = f"mock server error: {exc!r}"
                    answer = self._count(_json_answer(500, error_body(500, message, "mock_error")))
                if answer.action == "hang":
                    return
                if answer.action == "reset":
                    await _send_partial_then_reset(writer, answer)
                    return
                await _send(writer, answer, keep_alive)
                if not keep_alive:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # shutting down
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()

    async def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> _Answer:
        path = path.split("?", 1)[0]
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            return self._count(_json_answer(400, error_body(400, "the body is not valid JSON")))
        with self._lock:
            self._stats.received += 1
            if method == "POST" and body is not None and self.config.keep_requests:
                self._requests.append(body)
        cfg = self.config
        key = cfg.require_api_key
        if key is not None and headers.get("authorization") != f"Bearer {key}":
            return self._count(_json_answer(401, error_body(401)))
        if path in MODELS_PATHS and method == "GET":
            return self._count(self._replayed(method, path, body) or self._models())
        if path not in CHAT_PATHS or method != "POST":
            message = f"Unknown request URL: {method} {path}. (mock)"
            return self._count(_json_answer(404, error_body(404, message, "unknown_url")))
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return self._count(_json_answer(400, error_body(400, "'messages' is required")))
        if body.get("stream"):
            message = "stream=true is not supported by the mock server"
            return self._count(_json_answer(400, error_body(400, message)))
        with self._lock:
            self._stats.chat_requests += 1
        if cfg.unknown_model:
            message = (
                f"The model `{body.get('model')}` does not exist or you do not have access to it."
            )
            return self._count(_json_answer(404, error_body(404, message)))
        wait = self._admit(body)
        if wait is not None:
            with self._lock:
                self._stats.rate_limited += 1
            return self._count(_json_answer(429, error_body(429), _seconds_headers(wait)))
        if self._semaphore is not None and cfg.overload == "503" and self._semaphore.locked():
            with self._lock:
                self._stats.overloaded += 1
            return self._count(_json_answer(503, error_body(503)))
        async with self._semaphore or contextlib.nullcontext():
            with self._lock:
                self._stats.in_flight += 1
                self._stats.max_in_flight = max(self._stats.max_in_flight, self._stats.in_flight)
            try:
                return await self._complete(path, body)
            finally:
                with self._lock:
                    self._stats.in_flight -= 1

    async def _complete(self, path: str, body: Body) -> _Answer:
        """A chat completion past the gates: faults, replay, responder, default."""
        cfg = self.config
        fault = self._next_fault(body)
        fmt = body.get("response_format")
        if (
            fault is None
            and cfg.reject_json_schema
            and isinstance(fmt, dict)
            and fmt.get("type") == "json_schema"
        ):
            # What llama-cpp-python's server answers: its generic exception wrapper.
            message = "Unsupported response_format type: 'json_schema' (mock llama-cpp-python)"
            return self._count(
                _json_answer(
                    500,
                    {
                        "error": {
                            "message": message,
                            "type": "internal_server_error",
                            "param": None,
                            "code": None,
                        }
                    },
                )
            )
        reply: MockReply | None = None
        if fault is None and self._replay is None and cfg.responder is not None:
            produced = cfg.responder(body)
            reply = await produced if inspect.isawaitable(produced) else produced
            if reply is not None and reply.fault is not None:
                fault = reply.fault
        if fault is not None:
            with self._lock:
                self._stats.faults[fault] += 1
        latency = reply.latency_s if reply and reply.latency_s is not None else cfg.latency_s
        if fault == "timeout":  # hold the slot, then hang up without a word
            await asyncio.sleep(cfg.hang_s)
            return self._count(_Answer(0, b"", action="hang"))
        if latency > 0:
            await asyncio.sleep(latency)
        if fault is not None:
            return self._count(self._fault(fault, body))
        if self._replay is not None:
            recorded = self._replayed("POST", path, body)
            if recorded is None:
                message = "replay_miss: no recorded exchange for this request (mock replay)"
                return self._count(_json_answer(404, error_body(404, message, "replay_miss")))
            return self._count(recorded)
        return self._count(self._reply(body, reply or MockReply()))

    def _reply(self, body: Body, reply: MockReply) -> _Answer:
        headers = dict(reply.headers)
        if reply.body is not None:
            raw = reply.body
            data = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else None
            if data is None:
                return _json_answer(reply.status, raw, headers)
            return _Answer(reply.status, data, headers)
        if reply.status != 200:
            return _json_answer(reply.status, error_body(reply.status), headers)
        content = reply.content
        if content is None and reply.refusal is None:
            content = default_content(body, follow_schema=not self.config.ignore_schema)
        elif content is not None and not isinstance(content, str):
            content = json.dumps(content, ensure_ascii=False)
        return _json_answer(
            200,
            self._completion(
                body, content, finish_reason=reply.finish_reason, refusal=reply.refusal
            ),
            headers,
        )

    def _completion(self, body: Body, content: str | None, **kw: Any) -> dict[str, Any]:
        prompt_tokens, cached = _token_counts(body)
        with self._lock:
            number = self._stats.chat_requests
        return chat_completion(
            content,
            model=str(body.get("model") or self.config.models[0]),
            response_id=f"chatcmpl-mock-{number:08d}",
            prompt_tokens=prompt_tokens,
            cached_tokens=cached,
            **kw,
        )

    def _fault(self, fault: str, body: Body) -> _Answer:
        texts = user_texts(body)
        article = texts[0] if texts else ""
        if fault == "429":
            return _json_answer(429, error_body(429), _seconds_headers(self.config.retry_after_s))
        if fault == "malformed_json":
            whole = json.dumps(self._completion(body, default_content(body))).encode()
            return _Answer(200, whole[: len(whole) // 2] + b'",,]', {})
        if fault == "reset":
            whole = json.dumps(self._completion(body, default_content(body))).encode()
            return _Answer(200, whole, {}, action="reset")
        if fault == "schema_invalid":
            content = json.dumps(schema_invalid_summary(article), ensure_ascii=False)
            return _json_answer(200, self._completion(body, content))
        if fault == "invalid_json_content":
            content = "Here is the summary you asked for: {headline: 'mock', event: kind=other"
            return _json_answer(200, self._completion(body, content))
        if fault == "length":
            content = default_content(body)
            return _json_answer(
                200, self._completion(body, content[: len(content) // 2], finish_reason="length")
            )
        if fault == "refusal":
            return _json_answer(200, self._completion(body, None, refusal=REFUSAL_TEXT))
        if fault == "empty_choices":
            return _json_answer(200, self._completion(body, default_content(body), empty=True))
        status = int(fault)
        return _json_answer(status, error_body(status))

    def _next_fault(self, body: Body) -> str | None:
        """The scripted fault for this request, else a random one (``fault_rate``)."""
        cfg = self.config
        if self._scripts:
            joined = "\n".join(user_texts(body))
            with self._lock:
                for marker, script in self._scripts.items():
                    if script and (marker == MATCH_ANY or marker in joined):
                        return script.popleft()
        if cfg.fault_rate > 0 and (
            cfg.fault_marker is None or any(cfg.fault_marker in t for t in user_texts(body))
        ):
            # Seeded by the request itself and how often it was seen, so the same requests
            # fail the same way whatever order concurrency delivers them in.
            key = exchange_key("POST", "/chat/completions", body)
            with self._lock:
                self._seen[key] += 1
                seen = self._seen[key]
            rng = random.Random(f"{cfg.seed}:{key}:{seen}")
            if rng.random() < cfg.fault_rate:
                return rng.choice(cfg.fault_choices)
        return None

    def _admit(self, body: Body) -> float | None:
        """Rate limit (GCRA, a token bucket of ``rate_burst``): ``None`` lets the request
        through, else the seconds to send as ``Retry-After``."""
        cfg = self.config
        if cfg.rate_limit_rps is None:
            return None
        now = time.monotonic()
        interval = 1.0 / cfg.rate_limit_rps
        tolerance = (cfg.rate_burst - 1.0) * interval
        reserve = cfg.retry_after_hint == "reserve"
        key = ""
        if reserve:
            self._expire_reservations(now)
            key = exchange_key("POST", "/chat/completions", body) if self._reserved else ""
            slots = self._reserved.get(key)
            if slots:
                if now >= slots[0] - _RESERVATION_EARLY_S:
                    slots.popleft()
                    if not slots:
                        del self._reserved[key]
                    return None
                return slots[0] - now
        if self._tat - tolerance <= now:
            self._tat = max(self._tat, now) + interval
            return None
        slot = self._tat - tolerance
        if not reserve:
            return slot - now
        # Book the slot for this request: its retry (the same body) at that time gets in
        # ahead of newcomers, so clients that honour Retry-After reach the rate.
        self._tat += interval
        key = key or exchange_key("POST", "/chat/completions", body)
        self._reserved.setdefault(key, deque()).append(slot)
        self._reservation_order.append((slot, key))
        return slot - now

    def _expire_reservations(self, now: float) -> None:
        """Forget slots nobody came back for (their capacity is lost, as on a real server)."""
        order = self._reservation_order
        while order and order[0][0] < now - _RESERVATION_GRACE_S:
            slot, key = order.popleft()
            slots = self._reserved.get(key)
            if slots and slots[0] == slot:
                slots.popleft()
                if not slots:
                    del self._reserved[key]

    def _models(self) -> _Answer:
        data = []
        for name in self.config.models:
            entry: dict[str, Any] = {
                "id": name,
                "object": "model",
                "created": 0,
                "owned_by": "mock",
            }
            if self.config.context_length is not None:
                entry["max_model_len"] = self.config.context_length
            data.append(entry)
        return _json_answer(200, {"object": "list", "data": data})

    def _replayed(self, method: str, path: str, body: Any) -> _Answer | None:
        if self._replay is None:
            return None
        found = self._replay.lookup(method, path, body, any_summary=self.config.replay_any)
        if found is None:
            return None
        return _Answer(found.status, found.body, dict(found.headers))

    def _count(self, answer: _Answer) -> _Answer:
        if answer.action != "hang":  # a hang sends no status line
            with self._lock:
                self._stats.statuses[answer.status] += 1
        return answer


def _parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool]:
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise _BadRequest(f"malformed request line: {lines[0][:80]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return method.upper(), target, headers, keep_alive


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                raise _BadRequest("malformed chunk size") from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise _BadRequest("malformed Content-Length") from exc
    return await reader.readexactly(length) if length > 0 else b""


def _head(answer: _Answer, keep_alive: bool) -> bytes:
    try:
        phrase = http.HTTPStatus(answer.status).phrase
    except ValueError:
        phrase = "Unknown"
    extra = {k.lower(): v for k, v in answer.headers.items()}
    lines = [
        f"HTTP/1.1 {answer.status} {phrase}",
        f"content-type: {extra.pop('content-type', 'application/json')}",
        f"content-length: {len(answer.body)}",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _send(writer: asyncio.StreamWriter, answer: _Answer, keep_alive: bool) -> None:
    writer.write(_head(answer, keep_alive) + answer.body)
    await writer.drain()


async def _send_partial_then_reset(writer: asyncio.StreamWriter, answer: _Answer) -> None:
    """Headers and half the body, then a TCP reset: a connection dropped mid-body."""
    writer.write(_head(answer, True) + answer.body[: len(answer.body) // 2])
    await writer.drain()
    await asyncio.sleep(0.02)  # let the partial body leave before the RST discards it
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# --- Command line ---------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m tests.mock_openai",
        description="Mock OpenAI-compatible server; prints its base URL on the first line.",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--latency", type=float, default=0.0, help="seconds per chat completion")
    p.add_argument("--max-concurrency", type=int, default=None)
    p.add_argument("--overload", choices=("queue", "503"), default="queue")
    p.add_argument("--rate", type=float, default=None, help="requests/s before 429")
    p.add_argument("--burst", type=float, default=1.0, help="token bucket size")
    p.add_argument("--retry-after-hint", choices=("reserve", "next_token"), default="reserve")
    p.add_argument("--retry-after", type=float, default=0.1, help="for scripted 429 faults")
    p.add_argument("--hang", type=float, default=30.0, help="seconds the timeout fault hangs")
    p.add_argument("--reject-json-schema", action="store_true")
    p.add_argument("--ignore-schema", action="store_true")
    p.add_argument("--api-key", default=None, help="require this bearer key (else 401)")
    p.add_argument("--unknown-model", action="store_true")
    p.add_argument("--model", action="append", default=None, help="listed in /models")
    p.add_argument("--context-length", type=int, default=None)
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="MARKER=F1,F2",
        help=f"fault script for requests containing MARKER ('{MATCH_ANY}': any request)",
    )
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--fault-choices", default=",".join(SOAK_FAULTS))
    p.add_argument("--fault-marker", default=None, help="random faults only where this occurs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--replay-dir", type=Path, default=None)
    p.add_argument("--replay-any", action="store_true")
    p.add_argument("--stats", action="store_true", help="print counters as JSON to stderr at exit")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> MockConfig:
    """The ``MockConfig`` the command-line flags describe."""
    faults: dict[str, list[str]] = {}
    for item in args.fault:
        marker, sep, names = item.partition("=")
        if not sep:
            raise SystemExit(f"--fault expects MARKER=F1,F2, got {item!r}")
        faults.setdefault(marker, []).extend(n for n in names.split(",") if n)
    return MockConfig(
        host=args.host,
        port=args.port,
        latency_s=args.latency,
        max_concurrency=args.max_concurrency,
        overload=args.overload,
        rate_limit_rps=args.rate,
        rate_burst=args.burst,
        retry_after_hint=args.retry_after_hint,
        retry_after_s=args.retry_after,
        hang_s=args.hang,
        reject_json_schema=args.reject_json_schema,
        ignore_schema=args.ignore_schema,
        require_api_key=args.api_key,
        unknown_model=args.unknown_model,
        models=tuple(args.model) if args.model else ("mock-model",),
        context_length=args.context_length,
        faults=faults,
        fault_rate=args.fault_rate,
        fault_choices=tuple(n for n in args.fault_choices.split(",") if n),
        fault_marker=args.fault_marker,
        seed=args.seed,
        replay_dir=args.replay_dir,
        replay_any=args.replay_any,
        keep_requests=False,
    )


async def _serve_forever(config: MockConfig, print_stats: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with MockServer(config) as server:
        print(server.base_url, flush=True)
        await stop.wait()
    if print_stats:
        stats = server.stats
        snapshot = {
            **stats.__dict__,
            "statuses": dict(stats.statuses),
            "faults": dict(stats.faults),
        }
        print(json.dumps(snapshot), file=sys.stderr, flush=True)


@contextlib.contextmanager
def serve_in_process(*flags: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m tests.mock_openai --port 0 FLAGS`` as a child process, so that its CPU is
    not the client's: yields (base URL, process) and stops it (SIGTERM) afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mock_openai", "--port", "0", *flags],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        base_url = process.stdout.readline().strip()
        if not base_url.startswith("http://"):
            raise RuntimeError(f"the mock server did not start: {process.stderr.read()}")
        yield base_url, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the mock until SIGTERM/SIGINT; the first stdout line is the base URL."""
    args = _parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        print(f"mock_openai: {exc}", file=sys.stderr)
        return 2
    asyncio.run(_serve_forever(config, args.stats))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
