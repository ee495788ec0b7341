"""The lines of a mock batch: reading its input file, writing its output and error files.

Input: one ``{"custom_id", "method": "POST", "url": ENDPOINT, "body": {...}}`` per line;
any fault in the file fails the whole batch with ``errors.data`` entries ``{code, line,
message, param}`` (codes as OpenAI documents them: ``empty_file``, ``invalid_json_line``,
``duplicate_custom_id``, ``url_mismatch``, ``model_mismatch``, ``too_many_tasks``; plus
``missing_required_parameter`` and ``invalid_request`` for a wrong ``method``).

Output: a request whose answer is a whole JSON body with status 200 becomes an output
line ``{"id": "batch_req_...", "custom_id", "response": {"status_code": 200, "request_id",
"body": <chat.completion>}, "error": null}``; another status becomes the same shape in the
error file; an answer that never arrived whole (a dropped connection, a hang, truncated
JSON) becomes an error line ``{"response": null, "error": {"code", "message"}}``. The
``status_code: 0`` quirk and the shuffling of results are applied here too.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from typing import Any

from summarise.mock.config import Body
from summarise.mock.wire import Answer

Line = dict[str, Any]


@dataclass(frozen=True)
class BatchRequest:
    """One request of a batch, as its input line gave it."""

    line: int
    custom_id: str
    body: Body


def _problem(code: str, message: str, line: int | None, param: str | None = None) -> Line:
    return {"code": code, "message": message, "line": line, "param": param}


def read_input(
    data: bytes, endpoint: str, *, max_requests: int, max_problems: int = 100
) -> tuple[list[BatchRequest], list[Line]]:
    """The requests of an input file, and what is wrong with it (any problem fails the
    batch: then the requests are not to be run). Blank lines are skipped."""
    requests: list[BatchRequest] = []
    problems: list[Line] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if len(problems) >= max_problems:
            break
        if not raw.strip():
            continue
        try:
            item = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            item = None
        if not isinstance(item, dict):
            problems.append(
                _problem("invalid_json_line", "This line is not parseable as valid JSON.", number)
            )
            continue
        missing = [k for k in ("custom_id", "method", "url", "body") if k not in item]
        if missing:
            message = f"Missing required parameter: '{missing[0]}'."
            problems.append(_problem("missing_required_parameter", message, number, missing[0]))
            continue
        custom_id, body = item["custom_id"], item["body"]
        if not isinstance(custom_id, str) or not custom_id:
            message = "'custom_id' must be a non-empty string."
            problems.append(_problem("invalid_request", message, number, "custom_id"))
        elif custom_id in seen:
            message = f"The custom_id {custom_id!r} is used more than once in this file."
            problems.append(_problem("duplicate_custom_id", message, number, "custom_id"))
        elif item["method"] != "POST":
            message = f"Only POST is supported, not {item['method']!r}."
            problems.append(_problem("invalid_request", message, number, "method"))
        elif item["url"] != endpoint:
            message = f"The url {item['url']!r} does not match the batch's endpoint {endpoint!r}."
            problems.append(_problem("url_mismatch", message, number, "url"))
        elif not isinstance(body, dict):
            message = "'body' must be an object."
            problems.append(_problem("invalid_request", message, number, "body"))
        else:
            seen.add(custom_id)
            models.add(str(body.get("model")))
            if len(models) > 1:
                message = "Every request of a batch must use the same model."
                problems.append(_problem("model_mismatch", message, number, "body.model"))
            requests.append(BatchRequest(number, custom_id, body))
    if not requests and not problems:
        problems.append(_problem("empty_file", "The input file has no requests.", None))
    if len(requests) > max_requests:
        message = f"A batch may hold at most {max_requests} requests; this file has more."
        problems.append(_problem("too_many_tasks", message, None))
    return requests, problems


def result_line(request: BatchRequest, answer: Answer, number: int) -> tuple[Line, bool]:
    """The output- or error-file line for ``request``'s answer, and whether it is an output
    line (a whole JSON answer with status 200)."""
    request_id = f"req_mock{number:08d}"
    line: Line = {"id": f"batch_req_mock{number:08d}", "custom_id": request.custom_id}
    body: Any = None
    if answer.action in ("send", "trickle") and answer.status > 0:  # a slow answer is whole
        try:
            body = json.loads(answer.body)
        except ValueError:
            body = None
    if isinstance(body, dict):
        line["response"] = {"status_code": answer.status, "request_id": request_id, "body": body}
        line["error"] = None
        return line, answer.status == 200
    line["response"] = None
    line["error"] = {
        "code": "server_error",
        "message": "The request failed before a whole answer was produced (mock fault).",
    }
    return line, False


def status_zero(line: Line, draw: random.Random) -> Line:
    """The ``status_code: 0`` quirk of some error-file lines: the status is lost; half the
    time (``draw``) the error object is kept, else it is ``null`` as well."""
    response = line.get("response") or {}
    body = response.get("body") if isinstance(response, dict) else None
    error = line.get("error")
    if error is None and isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = {"code": body["error"].get("code"), "message": body["error"].get("message")}
    request_id = response.get("request_id") if isinstance(response, dict) else None
    return {
        **line,
        "response": {
            "status_code": 0,
            "request_id": request_id or line["id"].replace("batch_req_", "req_"),
            "body": body if isinstance(body, dict) else {},
        },
        "error": error if draw.random() < 0.5 else None,
    }


def shuffled(lines: list[Line], draw: random.Random) -> list[Line]:
    """``lines`` out of their order: a seeded shuffle, never the original order when there
    are two or more (so a client that trusts the order is caught every time)."""
    out = list(lines)
    draw.shuffle(out)
    if len(out) >= 2 and out == lines:
        out = out[1:] + out[:1]
    return out


def jsonl(lines: list[Line]) -> bytes:
    """Lines as a JSONL file (UTF-8, one object a line, a final newline)."""
    return b"".join(json.dumps(x, ensure_ascii=False).encode("utf-8") + b"\n" for x in lines)
