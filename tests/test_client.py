"""The model client against an in-memory transport serving hand-written (synthetic) answers.

These check the client's decisions request by request; tests/test_run_mock.py checks the
same behaviours end to end over real HTTP against the mock server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from summarise.backends.openai.answers import strict_schema
from summarise.backends.openai.attempts import ModelError
from summarise.backends.openai.client import ModelClient
from summarise.config import EndpointConfig
from summarise.errors import FatalError
from summarise.mock import chat_completion
from summarise.prompt import build_messages
from summarise.schema import model_facing_schema
from tests.helpers import synthetic, warning_codes

GOOD = json.dumps(synthetic("summary_004.json"))
INVALID_SCHEMA = json.dumps(synthetic("summary_schema_invalid.json"))
MESSAGES = build_messages("Shoigu told Lecornu ...", title="t", published=None)


Handler = Callable[[dict[str, Any]], httpx2.Response]


class Fake:
    """Answers /models and chat completions from a script of responses, recording requests."""

    def __init__(self, *script: httpx2.Response | Handler) -> None:
        self.script = list(script)
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/models"):
            return httpx2.Response(200, json={"object": "list", "data": []})
        body = json.loads(request.content)
        self.bodies.append(body)
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return step(body) if callable(step) else step


def ok(content: str | None, **kw: Any) -> httpx2.Response:
    return httpx2.Response(200, json=chat_completion(content, prompt_tokens=100, **kw))


def client_for(fake: Fake, **config: Any) -> ModelClient:
    settings = {"response_format": "json_object", "max_backoff_s": 0.05, **config}
    return ModelClient(
        EndpointConfig(model="fake", base_url="http://fake.test/v1", **settings),
        transport=httpx2.MockTransport(fake),
    )


def llama_cpp_like(body: dict[str, Any]) -> httpx2.Response:
    """Rejects json_schema with HTTP 500 and enforces a schema given with json_object."""
    fmt = body.get("response_format") or {}
    if fmt.get("type") == "json_schema":
        return httpx2.Response(500, json={"error": {"message": "unsupported response_format"}})
    is_probe = "probe" in json.dumps(fmt.get("schema", {}))
    if is_probe:
        return ok('{"probe": "summarise-probe-ok"}')
    return ok(GOOD)


async def test_probe_falls_back_when_server_rejects_json_schema() -> None:
    fake = Fake(llama_cpp_like)
    client = client_for(fake, response_format="auto")
    caps = await client.capabilities()
    assert caps.accepted["json_schema"] is False
    assert caps.mode == "json_object_schema" and caps.enforced["json_object_schema"]
    extraction = await client.extract(MESSAGES)
    assert extraction.summary.quotes[0].speaker == "Sergei Shoigu"
    assert fake.bodies[-1]["response_format"]["type"] == "json_object"
    assert "schema" in fake.bodies[-1]["response_format"]


async def test_probe_detects_a_server_that_ignores_the_schema() -> None:
    fake = Fake(lambda body: ok('{"answer": 42}'))
    caps = await client_for(fake, response_format="auto").capabilities()
    assert caps.accepted == {"json_schema": True, "json_object_schema": True, "json_object": True}
    assert not any(caps.enforced.values())
    assert caps.mode == "json_object_schema"


async def test_probe_uses_json_schema_when_enforced() -> None:
    def enforcing(body: dict[str, Any]) -> httpx2.Response:
        probing = "probe" in json.dumps(body.get("response_format", {}))
        return ok('{"probe": "summarise-probe-ok"}' if probing else GOOD)

    caps = await client_for(Fake(enforcing), response_format="auto").capabilities()
    assert caps.mode == "json_schema"


def test_strict_schema_drops_only_keywords_openai_rejects() -> None:
    strict = json.dumps(strict_schema(model_facing_schema()))
    assert "maxLength" not in strict and "maxItems" in strict


async def test_reasks_after_invalid_json_with_the_error() -> None:
    fake = Fake(ok("Sure! Here is the summary: {not json"), ok(GOOD))
    extraction = await client_for(fake).extract(MESSAGES)
    assert extraction.attempts == 2
    reask = fake.bodies[1]["messages"][-1]["content"]
    assert "not valid JSON" in reask
    assert fake.bodies[1]["messages"][-2] == {
        "role": "assistant",
        "content": "Sure! Here is the summary: {not json",
    }
    assert extraction.usage.prompt_tokens == 200


async def test_reasks_after_schema_violation_naming_the_fields() -> None:
    fake = Fake(ok(INVALID_SCHEMA), ok(GOOD))
    extraction = await client_for(fake).extract(MESSAGES)
    assert extraction.attempts == 2
    reask = fake.bodies[1]["messages"][-1]["content"]
    assert "event.kind" in reask and "outcomes" in reask
    assert "reasked" in warning_codes(extraction.warnings)


async def test_gives_up_after_max_attempts_with_a_validate_error() -> None:
    fake = Fake(ok(INVALID_SCHEMA))
    with pytest.raises(ModelError) as info:
        await client_for(fake, max_attempts=2).extract(MESSAGES)
    assert (info.value.code, info.value.stage, info.value.attempts) == (
        "schema_invalid",
        "validate",
        2,
    )
    assert len(fake.bodies) == 2


async def test_429_honours_retry_after() -> None:
    # 0.6 s: more than the first backoff without a hint can be (at most 0.5 s), so only
    # the hint explains the wait; a busy machine only makes it longer.
    limited = httpx2.Response(
        429, headers={"retry-after-ms": "600"}, json={"error": {"message": "slow down"}}
    )
    fake = Fake(limited, ok(GOOD))
    started = time.monotonic()
    extraction = await client_for(fake, max_backoff_s=5).extract(MESSAGES)
    assert time.monotonic() - started >= 0.6
    assert extraction.attempts == 1  # a retry is not a re-ask
    assert len(fake.bodies) == 2


async def test_429_exhausted_is_an_article_error_not_a_crash() -> None:
    limited = httpx2.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "no"}})
    with pytest.raises(ModelError) as info:
        await client_for(Fake(limited), rate_limit_patience_s=0.2).extract(MESSAGES)
    assert info.value.code == "rate_limited" and "--rate-limit-patience" in info.value.message


async def test_429s_do_not_use_up_the_retries_for_other_failures() -> None:
    limited = httpx2.Response(429, headers={"retry-after": "0"}, json={"error": {"message": "no"}})
    fake = Fake(*[limited] * 5, ok(GOOD))
    extraction = await client_for(fake, max_retries=1).extract(MESSAGES)
    assert extraction.summary and len(fake.bodies) == 6


async def test_401_is_fatal_with_a_clear_message() -> None:
    denied = httpx2.Response(401, json={"error": {"message": "Incorrect API key provided"}})
    with pytest.raises(FatalError, match=r"authentication failed at fake\.test"):
        await client_for(Fake(denied)).extract(MESSAGES)


async def test_unknown_model_is_fatal() -> None:
    missing = httpx2.Response(404, json={"error": {"message": "model not found"}})
    with pytest.raises(FatalError, match="model 'fake'"):
        await client_for(Fake(missing)).extract(MESSAGES)


async def test_truncated_answer_is_retried_with_a_tighter_request() -> None:
    fake = Fake(ok(GOOD[:200], finish_reason="length"), ok(GOOD))
    extraction = await client_for(fake).extract(MESSAGES)
    assert extraction.attempts == 2
    assert "cut off" in fake.bodies[1]["messages"][-1]["content"]
    # the cut-off answer is never parsed as if complete, nor sent back
    assert all(m["role"] != "assistant" for m in fake.bodies[1]["messages"])


async def test_always_truncated_ends_as_truncated_error() -> None:
    with pytest.raises(ModelError) as info:
        await client_for(Fake(ok(GOOD[:200], finish_reason="length"))).extract(MESSAGES)
    assert info.value.code == "truncated"


async def test_refusal_is_an_error_without_retry() -> None:
    fake = Fake(ok(None, refusal="I can't help with that."))
    with pytest.raises(ModelError) as info:
        await client_for(fake).extract(MESSAGES)
    assert info.value.code == "refused" and len(fake.bodies) == 1


async def test_key_is_sent_as_header_never_in_the_body() -> None:
    seen: list[httpx2.Request] = []

    def spy(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return ok(GOOD)

    config = EndpointConfig(
        model="fake", base_url="http://fake.test/v1", api_key="sk-secret", response_format="text"
    )
    await ModelClient(config, transport=httpx2.MockTransport(spy)).extract(MESSAGES)
    assert "sk-secret" not in repr(config)
    assert all(b"sk-secret" not in r.content for r in seen)


async def test_rpm_spaces_requests_evenly_instead_of_bursting() -> None:
    fake = Fake(ok(GOOD))
    client = client_for(fake, rpm=1200)  # one request every 50 ms
    await client.capabilities()
    started = time.monotonic()
    await asyncio.gather(*(client.extract(MESSAGES) for _ in range(5)))
    assert time.monotonic() - started >= 0.2  # a burst would take a few ms
