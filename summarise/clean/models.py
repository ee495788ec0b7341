"""The cleaner's results: the article it keeps, the lines it drops, and its error."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, Field, TypeAdapter

from summarise.errors import ArticleError


class CleanError(ArticleError):
    """The input cannot be turned into an article (empty, binary, undecodable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, stage="clean")


class Removed(BaseModel):
    """A line dropped by the cleaner, with the reason."""

    line: int = Field(description="1-based line number in the decoded input.")
    text: str
    reason: str


_REMOVED: Final = TypeAdapter(list[Removed])


def removed_lines(lines: list[str], dropped: dict[int, str], suffix: str = "") -> list[Removed]:
    """``Removed`` records of the ``dropped`` lines (index -> reason), validated as one
    list: a page drops a hundred lines or more, and one model at a time costs twice as
    much."""
    rows = sorted(dropped.items())
    return _REMOVED.validate_python(
        [{"line": i + 1, "text": lines[i].strip(), "reason": reason + suffix} for i, reason in rows]
    )


class CleanArticle(BaseModel):
    """The article alone, as the model will see it."""

    title: str | None
    published: str | None = Field(description="ISO date (YYYY-MM-DD) or null.")
    dateline: str | None = Field(description="Place in a 'MOSCOW -' style dateline, or null.")
    text: str
    url: str | None = None
    removed: list[Removed] = Field(default_factory=list)
