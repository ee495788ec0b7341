"""Prompt: loads ``prompts/*.md`` and builds the chat messages for one article.

The static part (instructions, definitions, the JSON Schema) is the system message and is
byte-identical for every article, so provider-side prompt caching applies. The article
comes last, inside ``<article>`` delimiters, as data. ``PROMPT_VERSION`` is a content hash
of everything static, so a feed line says exactly which prompt produced it.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from summarise.schema import MAX_PARTICIPANTS, MAX_QUOTES, model_facing_schema

Message = dict[str, str]

# Installed wheels carry the prompts inside the package; a source checkout has them at the
# repository root (the design card's layout).
_CANDIDATES = (Path(__file__).parent / "prompts", Path(__file__).parent.parent / "prompts")

# An article that contains our delimiters in any case or spacing ("</ARTICLE>",
# "< /article >", "<article id=x>") must not be able to end the data block: a zero-width
# space goes before the ">" ("</article>" -> "</article\u200b>"). Nothing else changes.
_DELIMITER = re.compile(r"<\s*/?\s*article(?:\s[^<>]{0,80})?>", re.IGNORECASE)
_ESCAPE = "\u200b"


def prompts_dir() -> Path:
    for candidate in _CANDIDATES:
        if (candidate / "system.md").is_file():
            return candidate
    raise FileNotFoundError("prompt files not found (looked in: summarise/prompts, ./prompts)")


@dataclass(frozen=True)
class Prompts:
    """The prompt texts, loaded once."""

    system: str
    user: str
    reask: str
    truncated: str

    @property
    def version(self) -> str:
        digest = hashlib.sha256()
        for part in (self.system, self.user, self.reask, self.truncated):
            digest.update(part.encode("utf-8"))
            digest.update(b"\0")
        return digest.hexdigest()[:12]


@cache
def load_prompts() -> Prompts:
    folder = prompts_dir()
    schema = json.dumps(model_facing_schema(), separators=(",", ":"), sort_keys=True)
    system = (folder / "system.md").read_text(encoding="utf-8").replace("{schema}", schema)
    return Prompts(
        system=system.rstrip("\n"),
        user=(folder / "user.md").read_text(encoding="utf-8").rstrip("\n"),
        reask=(folder / "reask.md").read_text(encoding="utf-8").rstrip("\n"),
        truncated=(folder / "truncated.md").read_text(encoding="utf-8").rstrip("\n"),
    )


def prompt_version() -> str:
    """Content hash of the static prompt (instructions + schema)."""
    return load_prompts().version


def escape_article(text: str) -> str:
    """The text with every ``<article>`` / ``</article>`` look-alike defused."""
    return _DELIMITER.sub(_escape_delimiter, text)


def _escape_delimiter(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found.endswith(f"{_ESCAPE}>") else f"{found[:-1]}{_ESCAPE}>"


def build_messages(
    text: str,
    *,
    title: str | None = None,
    published: str | None = None,
    system_in_user: bool = False,
) -> list[Message]:
    """Messages for one article. ``system_in_user`` serves chat templates that drop
    system messages (Gemma): the instructions then open the user turn, still first."""
    prompts = load_prompts()
    user = prompts.user.format_map(
        {
            "title": escape_article(title or "(none)"),
            "published": published or "(unknown)",
            "text": escape_article(text),
        }
    )
    if system_in_user:
        return [{"role": "user", "content": f"{prompts.system}\n\n{user}"}]
    return [{"role": "system", "content": prompts.system}, {"role": "user", "content": user}]


def reask_message(problem: str) -> Message:
    """Follow-up after an answer that was not valid JSON or failed validation."""
    return {"role": "user", "content": load_prompts().reask.format_map({"problem": problem})}


def truncated_message() -> Message:
    """Follow-up after an answer cut off at the token limit: ask for less."""
    limits = {"max_quotes": MAX_QUOTES // 3, "max_items": MAX_PARTICIPANTS // 4}
    return {"role": "user", "content": load_prompts().truncated.format_map(limits)}
