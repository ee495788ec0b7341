"""HTTP/1.1 on the wire for the mock: parsing requests, writing answers, dropping connections.

Just enough of HTTP/1.1 for the ``openai`` client: keep-alive, ``Content-Length`` and
chunked request bodies, a TCP reset half-way through a body for the ``reset`` fault, and
the slow or endless answers of the ``silent``/``trickle``/``endless`` actions.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import math
import socket
import struct
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["send", "reset", "hang", "silent", "trickle", "endless"]


@dataclass
class Answer:
    """One HTTP answer. ``action``: ``send`` it whole; ``reset``/``hang`` drop the connection
    instead; ``silent`` says nothing until the client hangs up; ``trickle`` sends it one
    byte every ``interval_s``; ``endless`` streams ``body`` then whitespace up to ``size``
    bytes, chunked."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    action: Action = "send"
    interval_s: float = 0.0
    size: int = 0


def json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    """An answer whose body is ``value`` as JSON."""
    return Answer(status, json.dumps(value, ensure_ascii=False).encode("utf-8"), headers or {})


def seconds_headers(seconds: float) -> dict[str, str]:
    """``Retry-After`` and ``retry-after-ms`` for ``seconds`` (rounded up to a millisecond)."""
    ms = max(0, math.ceil(seconds * 1000))
    return {"retry-after": f"{ms / 1000:g}", "retry-after-ms": str(ms)}


class BadRequest(Exception):
    """A request the mock cannot parse (answered with 400 and the connection closed)."""


def parse_head(head: bytes) -> tuple[str, str, dict[str, str], bool]:
    """(method, target, lower-cased headers, keep-alive) of a request head."""
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError as exc:
        raise BadRequest(f"malformed request line: {lines[0][:80]!r}") from exc
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    return method.upper(), target, headers, keep_alive


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """The request body, by ``Content-Length`` or chunked transfer encoding."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest("malformed chunk size") from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError as exc:
        raise BadRequest("malformed Content-Length") from exc
    return await reader.readexactly(length) if length > 0 else b""


def _head(answer: Answer, keep_alive: bool, *, chunked: bool = False) -> bytes:
    try:
        phrase = http.HTTPStatus(answer.status).phrase
    except ValueError:
        phrase = "Unknown"
    extra = {k.lower(): v for k, v in answer.headers.items()}
    lines = [
        f"HTTP/1.1 {answer.status} {phrase}",
        f"content-type: {extra.pop('content-type', 'application/json')}",
        "transfer-encoding: chunked" if chunked else f"content-length: {len(answer.body)}",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
        *(f"{k}: {v}" for k, v in extra.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(writer: asyncio.StreamWriter, answer: Answer, keep_alive: bool) -> None:
    """Write ``answer`` whole."""
    writer.write(_head(answer, keep_alive) + answer.body)
    await writer.drain()


async def send_partial_then_reset(writer: asyncio.StreamWriter, answer: Answer) -> None:
    """Headers and half the body, then a TCP reset: a connection dropped mid-body."""
    writer.write(_head(answer, True) + answer.body[: len(answer.body) // 2])
    await writer.drain()
    await asyncio.sleep(0.02)  # let the partial body leave before the RST discards it
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


_CHUNK = 64 * 1024


async def wait_for_hangup(reader: asyncio.StreamReader) -> None:
    """Say nothing until the client closes the connection (or the server stops)."""
    while await reader.read(_CHUNK):
        pass


async def send_trickle(writer: asyncio.StreamWriter, answer: Answer) -> None:
    """The head, then the body one byte every ``answer.interval_s``; ends early if the
    client hangs up. Bounded: ``len(answer.body)`` bytes at most."""
    writer.write(_head(answer, False))
    await writer.drain()
    for i in range(len(answer.body)):
        if writer.is_closing():
            return
        await asyncio.sleep(answer.interval_s)
        writer.write(answer.body[i : i + 1])
        await writer.drain()


async def send_endless(writer: asyncio.StreamWriter, answer: Answer) -> None:
    """``answer.body`` then whitespace, ``answer.size`` bytes in all, as 64 KiB chunks of
    one reused buffer (so a 1 GiB answer costs the server no memory); ends early if the
    client hangs up."""
    writer.write(_head(answer, False, chunked=True))
    filler = b" " * _CHUNK
    frame = f"{_CHUNK:x}\r\n".encode() + filler + b"\r\n"
    if answer.body:  # an empty chunk would end the body
        writer.write(f"{len(answer.body):x}\r\n".encode() + answer.body + b"\r\n")
    for _ in range(max(0, answer.size - len(answer.body)) // _CHUNK):
        if writer.is_closing():
            return
        writer.write(frame)
        await writer.drain()
    writer.write(b"0\r\n\r\n")
    await writer.drain()
