"""Record and replay raw model exchanges at the HTTP layer.

``--record DIR`` wraps the real transport and writes every exchange as it happens to
``DIR/<key>.json``; ``--replay DIR`` answers from those files and never opens a socket.
Because the files hold the raw HTTP responses, a replayed run goes through exactly the
same ``openai`` client parsing, validation and re-ask code as a live one.

The key is the SHA-256 of the canonical JSON of {method, path, body}: headers (and with
them the API key) never take part, and the key is never written.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import httpx2

from summarise.backends.openai.guards import read_capped

# Response headers worth keeping: enough for the client to behave as it did live.
_KEPT_HEADERS = {"content-type", "retry-after", "retry-after-ms", "x-request-id"}


class ReplayMiss(Exception):
    """No recorded exchange for a request in replay mode."""


def exchange_key(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(
        {"method": method.upper(), "path": path, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _request_parts(request: httpx2.Request) -> tuple[str, str, Any]:
    raw = request.content
    body: Any = json.loads(raw) if raw else None
    return request.method, request.url.path, body


def _write_atomic(path: Path, payload: dict[str, Any]) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, indent=1)
    os.replace(tmp, path)


class RecordingTransport(httpx2.AsyncBaseTransport):
    """Passes requests through to ``inner`` and stores each raw exchange."""

    def __init__(self, directory: Path, inner: httpx2.AsyncBaseTransport | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.inner = inner or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        method, path, body = _request_parts(request)
        response = await self.inner.handle_async_request(request)
        content = await read_capped(response)  # the client's size cap applies here too
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        _write_atomic(
            self.directory / f"{exchange_key(method, path, body)}.json",
            {
                "request": {"method": method, "path": path, "body": body},
                "response": {
                    "status": response.status_code,
                    "headers": headers,
                    "body": content.decode("utf-8", errors="replace"),
                },
            },
        )
        return httpx2.Response(response.status_code, headers=headers, content=content)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ReplayTransport(httpx2.AsyncBaseTransport):
    """Answers from recorded exchanges; a request that was never recorded raises."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"replay folder not found: {directory}")
        self.directory = directory

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        method, path, body = _request_parts(request)
        key = exchange_key(method, path, body)
        file = self.directory / f"{key}.json"
        if not file.is_file():
            raise ReplayMiss(
                f"no recorded exchange {key[:12]} for {method} {path} in {self.directory} "
                "(the prompt, model or article differs from the recording; re-record with --record)"
            )
        recorded = json.loads(file.read_text(encoding="utf-8"))["response"]
        return httpx2.Response(
            recorded["status"],
            headers=recorded.get("headers") or {},
            content=recorded["body"].encode("utf-8"),
        )
