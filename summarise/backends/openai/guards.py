"""Bounds on what one HTTP exchange with a model server may cost: time and memory.

httpx's timeouts apply per phase and per chunk, so a server that accepts a connection and
never answers, or trickles a byte a second, is never timed out by them alone. Every model
call therefore runs under a wall-clock ``deadline`` covering connect, the wait and the
whole body; a deadline hit is a transient ``timeout``. Every response body is read through
a counting stream that aborts past ``MAX_RESPONSE_BYTES``, so a runaway body costs at most
that much memory; an over-cap body is a transient ``bad_response``.

    async with deadline(5.0, "--timeout"):
        completion = await openai_client.post(...)
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx2

MAX_RESPONSE_BYTES = 32 * 2**20
"""The largest response body read from a server (any route, ``/models`` included). A chat
completion holding a summary is a few kB; 32 MiB leaves room for verbose servers."""


class DeadlineExceeded(Exception):
    """A model call got no complete answer within its wall-clock deadline."""

    def __init__(self, seconds: float, setting: str) -> None:
        self.seconds = seconds
        super().__init__(f"no complete answer within {seconds:g} s ({setting})")


class ResponseTooLarge(Exception):
    """A response body was larger than ``MAX_RESPONSE_BYTES``: not read any further."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        size = f"{declared} bytes declared" if declared is not None else "more than that sent"
        super().__init__(f"response body over the {limit // 2**20} MiB limit ({size})")


@asynccontextmanager
async def deadline(seconds: float, setting: str) -> AsyncIterator[None]:
    """Run the block within ``seconds`` of wall-clock time, else raise ``DeadlineExceeded``
    (``setting`` names the option that sets it, for the message)."""
    scope = asyncio.timeout(seconds)
    try:
        async with scope:
            yield
    except TimeoutError as exc:
        if scope.expired():
            raise DeadlineExceeded(seconds, setting) from exc
        raise


class _CappedStream(httpx2.AsyncByteStream):
    """Passes a response body through, raising ``ResponseTooLarge`` once past ``limit``."""

    def __init__(self, inner: httpx2.AsyncByteStream, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in self._inner:
            seen += len(chunk)
            if seen > self._limit:
                raise ResponseTooLarge(self._limit)
            yield chunk

    @property
    def elapsed(self) -> datetime.timedelta | None:
        """What httpx's own stream measured (``Response.elapsed`` reads it from here)."""
        value: datetime.timedelta | None = getattr(self._inner, "elapsed", None)
        return value

    async def aclose(self) -> None:
        await self._inner.aclose()


async def cap_response_body(response: httpx2.Response) -> None:
    """An httpx response hook: refuse a body declared too large, count the rest as it is
    read. Runs before the body is read (httpx closes the response if this raises)."""
    limit = MAX_RESPONSE_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ResponseTooLarge(limit, int(declared))
    stream = response.stream
    if isinstance(stream, httpx2.AsyncByteStream):
        response.stream = _CappedStream(stream, limit)


async def read_capped(response: httpx2.Response) -> bytes:
    """The whole body of a streamed ``response``, at most ``MAX_RESPONSE_BYTES``."""
    try:
        await cap_response_body(response)
        return await response.aread()
    except BaseException:
        await response.aclose()
        raise
