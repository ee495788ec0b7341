"""The mock OpenAI-compatible server, spoken to by the real ``openai`` client (no retries)."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest

from summarise.backends.openai.replay import RecordingTransport
from summarise.mock import (
    FAULTS,
    MockConfig,
    MockReply,
    MockServer,
    serve_in_process,
    synthetic_summary,
)
from summarise.schema import ModelSummary

ARTICLE = 'art-1: the minister said "we are ready to talk" on Wednesday.'
CHAT = {"model": "mock-model", "messages": [{"role": "user", "content": ARTICLE}]}


def client(server: MockServer, *, key: str = "k") -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=server.base_url, api_key=key, max_retries=0, timeout=5.0)


async def ask(c: openai.AsyncOpenAI, text: str = ARTICLE, **kwargs: Any) -> Any:
    return await c.chat.completions.create(
        model="mock-model", messages=[{"role": "user", "content": text}], **kwargs
    )


async def test_default_reply_is_a_valid_synthetic_summary() -> None:
    async with MockServer() as server, client(server) as c:
        completion = await ask(c)
    summary = ModelSummary.model_validate_json(completion.choices[0].message.content)
    assert summary.headline.startswith("Synthetic mock summary")
    assert [q.text for q in summary.quotes] == ["we are ready to talk"]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens > 0
    assert completion.usage.prompt_tokens_details.cached_tokens == 0
    assert server.requests[0]["messages"][0]["content"] == ARTICLE
    assert synthetic_summary(ARTICLE) == json.loads(completion.choices[0].message.content)


async def test_429_carries_retry_after() -> None:
    async with (
        MockServer(MockConfig(faults={"art-1": ["429"]}, retry_after_s=0.25)) as server,
        client(server) as c,
    ):
        with pytest.raises(openai.RateLimitError) as caught:
            await ask(c)
        assert caught.value.response.headers["retry-after"] == "0.25"
        assert caught.value.response.headers["retry-after-ms"] == "250"
        assert (await ask(c)).choices[0].finish_reason == "stop"  # script used up


async def test_wrong_key_raises_authentication_error() -> None:
    async with MockServer(MockConfig(require_api_key="right")) as server, client(server) as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await ask(c)
    assert caught.value.code == "invalid_api_key"


async def test_unknown_model_is_404_model_not_found() -> None:
    async with (
        MockServer(MockConfig(unknown_model=True, context_length=8192)) as server,
        client(server) as c,
    ):
        with pytest.raises(openai.NotFoundError) as caught:
            await ask(c)
        models = await c.models.list()
    assert caught.value.code == "model_not_found"
    assert models.data[0].model_extra == {"max_model_len": 8192}


async def test_reject_json_schema_gives_500_and_json_object_schema_is_enforced() -> None:
    schema = {"type": "object", "properties": {"probe": {"enum": ["ok"]}}, "required": ["probe"]}
    as_json_schema = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
    async with MockServer(MockConfig(reject_json_schema=True)) as server, client(server) as c:
        with pytest.raises(openai.InternalServerError) as caught:
            await ask(c, response_format=as_json_schema)
        completion = await ask(c, response_format={"type": "json_object", "schema": schema})
    assert caught.value.type == "internal_server_error"
    assert json.loads(completion.choices[0].message.content) == {"probe": "ok"}


async def test_ignore_schema_answers_200_with_a_summary_instead() -> None:
    schema = {"type": "object", "properties": {"probe": {"enum": ["ok"]}}}
    fmt = {"type": "json_schema", "json_schema": {"name": "p", "schema": schema}}
    async with MockServer(MockConfig(ignore_schema=True)) as server, client(server) as c:
        completion = await ask(c, response_format=fmt)
    ModelSummary.model_validate_json(completion.choices[0].message.content)


async def test_reset_raises_api_connection_error() -> None:
    async with MockServer(MockConfig(faults={"art-1": ["reset"]})) as server, client(server) as c:
        with pytest.raises(openai.APIConnectionError):
            await ask(c)


# What the openai client makes of each fault: an exception, or a completion to inspect.
FAULT_OUTCOMES: dict[str, Any] = {
    "429": openai.RateLimitError,
    "500": openai.InternalServerError,
    "503": openai.InternalServerError,
    "401": openai.AuthenticationError,
    "timeout": openai.APITimeoutError,
    "reset": openai.APIConnectionError,
    "malformed_json": json.JSONDecodeError,
    "schema_invalid": lambda c: c.choices[0].message.content.startswith("{"),
    "invalid_json_content": lambda c: "{headline:" in c.choices[0].message.content,
    "length": lambda c: c.choices[0].finish_reason == "length",
    "refusal": lambda c: c.choices[0].message.refusal and c.choices[0].message.content is None,
    "empty_choices": lambda c: c.choices == [],
    "hang": openai.APITimeoutError,
    "trickle": openai.APITimeoutError,  # a byte a second: past the 0.3 s read timeout
    "huge_body": json.JSONDecodeError,  # huge_body_bytes is 1 MiB here
    "truncated_json": json.JSONDecodeError,
}


def test_every_fault_has_an_expected_outcome() -> None:
    assert set(FAULT_OUTCOMES) == set(FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
async def test_fault_matrix(fault: str) -> None:
    expected = FAULT_OUTCOMES[fault]
    async with (
        MockServer(
            MockConfig(faults={"art-1": [fault]}, hang_s=2.0, huge_body_bytes=2**20)
        ) as server,
        client(server) as c,
    ):
        if isinstance(expected, type):
            with pytest.raises(expected):
                await ask(c, timeout=0.3)
        else:
            assert expected(await ask(c))
        assert server.stats.faults == {fault: 1}


async def test_models_fault_applies_to_every_models_request() -> None:
    config = MockConfig(models_fault="truncated_json")
    async with MockServer(config) as server, httpx2.AsyncClient(timeout=5.0) as http:
        bodies = [(await http.get(f"{server.base_url}/models")).content for _ in range(2)]
        assert (await http.post(f"{server.base_url}/chat/completions", json=CHAT)).is_success
    assert bodies[0] == bodies[1] and bodies[0].startswith(b'{"object": "list"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(bodies[0])
    assert server.stats.faults == {"models:truncated_json": 2}


async def test_models_fault_hang_never_answers() -> None:
    async with (
        MockServer(MockConfig(models_fault="hang")) as server,
        httpx2.AsyncClient(timeout=0.3) as http,
    ):
        started = time.monotonic()
        with pytest.raises(httpx2.ReadTimeout):
            await http.get(f"{server.base_url}/models")
    assert time.monotonic() - started < 5


async def test_huge_body_is_streamed_in_chunks_to_the_size_asked() -> None:
    size = 3 * 2**20 + 5
    config = MockConfig(models_fault="huge_body", huge_body_bytes=size)
    received = 0
    async with (
        MockServer(config) as server,
        httpx2.AsyncClient(timeout=5.0) as http,
        http.stream("GET", f"{server.base_url}/models") as response,
    ):
        assert response.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in response.headers
        async for chunk in response.aiter_raw():
            received += len(chunk)
    assert size - 2**16 < received <= size  # whole chunks of filler after the JSON's start


async def test_trickle_sends_one_byte_per_interval() -> None:
    config = MockConfig(models_fault="trickle", trickle_interval_s=0.05)
    async with MockServer(config) as server, httpx2.AsyncClient(timeout=5.0) as http:
        started = time.monotonic()
        first: list[bytes] = []
        async with http.stream("GET", f"{server.base_url}/models") as response:
            async for chunk in response.aiter_raw():
                first.append(chunk)
                if len(first) == 3:
                    break
    assert [len(chunk) for chunk in first] == [1, 1, 1]
    assert time.monotonic() - started >= 0.05 * 3


@pytest.mark.parametrize("route", ["models", "chat"])
async def test_status_fault_carries_the_configured_error_message(route: str) -> None:
    message = "[/] and [bold red]x[/] verbatim"
    config = MockConfig(faults={"*": ["400"]}, models_fault="500", error_message=message)
    async with MockServer(config) as server, httpx2.AsyncClient(timeout=5.0) as http:
        if route == "models":
            response = await http.get(f"{server.base_url}/models")
        else:
            response = await http.post(f"{server.base_url}/chat/completions", json=CHAT)
    assert response.status_code == (500 if route == "models" else 400)
    assert response.json()["error"]["message"] == message


def test_unknown_models_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown /models fault"):
        MockConfig(models_fault="schema_invalid")


async def test_schema_invalid_fault_violates_the_schema() -> None:
    async with (
        MockServer(MockConfig(faults={"*": ["schema_invalid"]})) as server,
        client(server) as c,
    ):
        content = (await ask(c)).choices[0].message.content
    with pytest.raises(ValueError, match="validation error"):
        ModelSummary.model_validate_json(content)


async def test_fault_script_is_consumed_per_marker_then_answers_normally() -> None:
    config = MockConfig(faults={"art-1": ["500", "503"], "art-2": ["500"]})
    async with MockServer(config) as server, client(server) as c:
        outcomes = []
        for text in ("art-1", "art-2", "art-1", "art-1", "art-2", "art-3"):
            try:
                await ask(c, text)
                outcomes.append(200)
            except openai.APIStatusError as exc:
                outcomes.append(exc.status_code)
    assert outcomes == [500, 500, 503, 200, 200, 200]


async def test_random_faults_depend_on_the_request_not_the_order() -> None:
    texts = [f"article {i}" for i in range(24)]

    async def faults_seen(order: list[str]) -> dict[str, int]:
        config = MockConfig(fault_rate=0.5, fault_choices=("500",), seed=7)
        async with MockServer(config) as server, client(server) as c:
            seen = {}
            for text in order:
                try:
                    await ask(c, text)
                    seen[text] = 200
                except openai.InternalServerError:
                    seen[text] = 500
        return seen

    forward = await faults_seen(texts)
    assert forward == await faults_seen(texts[::-1])
    assert 4 < list(forward.values()).count(500) < 20


async def test_responder_decides_the_content() -> None:
    def responder(body: dict[str, Any]) -> MockReply | None:
        if "art-9" in body["messages"][-1]["content"]:
            return MockReply(content={"hello": "world"}, finish_reason="length")
        return None

    async with MockServer(MockConfig(responder=responder)) as server, client(server) as c:
        special = await ask(c, "art-9")
        normal = await ask(c, "art-1")
    assert json.loads(special.choices[0].message.content) == {"hello": "world"}
    assert special.choices[0].finish_reason == "length"
    ModelSummary.model_validate_json(normal.choices[0].message.content)


async def ask_honouring_retry_after(c: openai.AsyncOpenAI, text: str) -> list[float]:
    """Ask until answered, sleeping as told; returns the Retry-After values received."""
    waits: list[float] = []
    while True:
        try:
            await ask(c, text)
            return waits
        except openai.RateLimitError as exc:
            waits.append(float(exc.response.headers["retry-after-ms"]) / 1000)
            await asyncio.sleep(waits[-1])


async def test_rate_limit_books_a_slot_for_each_rejected_request() -> None:
    async with MockServer(MockConfig(rate_limit_rps=20)) as server, client(server) as c:
        started = time.monotonic()
        waits = await asyncio.gather(*(ask_honouring_retry_after(c, f"a{i}") for i in range(5)))
        elapsed = time.monotonic() - started
    # One gets through at once; each other one is told a slot 1/20 s after the previous
    # one's, and its retry then is let in.
    assert sorted(len(w) for w in waits) == [0, 1, 1, 1, 1]
    told = sorted(w[0] for w in waits if w)
    # A request that reaches a busy server late is told that much less (never more, but
    # for rounding up to the millisecond); telling anyone more than one interval shows
    # that slots were booked one after another.
    slots = [0.05, 0.1, 0.15, 0.2]
    assert all(0 < wait <= slot + 0.001 for wait, slot in zip(told, slots, strict=True)), told
    assert told[-1] > 0.05, told  # "the next token", told to all, would be <= 0.05
    assert 0.2 <= elapsed < 2.0  # 10x headroom: a loaded machine is slow, never fast
    assert server.stats.rate_limited == 4


async def test_rate_limit_next_token_hint_tells_everyone_the_same_wait() -> None:
    config = MockConfig(rate_limit_rps=20, retry_after_hint="next_token")
    async with MockServer(config) as server, client(server) as c:
        results = await asyncio.gather(*(ask(c) for _ in range(5)), return_exceptions=True)
    limited = [r for r in results if isinstance(r, openai.RateLimitError)]
    assert len(limited) == 4
    assert all(0 < float(r.response.headers["retry-after"]) <= 0.05 for r in limited)


async def test_concurrency_cap_queues_requests() -> None:
    config = MockConfig(latency_s=0.05, max_concurrency=4)
    async with MockServer(config) as server, client(server) as c:
        started = time.monotonic()
        await asyncio.gather(*(ask(c) for _ in range(16)))
        elapsed = time.monotonic() - started
    assert server.stats.max_in_flight == 4
    assert elapsed >= 0.2


async def test_concurrency_cap_can_answer_503_instead() -> None:
    config = MockConfig(latency_s=0.1, max_concurrency=2, overload="503")
    async with MockServer(config) as server, client(server) as c:
        results = await asyncio.gather(*(ask(c) for _ in range(6)), return_exceptions=True)
    statuses = sorted(getattr(r, "status_code", 200) for r in results)
    assert statuses == [200, 200, 503, 503, 503, 503]


async def test_serves_64_concurrent_requests_at_once() -> None:
    arrived = 0
    all_in = asyncio.Event()

    async def wait_for_all(body: dict[str, Any]) -> MockReply | None:
        nonlocal arrived
        arrived += 1
        if arrived == 64:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), timeout=3)
        return None

    async with MockServer(MockConfig(responder=wait_for_all)) as server, client(server) as c:
        await asyncio.gather(*(ask(c, str(i)) for i in range(64)))
    assert server.stats.max_in_flight == 64
    assert server.stats.connections >= 64


async def record(folder: Path, texts: list[str]) -> list[str]:
    """Record exchanges with the project's record mode against a mock; their response ids."""
    async with MockServer() as server:
        http_client = httpx2.AsyncClient(transport=RecordingTransport(folder))
        async with openai.AsyncOpenAI(
            base_url=server.base_url, api_key="k", max_retries=0, http_client=http_client
        ) as c:
            return [(await ask(c, text)).id for text in texts]


async def test_replay_serves_what_record_mode_wrote(tmp_path: Path) -> None:
    recorded = await record(tmp_path, ["first article", "second article"])
    async with MockServer(MockConfig(replay_dir=tmp_path)) as server, client(server) as c:
        replayed = [(await ask(c, text)).id for text in ("second article", "first article")]
        with pytest.raises(openai.NotFoundError) as miss:
            await ask(c, "never recorded")
    assert replayed == recorded[::-1]
    assert miss.value.code == "replay_miss"


async def test_replay_any_serves_recorded_summaries_round_robin(tmp_path: Path) -> None:
    recorded = await record(tmp_path, ["a", "b"])
    config = MockConfig(replay_dir=tmp_path, replay_any=True)
    async with MockServer(config) as server, client(server) as c:
        served = [(await ask(c, f"new {i}")).id for i in range(4)]
    assert set(served) == set(recorded)
    assert served[0] == served[2] != served[1] == served[3]


def test_background_thread_server_and_request_log() -> None:
    with MockServer(MockConfig(faults={"*": ["500"]})) as server:
        completion = asyncio.run(ask_after_500(server))
        assert completion.choices[0].finish_reason == "stop"
        assert len(server.requests) == 2
        assert server.stats.statuses == {500: 1, 200: 1}


async def ask_after_500(server: MockServer) -> Any:
    async with client(server) as c:
        with pytest.raises(openai.InternalServerError):
            await ask(c)
        return await ask(c)


def test_command_line_prints_base_url_and_stops_on_sigterm() -> None:
    with serve_in_process("--fault", "*=429") as (base_url, process):
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        with urllib.request.urlopen(f"{base_url}/models", timeout=5) as response:
            assert json.load(response)["object"] == "list"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
