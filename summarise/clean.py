"""Clean: RawArticle -> CleanArticle (title, date, body, and what was removed).

PLACEHOLDER INTERFACE: the full cleaner (issue 3) replaces the body of ``clean``.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from summarise.ingest import RawArticle


class CleanError(Exception):
    """The input cannot be turned into an article (empty, binary, undecodable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Removed(BaseModel):
    """A line dropped by the cleaner, with the reason."""

    line: int = Field(description="1-based line number in the decoded input.")
    text: str
    reason: str


class CleanArticle(BaseModel):
    """The article alone, as the model will see it."""

    title: str | None
    published: str | None = Field(description="ISO date (YYYY-MM-DD) or null.")
    dateline: str | None = Field(description="Place in a 'MOSCOW -' style dateline, or null.")
    text: str
    url: str | None = None
    removed: list[Removed] = Field(default_factory=list)


def clean(raw: RawArticle) -> CleanArticle:
    """Decode and clean one raw article; raises ``CleanError`` for unusable input."""
    if not raw.data.strip():
        raise CleanError("empty", "the input is empty")
    text = raw.data.decode("utf-8", errors="replace")
    return CleanArticle(
        title=raw.title, published=raw.published, dateline=None, text=text.strip(), url=raw.url
    )
