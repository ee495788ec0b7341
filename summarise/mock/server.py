"""The mock OpenAI-compatible server and its lifecycle (standard library + pydantic).

An asyncio HTTP/1.1 server with keep-alive that answers ``POST /v1/chat/completions`` (and
``/chat/completions``) and ``GET /v1/models`` the way the ``openai`` client expects, with
configurable latency, a concurrency cap, a token-bucket rate limit (429 + ``Retry-After``),
``response_format`` quirks of real servers, scripted or random faults, and replay of the
exchanges ``summarise run --record`` writes; and the Files and Batches routes
(``batch_api``), each request of a batch answered like a chat completion, faults included.
Everything it says is synthetic.

Three ways to run it::

    with MockServer(MockConfig(latency_s=0.01)) as server:   # background thread
        client = AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0)

    async with MockServer(MockConfig()) as server:            # inside a running loop
        ...

    python -m summarise.mock --port 0 --latency 0.2 --rate 100   # a process; prints URL

Faults are scripted per article: ``MockConfig(faults={"art-7": ["429", "schema_invalid"]})``
answers the first request whose user messages contain ``art-7`` with a 429, the next one
(the retry) with a schema-invalid answer, and later ones normally. Fault names: ``FAULTS``;
``models_fault`` applies one (``MODELS_FAULTS`` or a status) to every ``GET /models``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import random
import subprocess
import sys
import threading
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from summarise.mock.answers import (
    chat_completion,
    default_content,
    error_body,
    token_counts,
)
from summarise.mock.batch_api import BatchApi
from summarise.mock.config import Body, MockConfig, MockReply, MockStats
from summarise.mock.faults import FaultPicker, fault_answer, route_fault_answer
from summarise.mock.limits import RateLimiter
from summarise.mock.recordings import Replay
from summarise.mock.wire import (
    Answer,
    BadRequest,
    json_answer,
    parse_head,
    read_body,
    seconds_headers,
    send,
    send_endless,
    send_partial_then_reset,
    send_trickle,
    wait_for_hangup,
)

CHAT_PATHS = frozenset({"/v1/chat/completions", "/chat/completions"})
MODELS_PATHS = frozenset({"/v1/models", "/models"})


class MockServer:
    """The mock server: ``with MockServer(cfg) as s`` (thread) or ``async with`` (this loop)."""

    def __init__(self, config: MockConfig | None = None) -> None:
        self.config = config or MockConfig()
        self._lock = threading.Lock()
        self._requests: list[Body] = []
        self._stats = MockStats()
        self._faults = FaultPicker(self.config)
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[Any]] = set()
        self._semaphore: asyncio.Semaphore | None = None
        self._limiter = RateLimiter(self.config)
        self._random = random.Random(self.config.seed)  # latency jitter, reproducible
        self._replay: Replay | None = None
        self._batch_api = BatchApi(self.config, self._batch_chat)
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
    def batches(self) -> list[dict[str, Any]]:
        """Every batch as ``GET /v1/batches/{id}`` would show it (without moving it), newest
        first."""
        return [batch.as_object() for batch in self._batch_api.batches.all()]

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
        self._faults.load_scripts()
        if cfg.max_concurrency is not None:
            self._semaphore = asyncio.Semaphore(cfg.max_concurrency)
        if cfg.replay_dir is not None:
            self._replay = Replay(Path(cfg.replay_dir), any_summary=cfg.replay_any)
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

    def __exit__(self, *exc: object) -> None:
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
                    method, path, headers, keep_alive = parse_head(head)
                    raw = await read_body(reader, headers)
                except BadRequest as exc:
                    await send(writer, json_answer(400, error_body(400, str(exc))), False)
                    return
                try:
                    answer = await self._answer(method, path, headers, raw)
                except Exception as exc:  # a responder's bug: answer 500 and say so
                    traceback.print_exc()
                    message = f"mock server error: {exc!r}"
                    answer = self._count(json_answer(500, error_body(500, message, "mock_error")))
                if answer.action == "hang":
                    return
                if answer.action == "reset":
                    await send_partial_then_reset(writer, answer)
                    return
                if answer.action == "silent":
                    await wait_for_hangup(reader)
                    return
                if answer.action in ("trickle", "endless"):
                    slow = send_trickle if answer.action == "trickle" else send_endless
                    await slow(writer, answer)
                    return
                await send(writer, answer, keep_alive)
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

    async def _answer(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        path, _, query = path.partition("?")
        if BatchApi.handles(path):  # bodies there may be multipart, not JSON
            with self._lock:
                self._stats.received += 1
            if not self._authorised(headers):
                return self._count(json_answer(401, error_body(401)))
            return self._count(await self._batch_api.handle(method, path, query, headers, raw))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            return self._count(json_answer(400, error_body(400, "the body is not valid JSON")))
        with self._lock:
            self._stats.received += 1
            if method == "POST" and body is not None and self.config.keep_requests:
                self._requests.append(body)
        cfg = self.config
        if not self._authorised(headers):
            return self._count(json_answer(401, error_body(401)))
        if path in MODELS_PATHS and method == "GET":
            models = self._replayed(method, path, body) or self._models()
            if cfg.models_fault is not None:
                with self._lock:
                    self._stats.faults[f"models:{cfg.models_fault}"] += 1
                models = route_fault_answer(cfg.models_fault, models, cfg)
            return self._count(models)
        if path not in CHAT_PATHS or method != "POST":
            message = f"Unknown request URL: {method} {path}. (mock)"
            return self._count(json_answer(404, error_body(404, message, "unknown_url")))
        refused = self._refused(body)
        if refused is not None:
            return self._count(refused)
        wait = self._limiter.admit(body)
        if wait is not None:
            with self._lock:
                self._stats.rate_limited += 1
            return self._count(json_answer(429, error_body(429), seconds_headers(wait)))
        if self._semaphore is not None and cfg.overload == "503" and self._semaphore.locked():
            with self._lock:
                self._stats.overloaded += 1
            return self._count(json_answer(503, error_body(503)))
        async with self._semaphore or contextlib.nullcontext():
            with self._lock:
                self._stats.in_flight += 1
                self._stats.max_in_flight = max(self._stats.max_in_flight, self._stats.in_flight)
            try:
                return await self._complete(path, body)
            finally:
                with self._lock:
                    self._stats.in_flight -= 1

    def _authorised(self, headers: dict[str, str]) -> bool:
        key = self.config.require_api_key
        return key is None or headers.get("authorization") == f"Bearer {key}"

    def _refused(self, body: Any) -> Answer | None:
        """The answer to a chat completion refused before the gates (bad body, unknown
        model), else ``None``; counts every well-formed one."""
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            return json_answer(400, error_body(400, "'messages' is required"))
        if body.get("stream"):
            message = "stream=true is not supported by the mock server"
            return json_answer(400, error_body(400, message))
        with self._lock:
            self._stats.chat_requests += 1
        if self.config.unknown_model:
            message = (
                f"The model `{body.get('model')}` does not exist or you do not have access to it."
            )
            return json_answer(404, error_body(404, message))
        return None

    async def _batch_chat(self, body: Body) -> Answer:
        """One request of a batch: the chat completion path without its gates (no rate
        limit, no concurrency cap) and without waiting (no latency; ``timeout`` drops at
        once), since a batch's time is its polls."""
        with self._lock:
            self._stats.batch_requests += 1
        refused = self._refused(body)
        if refused is not None:
            return self._count(refused)
        return await self._complete("/v1/chat/completions", body, batch=True)

    async def _complete(self, path: str, body: Body, *, batch: bool = False) -> Answer:
        """A chat completion past the gates: faults, replay, responder, default."""
        cfg = self.config
        fault = self._faults.next_fault(body)
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
                json_answer(
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
        if cfg.latency_jitter_s:
            latency = max(0.0, latency + self._random.uniform(-1, 1) * cfg.latency_jitter_s)
        if fault == "timeout":  # hold the slot, then hang up without a word
            await asyncio.sleep(0 if batch else cfg.hang_s)
            return self._count(Answer(0, b"", action="hang"))
        if latency > 0 and not batch:
            await asyncio.sleep(latency)
        if fault is not None:
            return self._count(fault_answer(fault, body, self._completion, cfg))
        if self._replay is not None:
            recorded = self._replayed("POST", path, body)
            if recorded is None:
                message = "replay_miss: no recorded exchange for this request (mock replay)"
                return self._count(json_answer(404, error_body(404, message, "replay_miss")))
            return self._count(recorded)
        return self._count(self._reply(body, reply or MockReply()))

    def _reply(self, body: Body, reply: MockReply) -> Answer:
        headers = dict(reply.headers)
        if reply.body is not None:
            raw = reply.body
            data = raw if isinstance(raw, bytes) else raw.encode() if isinstance(raw, str) else None
            if data is None:
                return json_answer(reply.status, raw, headers)
            return Answer(reply.status, data, headers)
        if reply.status != 200:
            return json_answer(reply.status, error_body(reply.status), headers)
        content = reply.content
        if content is None and reply.refusal is None:
            content = default_content(body, follow_schema=not self.config.ignore_schema)
        elif content is not None and not isinstance(content, str):
            content = json.dumps(content, ensure_ascii=False)
        return json_answer(
            200,
            self._completion(
                body, content, finish_reason=reply.finish_reason, refusal=reply.refusal
            ),
            headers,
        )

    def _completion(
        self,
        body: Body,
        content: str | None,
        *,
        finish_reason: str = "stop",
        refusal: str | None = None,
        empty: bool = False,
    ) -> dict[str, Any]:
        prompt_tokens, cached = token_counts(body)
        with self._lock:
            number = self._stats.chat_requests
        return chat_completion(
            content,
            model=str(body.get("model") or self.config.models[0]),
            response_id=f"chatcmpl-mock-{number:08d}",
            prompt_tokens=prompt_tokens,
            cached_tokens=cached,
            finish_reason=finish_reason,
            refusal=refusal,
            empty=empty,
        )

    def _models(self) -> Answer:
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
        return json_answer(200, {"object": "list", "data": data})

    def _replayed(self, method: str, path: str, body: Any) -> Answer | None:
        if self._replay is None:
            return None
        found = self._replay.lookup(method, path, body, any_summary=self.config.replay_any)
        if found is None:
            return None
        return Answer(found.status, found.body, dict(found.headers))

    def _count(self, answer: Answer) -> Answer:
        if answer.action not in ("hang", "silent"):  # these send no status line
            served = _usage_of(answer) if answer.action == "send" else (0, 0)
            with self._lock:
                self._stats.statuses[answer.status] += 1
                self._stats.prompt_tokens += served[0]
                self._stats.completion_tokens += served[1]
        return answer


def _usage_of(answer: Answer) -> tuple[int, int]:
    """(prompt, completion) tokens a whole, parseable answer reports; (0, 0) otherwise."""
    if answer.status != 200:
        return 0, 0
    try:
        usage = json.loads(answer.body).get("usage") or {}
        return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    except (ValueError, AttributeError, TypeError):
        return 0, 0


@contextlib.contextmanager
def serve_in_process(*flags: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``python -m summarise.mock --port 0 FLAGS`` as a child process, so that its CPU is
    not the client's: yields (base URL, process) and stops it (SIGTERM) afterwards."""
    process = subprocess.Popen(
        [sys.executable, "-m", "summarise.mock", "--port", "0", *flags],
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
