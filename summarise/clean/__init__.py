"""Clean: RawArticle -> CleanArticle (title, date, body, and what was removed).

The model should see the article and nothing else: navigation, share buttons, related
stories, footers and mojibake cost tokens and accuracy. Two paths:

* **Plain text** (scrapes, page dumps, ``lines``) has no markup to lean on, so each line
  is scored for how much it reads like article prose (length, sentence shape, lower-case
  words, whether its neighbours are prose too) and the body is the contiguous run of
  lines with the highest total score (a maximum-sum subsequence), never crossing an
  end-of-article marker. Lines inside it that are furniture (share buttons, a repeated
  caption, the headline, a dateline) are dropped on their own.
* **HTML** (``html``) goes through ``trafilatura`` (body, title, date, url); its output
  then passes the same end-of-article and boilerplate rules, which catch the credit
  lines and related-story lists it sometimes keeps.

Every dropped line is kept in ``CleanArticle.removed`` with its reason, for
``summarise clean --explain``. Kept text is the source's own characters after ``ftfy``
repairs mojibake (``decode``): curly quotes and apostrophes are never straightened,
because quotes are matched verbatim later. Paragraphs are separated by a blank line.

Site-specific strings live in ``summarise.clean.boilerplate`` (data), not in code.
"""

from __future__ import annotations

from summarise.clean.decode import decode, repair
from summarise.clean.html import clean_html
from summarise.clean.lines import clean_text
from summarise.clean.models import CleanArticle, CleanError, Removed
from summarise.ingest import RawArticle
from summarise.text.dates import parse_date

__all__ = ["CleanArticle", "CleanError", "Removed", "clean", "clean_text", "decode", "explain"]


def clean(raw: RawArticle) -> CleanArticle:
    """Decode and clean one raw article; raises ``CleanError`` for unusable input.

    Title, date and url that a JSONL export already carries win over detected ones.
    """
    if raw.error is not None:
        raise CleanError(raw.error, raw.message or raw.error)
    text = decode(raw.data)
    if raw.kind == "html" or _looks_like_html(text):
        article = clean_html(text, raw.url, raw.title)  # repairs the extracted text only
    else:
        article = clean_text(repair(text), title=raw.title)
    if not article.text:
        raise CleanError(
            "no_article", "no article text found: every line looked like page furniture"
        )
    if raw.title:
        article.title = raw.title
    if raw.published:
        article.published = parse_date(raw.published) or article.published
    if raw.url:
        article.url = raw.url
    return article


def _looks_like_html(text: str) -> bool:
    head = text[:1024].lstrip().lower()
    return head.startswith(("<!doctype html", "<html"))


def explain(article: CleanArticle) -> str:
    """A human-readable account of what was kept and every line dropped, with why."""
    kept = article.text.count("\n\n") + 1 if article.text else 0
    out = [
        f"title:     {article.title or '-'}",
        f"published: {article.published or '-'}",
        f"dateline:  {article.dateline or '-'}",
        f"url:       {article.url or '-'}",
        f"kept {kept} paragraphs ({len(article.text)} chars);"
        f" dropped {len(article.removed)} lines:",
    ]
    width = max((len(r.reason) for r in article.removed), default=0)
    for r in article.removed:
        text = r.text if len(r.text) <= 90 else r.text[:89] + "…"
        out.append(f"  {r.line:>5}  {r.reason:<{width}}  | {text}")
    return "\n".join(out)
