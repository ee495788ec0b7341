"""The mock's Files and Batches routes, as the ``openai`` SDK calls them.

Files: ``POST /v1/files`` (multipart: ``purpose``, ``file``), ``GET /v1/files`` (``purpose``,
``order``, ``limit``, ``after``), ``GET /v1/files/{id}``, ``GET /v1/files/{id}/content``, ``DELETE
/v1/files/{id}``. Batches: ``POST /v1/batches``, ``GET /v1/batches`` (``limit``, ``after``),
``GET /v1/batches/{id}`` (which also moves the batch along: see ``batches``), ``POST
/v1/batches/{id}/cancel``. The same routes answer without the ``/v1`` prefix. Errors have
OpenAI's error shape: 400 for a bad request, 404 for an unknown id, 409 for cancelling a
batch that has ended.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

from summarise.mock.answers import error_body
from summarise.mock.batches import BatchStore, RunRequest
from summarise.mock.config import MockConfig
from summarise.mock.files import FILE_PURPOSES, FileStore, MultipartError, parse_multipart
from summarise.mock.wire import Answer, json_answer

BATCH_ENDPOINTS = frozenset({"/v1/chat/completions"})
"""Endpoints a mock batch may target (the only one the mock answers)."""
_ROOTS = ("files", "batches")


def _bad(message: str, param: str | None = None) -> Answer:
    body = error_body(400, message)
    body["error"]["param"] = param
    return json_answer(400, body)


def _not_found(kind: str, ident: str) -> Answer:
    return json_answer(404, error_body(404, f"No such {kind}: '{ident}'. (mock)", "not_found"))


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
    """A cursor page of ``items`` (already in list order): ``after`` an id, ``limit`` 1-100."""
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        return _bad("'limit' must be an integer.", "limit")
    if not 1 <= limit <= 100:
        return _bad("'limit' must be between 1 and 100.", "limit")
    after = query.get("after")
    if after is not None:
        ids = [item["id"] for item in items]
        if after not in ids:
            return _bad(f"No object with id {after!r} to list after.", "after")
        items = items[ids.index(after) + 1 :]
    page = items[:limit]
    return json_answer(
        200,
        {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": len(items) > limit,
        },
    )


class BatchApi:
    """Answers the Files and Batches routes; ``run`` answers each request of a batch."""

    def __init__(self, config: MockConfig, run: RunRequest) -> None:
        self.config = config
        self.files = FileStore()
        self.batches = BatchStore(config, self.files, run)
        self._busy = asyncio.Lock()  # one route at a time: a step never interleaves a cancel

    @staticmethod
    def handles(path: str) -> bool:
        """Whether ``path`` (without its query) is one of these routes."""
        parts = path.strip("/").split("/")
        if parts and parts[0] == "v1":
            parts = parts[1:]
        return bool(parts) and parts[0] in _ROOTS

    async def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], raw: bytes
    ) -> Answer:
        """The answer to one request on these routes."""
        parts = [p for p in path.strip("/").split("/") if p]
        if parts[0] == "v1":
            parts = parts[1:]
        params = {k: v[0] for k, v in parse_qs(query).items()}
        async with self._busy:
            if parts[0] == "files":
                answer = self._files_route(method, parts[1:], params, headers, raw)
            else:
                answer = await self._batches_route(method, parts[1:], params, raw)
        if answer is None:
            message = f"Unknown request URL: {method} {path}. (mock)"
            return json_answer(404, error_body(404, message, "unknown_url"))
        return answer

    # -- files -----------------------------------------------------------------------------

    def _files_route(
        self,
        method: str,
        rest: list[str],
        query: dict[str, str],
        headers: dict[str, str],
        raw: bytes,
    ) -> Answer | None:
        if not rest:
            if method == "POST":
                return self._upload(headers, raw)
            if method == "GET":
                files = [f.as_object() for f in self.files.all(query.get("purpose"))]
                return _page(files[::-1] if query.get("order") == "asc" else files, query)
            return None
        stored = self.files.get(rest[0])
        if len(rest) == 1 and method == "DELETE":
            if not self.files.delete(rest[0]):
                return _not_found("file", rest[0])
            return json_answer(200, {"id": rest[0], "object": "file", "deleted": True})
        if method != "GET" or len(rest) > 2 or (len(rest) == 2 and rest[1] != "content"):
            return None
        if stored is None:
            return _not_found("file", rest[0])
        if len(rest) == 1:
            return json_answer(200, stored.as_object())
        return Answer(200, stored.data, {"content-type": "application/octet-stream"})

    def _upload(self, headers: dict[str, str], raw: bytes) -> Answer:
        content_type = headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return _bad("Uploads must be multipart/form-data.")
        try:
            fields = parse_multipart(content_type, raw)
        except MultipartError as exc:
            return _bad(f"Could not read the upload: {exc}.")
        upload, purpose = fields.get("file"), fields.get("purpose")
        if upload is None or upload.filename is None:
            return _bad("Missing required parameter: 'file'.", "file")
        if purpose is None:
            return _bad("Missing required parameter: 'purpose'.", "purpose")
        name = purpose.value.decode("utf-8", "replace")
        if name not in FILE_PURPOSES:
            return _bad(f"Invalid value for 'purpose': {name!r}.", "purpose")
        if name == "batch" and not upload.filename.endswith(".jsonl"):
            message = f"Invalid file format for Batch API: {upload.filename!r} is not .jsonl."
            return _bad(message, "file")
        stored = self.files.add(upload.filename, name, upload.value)
        return json_answer(200, stored.as_object())

    # -- batches ---------------------------------------------------------------------------

    async def _batches_route(
        self, method: str, rest: list[str], query: dict[str, str], raw: bytes
    ) -> Answer | None:
        if not rest:
            if method == "POST":
                return self._create(raw)
            if method == "GET":
                return _page([b.as_object() for b in self.batches.all()], query)
            return None
        batch = self.batches.get(rest[0])
        if len(rest) == 1 and method == "GET":
            if batch is None:
                return _not_found("batch", rest[0])
            await self.batches.poll(batch)
            return json_answer(200, batch.as_object())
        if len(rest) == 2 and rest[1] == "cancel" and method == "POST":
            if batch is None:
                return _not_found("batch", rest[0])
            if not self.batches.cancel(batch) and batch.status != "cancelling":
                message = f"Cannot cancel a batch with status '{batch.status}'. (mock)"
                return json_answer(409, error_body(409, message, "batch_not_cancellable"))
            return json_answer(200, batch.as_object())
        return None

    def _create(self, raw: bytes) -> Answer:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            return _bad("The body is not valid JSON.")
        if not isinstance(body, dict):
            return _bad("The body must be a JSON object.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                return _bad(f"Missing required parameter: '{name}'.", name)
        endpoint, window = body["endpoint"], body["completion_window"]
        if endpoint not in BATCH_ENDPOINTS:
            supported = ", ".join(sorted(BATCH_ENDPOINTS))
            message = f"The mock runs batches for {supported} only, not {endpoint!r}."
            return _bad(message, "endpoint")
        if window != "24h":
            return _bad("Only '24h' is supported for 'completion_window'.", "completion_window")
        stored = self.files.get(body["input_file_id"])
        if stored is None:
            return _not_found("file", body["input_file_id"])
        if stored.purpose != "batch":
            message = f"The input file's purpose is {stored.purpose!r}, not 'batch'."
            return _bad(message, "input_file_id")
        metadata = body.get("metadata")
        problem = _metadata_problem(metadata)
        if problem is not None:
            return _bad(problem, "metadata")
        batch = self.batches.create(stored.id, endpoint, window, metadata)
        return json_answer(200, batch.as_object())


def _metadata_problem(metadata: Any) -> str | None:
    """What is wrong with a batch's ``metadata`` (at most 16 string pairs; keys up to 64
    characters, values up to 512), or ``None``."""
    if metadata is None:
        return None
    if not isinstance(metadata, dict):
        return "'metadata' must be an object."
    if len(metadata) > 16:
        return "'metadata' may hold at most 16 pairs."
    for key, value in metadata.items():
        if not isinstance(value, str) or len(key) > 64 or len(value) > 512:
            return f"Invalid metadata pair {key!r}: keys up to 64 characters, values up to 512."
    return None
