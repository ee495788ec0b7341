"""Result lines of a batch: OpenAI's output and error files, or ``vllm run-batch`` output.

Every line is ``{"id", "custom_id", "response": {"status_code", "request_id", "body"} |
null, "error": {"code", "message"} | null}``. Only a line with status 200, no error and a
JSON object body is an answer; everything else (another status, ``response: null``, and
the known quirk of ``status_code: 0`` with ``error: null``) is a failed request, to be sent
again. vLLM writes one file, in input order, with its errors inline; OpenAI writes two,
in any order: both read the same way, a line at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Result:
    """One result line, sorted: an answer body, or why there is none."""

    custom_id: object
    body: dict[str, Any] | None = None
    """The chat completion, for an answered request."""
    error: tuple[str, str] | None = None
    """(code, message) of a failed request."""


def read_results(path: Path) -> Iterator[Result]:
    """The result lines of ``path``; a line that is not a JSON object is skipped."""
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict):
                yield sort_line(line)


def sort_line(line: dict[str, Any]) -> Result:
    """A result line as an answer or a failure."""
    cid = line.get("custom_id")
    error = line.get("error")
    if error:
        return Result(cid, error=_error_of(error))
    response = line.get("response")
    if not isinstance(response, dict):
        return Result(cid, error=("no_response", "the result line has no response"))
    status = response.get("status_code")
    body = response.get("body")
    if status == 0:
        return Result(cid, error=("status_code_0", "status code 0 and no error (not run)"))
    if status != 200:
        detail = _error_of(body.get("error")) if isinstance(body, dict) else None
        message = detail[1] if detail else "no detail"
        return Result(cid, error=(f"http_{status}", f"status {status}: {message}"))
    if not isinstance(body, dict):
        return Result(cid, error=("bad_response", "status 200 without a JSON object body"))
    return Result(cid, body=body)


def _error_of(error: object) -> tuple[str, str]:
    if isinstance(error, dict):
        code = str(error.get("code") or error.get("type") or "batch_error")
        return code, str(error.get("message") or code)[:500]
    return "batch_error", str(error)[:500]
