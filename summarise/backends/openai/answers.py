"""A model's answer -> a validated ``ModelSummary``, and the ``response_format`` that asks for it.

Every answer is validated with pydantic whatever the server promised; an invalid one
raises ``InvalidAnswer`` whose message is what the re-ask tells the model.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from openai.types.chat import ChatCompletion
from pydantic import ValidationError

from summarise.config import ResponseMode
from summarise.schema import ModelSummary

# Keywords left out of the schema sent as response_format: OpenAI's strict mode rejects
# them, and llama.cpp turns a long maxLength into a grammar so deep that its parser
# overflows the stack (SIGSEGV at maxLength ~1200). The full schema still travels in the
# system prompt and pydantic enforces it on every answer.
_STRICT_UNSUPPORTED = frozenset({"maxLength", "minLength"})


class BadCompletion(ValueError):
    """A 2xx response body that is not a chat completion object."""


def parse_completion(content: bytes) -> ChatCompletion:
    """A chat completion from its raw body: validated by pydantic-core (fast), else built
    loosely as the SDK builds it, for servers that leave fields out (the judge checks what
    matters)."""
    try:
        return ChatCompletion.model_validate_json(content)
    except ValidationError:
        pass
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise BadCompletion(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadCompletion(f"a JSON {type(data).__name__}, not an object")
    return ChatCompletion.construct(**data)


class InvalidAnswer(ValueError):
    """The model's content is not a valid ``ModelSummary``; the message is for the re-ask."""

    def __init__(self, code: str, problem: str) -> None:
        super().__init__(problem)
        self.code = code


def strict_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema minus keywords that servers reject or choke on (see above)."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in _STRICT_UNSUPPORTED}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    result: dict[str, Any] = strip(schema)
    return result


def response_format_for(mode: ResponseMode, schema: dict[str, Any]) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": "summary", "strict": True, "schema": strict_schema(schema)},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": strict_schema(schema)}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def extract_json(content: str) -> Any:
    """The first JSON object in ``content`` (tolerates Markdown fences and chatter)."""
    start = content.find("{")
    if start < 0:
        raise InvalidAnswer("invalid_json", "the answer contains no JSON object")
    try:
        value, _ = json.JSONDecoder().raw_decode(content, start)
    except json.JSONDecodeError as exc:
        raise InvalidAnswer("invalid_json", f"the answer is not valid JSON ({exc})") from exc
    return value


def format_validation_error(exc: ValidationError, limit: int = 10) -> str:
    problems = []
    for error in exc.errors()[:limit]:
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        problems.append(f"{where}: {error['msg']}")
    more = exc.error_count() - limit
    suffix = f"; and {more} more" if more > 0 else ""
    return "the JSON does not match the schema: " + "; ".join(problems) + suffix


def parse_summary(content: str) -> ModelSummary:
    """Parse and validate a model answer; raises ``InvalidAnswer`` with a re-ask message."""
    value = extract_json(content)
    try:
        return ModelSummary.model_validate(value)
    except ValidationError as exc:
        raise InvalidAnswer("schema_invalid", format_validation_error(exc)) from exc
