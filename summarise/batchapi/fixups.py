"""``collect --sync-fixups``: the few re-asks of a round answered at once, not next round.

Each re-ask goes through ``ModelClient`` (the synchronous path's client: retries,
deadlines, validation, further re-asks) with the conversation the batch answer left,
``Attempts.conversation``, and only the attempts the article has left. The response
format is forced to strict ``json_schema``, as in the batch bodies (no probe of shapes).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from summarise.backends.base import Extraction
from summarise.backends.openai.client import ModelClient
from summarise.batchapi.collect import Fixer, Fixes
from summarise.batchapi.ledger import Entry
from summarise.config import EndpointConfig
from summarise.errors import ArticleError

FIXUP_CONCURRENCY = 8


def sync_fixer(config: EndpointConfig, max_attempts: int) -> Fixer:
    """A ``Fixer`` that asks ``config``'s endpoint, within ``max_attempts`` per article."""

    async def fix(entries: Sequence[Entry]) -> Fixes:
        clients: dict[int, ModelClient] = {}
        slots = asyncio.Semaphore(FIXUP_CONCURRENCY)

        def client_for(left: int) -> ModelClient:
            if left not in clients:
                forced = dataclasses.replace(
                    config, max_attempts=left, response_format="json_schema"
                )
                clients[left] = ModelClient(forced)
            return clients[left]

        async def one(entry: Entry) -> tuple[Entry, Extraction | ArticleError]:
            left = max(1, max_attempts - entry.attempts.made)
            async with slots:
                try:
                    found = await client_for(left).extract(entry.attempts.conversation)
                except ArticleError as exc:
                    return entry, exc
            return entry, found

        try:
            return list(await asyncio.gather(*(one(e) for e in entries)))
        finally:
            for client in clients.values():
                await client.aclose()

    return fix
