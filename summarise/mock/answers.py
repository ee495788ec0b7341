"""The mock's synthetic answers: summaries, ``chat.completion`` bodies and error bodies.

Everything here is a pure function of the request body: a clearly synthetic but valid
``ModelSummary`` (its quote taken from the article so that it grounds), a minimal instance
of any other schema a probe asks for, and OpenAI-shaped completion and error objects.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from summarise.mock.config import Body
from summarise.schema import ModelSummary

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


def token_counts(body: Body) -> tuple[int, int]:
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
