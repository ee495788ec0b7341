"""De-duplication: identical article content is sent to the model once per recent window
(the same article in two inputs, or wire copy carried by several outlets word for word)."""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict

from summarise.backends.base import Backend, BackendRecipe, Extraction
from summarise.clean import CleanArticle

DEDUP_WINDOW = 10_000


class DeduplicatingBackend:
    """Sends identical article content to the wrapped backend once per recent window."""

    def __init__(self, inner: Backend, window: int = DEDUP_WINDOW) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.endpoint = inner.endpoint
        self.prompt_version = inner.prompt_version
        self.window = window
        self.hits = 0
        self._seen: OrderedDict[str, asyncio.Future[tuple[Extraction, str]]] = OrderedDict()

    async def start(self) -> None:
        await self.inner.start()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def describe(self) -> str | None:
        return self.inner.describe()

    def worker_recipe(self, workers: int) -> BackendRecipe | None:
        return self.inner.worker_recipe(workers)

    async def summarise(self, article: CleanArticle) -> tuple[Extraction, str]:
        key = hashlib.sha256(
            "\0".join((article.title or "", article.published or "", article.text)).encode()
        ).hexdigest()
        if key in self._seen:
            self.hits += 1
            self._seen.move_to_end(key)
            return await asyncio.shield(self._seen[key])
        future: asyncio.Future[tuple[Extraction, str]] = asyncio.get_running_loop().create_future()
        self._seen[key] = future
        if len(self._seen) > self.window:
            self._seen.popitem(last=False)
        try:
            result = await self.inner.summarise(article)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: duplicates may never ask
            raise
        future.set_result(result)
        return result
