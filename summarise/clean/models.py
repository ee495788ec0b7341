"""The cleaner's results: the article it keeps, the lines it drops, and its error."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, Field, SkipValidation

from summarise.errors import ArticleError


class CleanError(ArticleError):
    """The input cannot be turned into an article (empty, binary, undecodable)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, stage="clean")


class Removed(NamedTuple):
    """A line dropped by the cleaner, with the reason (a plain tuple: a page drops a
    hundred lines or more, and only ``summarise clean`` reads them)."""

    line: int
    """1-based line number in the decoded input."""
    text: str
    reason: str


def removed_lines(lines: list[str], dropped: dict[int, str], suffix: str = "") -> list[Removed]:
    """``Removed`` records of the ``dropped`` lines (index -> reason), in line order."""
    return [
        Removed(i + 1, lines[i].strip(), reason + suffix) for i, reason in sorted(dropped.items())
    ]


class CleanArticle(BaseModel):
    """The article alone, as the model will see it."""

    title: str | None
    published: str | None = Field(description="ISO date (YYYY-MM-DD) or null.")
    dateline: str | None = Field(description="Place in a 'MOSCOW -' style dateline, or null.")
    text: str
    url: str | None = None
    removed: SkipValidation[list[Removed]] = Field(default_factory=list)
    """Built by the cleaner itself, so not validated again (it is most of a page)."""
