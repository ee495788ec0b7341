"""Servers that misbehave on the wire (issue 12): silence, trickles, refusals, huge or cut
bodies, and error messages full of markup. Each must end within a bounded time as a clear
error (the run's or an article's), never a hang, a traceback or a blown-up process.

Loopback only: the mock server (``summarise.mock``) or a port nobody listens on. Deadlines
are set short (``timeout_s``, ``probe_timeout_s``) so that every test ends in seconds.
"""

from __future__ import annotations

import socket
import time
import tracemalloc
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
import pytest

from summarise.backends.openai.attempts import ModelError
from summarise.backends.openai.client import ModelClient
from summarise.backends.openai.guards import MAX_RESPONSE_BYTES
from summarise.backends.openai.probe import PROBE_MAX_RETRIES, context_length_from
from summarise.config import EndpointConfig
from summarise.errors import EndpointError
from summarise.mock import MockConfig, MockServer, chat_completion, user_texts
from summarise.prompt import build_messages
from tests.helpers import MOCK_ENV, MOCK_MODEL, read_jsonl, run_against, run_cli

if TYPE_CHECKING:
    from click.testing import Result

MESSAGES = build_messages("Minister Brevik met his counterpart.", title="t", published=None)
ARTICLE = (
    "Foreign Minister Brevik met his counterpart in Geneva on Tuesday to discuss trade.\n\n"
    '"We agreed to keep talking," Brevik told reporters after the meeting.\n'
)
MARKER = "Brevik"
MARKUP = "bad [/] request [bold red]x[/] [link=file:///etc]y[/link]"


def config_for(server: MockServer, **settings: Any) -> EndpointConfig:
    return EndpointConfig(model=MOCK_MODEL, base_url=server.base_url, api_key="k", **settings)


def write_article(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "brevik.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    return str(path)


@dataclass
class Run:
    """What one ``summarise run`` of the one article against the mock came to."""

    result: Result
    records: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    elapsed_s: float


def run_one(tmp_path: Path, config: MockConfig, *args: str) -> Run:
    """``summarise run`` of one article against a mock with ``config``; never a traceback."""
    feed = tmp_path / "feed.jsonl"
    with MockServer(config) as server:
        started = time.monotonic()
        result = run_against(server, write_article(tmp_path / "in"), "-o", str(feed), *args)
        elapsed = time.monotonic() - started
    assert "Traceback" not in result.stderr + result.stdout
    errors = read_jsonl(tmp_path / "feed.errors.jsonl")
    return Run(result, read_jsonl(feed), errors, elapsed)


def closed_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def chat_requests(server: MockServer) -> int:
    return sum(any(MARKER in t for t in user_texts(body)) for body in server.requests)


# -- 7: deadlines, not just timeouts ------------------------------------------------------


async def test_silent_server_stops_the_probe_within_two_deadlines() -> None:
    config = MockConfig(models_fault="hang", faults={"*": ["hang"] * 10})
    async with MockServer(config) as server:
        client = ModelClient(config_for(server, probe_timeout_s=0.5))
        started = time.monotonic()
        with pytest.raises(EndpointError) as info:
            await client.capabilities()
        elapsed = time.monotonic() - started
        await client.aclose()
    assert elapsed < 5, elapsed  # two 0.5 s deadlines and a short backoff
    host = server.base_url.split("//")[1].split("/")[0]
    assert f"no answer from {host} within 0.5 s while probing" in info.value.message
    assert "--probe-timeout" in info.value.message


def test_silent_server_ends_the_run_with_exit_2_and_a_message(tmp_path: Path) -> None:
    """A server that accepts connections and never answers: said once, exit 2, quickly
    (``--timeout`` also bounds each probe request)."""
    config = MockConfig(models_fault="hang", faults={"*": ["hang"] * 10})
    run = run_one(tmp_path, config, "--timeout", "1")
    assert run.result.exit_code == 2, run.result.stderr
    assert run.elapsed_s < 15, run.elapsed_s
    assert run.result.stderr.count("no answer from 127.0.0.1:") == 1
    assert "within 1 s while probing" in run.result.stderr


async def test_trickling_server_is_cut_off_by_the_call_deadline() -> None:
    """One byte every 0.1 s never trips httpx's read timeout; the call's deadline does, and
    a deadline hit is a transient ``timeout``, retried and counted in ``max_retries``."""
    config = MockConfig(faults={MARKER: ["trickle"] * 10}, trickle_interval_s=0.1)
    async with MockServer(config) as server:
        endpoint = config_for(
            server, timeout_s=0.7, max_retries=1, response_format="json_object", max_backoff_s=0.1
        )
        client = ModelClient(endpoint)
        started = time.monotonic()
        with pytest.raises(ModelError) as info:
            await client.extract(MESSAGES)
        elapsed = time.monotonic() - started
        await client.aclose()
        sent = chat_requests(server)
    assert info.value.code == "timeout"
    assert sent == 2  # 1 + max_retries
    assert "after 1 retries" in info.value.message
    assert "no complete answer within 0.7 s (--timeout)" in info.value.message
    assert elapsed < 6, elapsed


def test_trickling_server_gives_a_timeout_error_record(tmp_path: Path) -> None:
    config = MockConfig(faults={MARKER: ["trickle"] * 10}, trickle_interval_s=0.2)
    run = run_one(tmp_path, config, "--timeout", "1", "--max-retries", "1")
    assert run.result.exit_code == 1, run.result.stderr
    [error] = run.errors
    assert (error["stage"], error["error"]) == ("model", "timeout")
    assert "no complete answer within 1 s" in error["message"]
    assert run.elapsed_s < 20, run.elapsed_s


def test_unreachable_endpoint_fails_fast_with_a_clear_message(tmp_path: Path) -> None:
    port = closed_port()
    feed = tmp_path / "feed.jsonl"
    started = time.monotonic()
    result = run_cli(
        "run",
        write_article(tmp_path / "in"),
        "-o",
        str(feed),
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--model",
        MOCK_MODEL,
        "--no-progress",
        env=MOCK_ENV,
    )
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, result.stderr
    assert elapsed < 8, elapsed  # a few quick retries, not minutes of backoff
    assert f"cannot connect to 127.0.0.1:{port} while probing" in result.stderr
    assert "connection refused" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert read_jsonl(feed) == []


async def test_probe_retries_at_most_twice_in_all() -> None:
    attempts: list[str] = []

    def refuse(request: httpx2.Request) -> httpx2.Response:
        attempts.append(request.url.path)
        raise httpx2.ConnectError("Connection refused", request=request)

    endpoint = EndpointConfig(model="fake", base_url="http://fake.test/v1", max_retries=6)
    client = ModelClient(endpoint, transport=httpx2.MockTransport(refuse))
    with pytest.raises(EndpointError, match=r"cannot connect to fake\.test while probing"):
        await client.capabilities()
    assert len(attempts) == 1 + PROBE_MAX_RETRIES  # not 1 + max_retries


@pytest.mark.parametrize("chat_drops", [1, 2])
async def test_probe_budget_is_shared_by_models_and_chat_requests(chat_drops: int) -> None:
    """One dropped /models and then dropped chat probes: the probe's retries are counted
    together, so a server that recovers within them is used and one that does not is not."""
    drops = {"/v1/models": 1, "/v1/chat/completions": chat_drops}

    def flaky(request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        if drops[path] > 0:
            drops[path] -= 1
            raise httpx2.RemoteProtocolError("dropped", request=request)
        if path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": []})
        return httpx2.Response(200, json=chat_completion('{"probe": "summarise-probe-ok"}'))

    endpoint = EndpointConfig(model="fake", base_url="http://fake.test/v1")
    client = ModelClient(endpoint, transport=httpx2.MockTransport(flaky))
    if 1 + chat_drops <= PROBE_MAX_RETRIES:
        assert (await client.capabilities()).mode == "json_schema"
    else:
        with pytest.raises(EndpointError, match=r"POST /chat/completions, 3 tries"):
            await client.capabilities()


# -- 8: a cap on response size --------------------------------------------------------------


async def test_huge_models_body_is_cut_off_at_the_cap_with_little_memory() -> None:
    """1 GiB streamed from /models: read no further than the cap, in little time and
    memory, and the probe goes on with the context length unknown."""
    config = MockConfig(models_fault="huge_body", huge_body_bytes=2**30, context_length=4096)
    async with MockServer(config) as server:
        client = ModelClient(config_for(server))
        tracemalloc.start()
        try:
            started = time.monotonic()
            caps = await client.capabilities()
            elapsed = time.monotonic() - started
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            await client.aclose()
    assert caps.context_length is None  # the body was never parsed
    assert caps.mode == "json_schema"  # the probe went on
    assert peak < 3 * MAX_RESPONSE_BYTES, peak  # the body alone would be 1 GiB
    assert elapsed < 20, elapsed


async def test_huge_chat_body_is_a_transient_bad_response() -> None:
    config = MockConfig(faults={MARKER: ["huge_body"] * 10}, huge_body_bytes=2**30)
    async with MockServer(config) as server:
        endpoint = config_for(
            server, max_retries=1, response_format="json_object", max_backoff_s=0.1
        )
        client = ModelClient(endpoint)
        with pytest.raises(ModelError) as info:
            await client.extract(MESSAGES)
        await client.aclose()
        sent = chat_requests(server)
    assert info.value.code == "bad_response" and sent == 2
    assert f"over the {MAX_RESPONSE_BYTES // 2**20} MiB limit" in info.value.message


def test_huge_chat_body_ends_as_an_error_record(tmp_path: Path) -> None:
    config = MockConfig(faults={MARKER: ["huge_body"] * 10}, huge_body_bytes=2**30)
    run = run_one(tmp_path, config, "--max-retries", "1")
    assert run.result.exit_code == 1, run.result.stderr
    [error] = run.errors
    assert (error["stage"], error["error"]) == ("model", "bad_response")


async def test_declared_oversize_body_is_refused_before_it_is_read() -> None:
    def oversize(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": []})
        return httpx2.Response(
            200, headers={"content-length": str(2**40)}, stream=httpx2.ByteStream(b"{}")
        )

    endpoint = EndpointConfig(
        model="fake", base_url="http://fake.test/v1", response_format="text", max_retries=0
    )
    client = ModelClient(endpoint, transport=httpx2.MockTransport(oversize))
    with pytest.raises(ModelError) as info:
        await client.extract(MESSAGES)
    assert info.value.code == "bad_response" and "bytes declared" in info.value.message


@pytest.mark.parametrize("fault", ["truncated_json", "500", "404"])
def test_unusable_models_body_means_context_unknown(tmp_path: Path, fault: str) -> None:
    run = run_one(tmp_path, MockConfig(models_fault=fault, context_length=4096), "-v")
    assert run.result.exit_code == 0, run.result.stderr
    assert "context length unknown" in run.result.stderr
    assert len(run.records) == 1


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b'{"data": {"id": "m"}}',
        b'{"data": ["m", 3]}',
        b'{"data": [{"id": "m", "max_model_len": true}]}',
        b'{"data": [{"id": "m", "meta": "n_ctx"}]}',
        b'{"data": [{"id": "m", "max_model_len": -1}]}',
        b"\xff\xfe",
    ],
)
def test_context_length_from_odd_models_bodies_is_unknown(body: bytes) -> None:
    assert context_length_from(body, "m") is None


def test_context_length_is_read_from_the_servers_usual_fields() -> None:
    assert context_length_from(b'{"data": [{"id": "m", "max_model_len": 8192}]}', "m") == 8192
    llama = b'{"data": [{"id": "a"}, {"id": "m", "meta": {"n_ctx_train": 2048}}]}'
    assert context_length_from(llama, "m") == 2048


# -- 9: server text shown as it is ----------------------------------------------------------


def test_fatal_server_message_with_markup_is_printed_verbatim(tmp_path: Path) -> None:
    """A 400 on the article stops the run (exit 2); the server's message, markup and all,
    reaches stderr literally."""
    run = run_one(tmp_path, MockConfig(faults={MARKER: ["400"]}, error_message=MARKUP))
    assert run.result.exit_code == 2, run.result.stderr
    assert MARKUP in run.result.stderr


def test_server_error_message_with_markup_reaches_the_error_record(tmp_path: Path) -> None:
    """A 500 on the article becomes its error record (exit 1), the message kept verbatim."""
    config = MockConfig(faults={MARKER: ["500"] * 5}, error_message=MARKUP)
    run = run_one(tmp_path, config, "--max-retries", "0")
    assert run.result.exit_code == 1, run.result.stderr
    [error] = run.errors
    assert error["error"] == "server_error" and MARKUP in error["message"]
