"""HTML: the article from a web page, via ``trafilatura``, trimmed by the line rules.

trafilatura finds the body and the metadata; what it keeps past the article's end
(credit lines, related-story lists) is dropped by the same tables the plain-text path
uses (``lines``).
"""

from __future__ import annotations

from html.parser import HTMLParser

from summarise.clean.decode import repair
from summarise.clean.lines import (
    SEPARATED,
    LineResult,
    clean_text,
    inline_dateline,
    mark_units,
    normal_key,
    split_units,
)
from summarise.clean.models import CleanArticle, CleanError, removed_lines
from summarise.text.dates import parse_date


def clean_html(html: str, url: str | None, title: str | None) -> CleanArticle:
    """trafilatura extracts body and metadata; the text rules then trim what it kept."""
    import trafilatura  # imported here: it is slow to import and only HTML needs it
    from trafilatura.settings import Document

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        include_tables=True,
        date_extraction_params={"original_date": True},
    )
    if not isinstance(doc, Document) or not doc.text:
        # Too little for trafilatura to call it an article: its plain text, cleaned as text.
        plain = trafilatura.html2txt(html) or ""
        if not plain.strip():
            return _clean_deep_html(html, title)
        return clean_text(repair(plain), title=title)
    found_title = title or _strip_site(doc.title, doc.sitename)
    lines = repair(doc.text).split("\n")
    result = _trim_extracted(lines, found_title)
    removed = removed_lines(lines, result.dropped, " (in extracted text)")
    return CleanArticle(
        title=found_title,
        published=parse_date(doc.date or "") or result.published,
        dateline=result.dateline,
        text="\n\n".join(u.text for u in result.kept),
        url=doc.url or url,
        removed=removed,
    )


def _trim_extracted(lines: list[str], title: str | None) -> LineResult:
    """Drop what an HTML extractor kept past the article's end, and furniture lines."""
    units = split_units(lines, 0)
    result = LineResult(units=units, title=title)
    mark_units(units, title)
    # An end marker ends the article only past half of its words: trafilatura has already
    # cut the page down to the article, and notices like "© AP" can sit near the top.
    total = sum(u.words for u in units)
    end, seen = len(units), 0
    for pos, unit in enumerate(units):
        if unit.barrier is not None and seen >= total / 2:
            end = pos
            break
        seen += unit.words
    title_key = normal_key(title) if title else None
    for pos, unit in enumerate(units):
        reason: str | None = None
        if pos < 3 and title_key is not None and unit.key == title_key:
            reason = "title"
        elif pos >= end:
            reason = f"end of article: {unit.barrier}" if pos == end else "after the article"
        elif unit.barrier is not None:
            reason = f"boilerplate: {unit.barrier}"  # a notice above the end, not the end
        elif unit.related:
            reason = "related stories"
        elif unit.drop is not None and not unit.drop.startswith("boilerplate: separator"):
            reason = unit.drop
        if reason is None:
            result.kept.append(unit)
        else:
            for i in range(unit.first, unit.last + 1):
                if lines[i].strip():
                    result.dropped[i] = reason
    for unit in result.kept[:1]:
        result.dateline = inline_dateline(unit.text)
    return result


def _strip_site(title: str | None, site: str | None) -> str | None:
    """'Headline | Site' -> 'Headline' when the last part is the site's name."""
    if not title:
        return None
    parts = SEPARATED.split(title)
    if (
        len(parts) > 1
        and site
        and normal_key(parts[-1]) in {normal_key(site), normal_key(site) + ".com"}
    ):
        return title[: title.rfind(parts[-1])].rstrip(" |-–—:·•»/")
    return title


# libxml2 (under trafilatura) gives up on pages nested deeper than this: it returns nothing.
_PARSER_DEPTH = 255
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
    "p", "pre", "section", "table", "td", "th", "tr", "ul",
})
_VOID_TAGS = frozenset({
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
    "source", "track", "wbr",
})
# fmt: on
_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head"})


class _FlatText(HTMLParser):
    """A page's text, one line per block element, and how deep its elements nest.

    ``html.parser`` keeps no tree, so any depth costs the same; lxml stops at 256.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.depth = self.max_depth = self.skipping = 0
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID_TAGS:
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
            self.skipping += tag in _SKIP_TAGS
            self.in_title = tag == "title"
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag not in _VOID_TAGS:
            self.in_title = False
            self.depth = max(0, self.depth - 1)
            self.skipping = max(0, self.skipping - (tag in _SKIP_TAGS))
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title += data
        elif not self.skipping:
            self.parts.append(data)


def _clean_deep_html(html: str, title: str | None) -> CleanArticle:
    """A page lxml could not parse (nested too deep): its text by ``html.parser``.

    Raises ``CleanError`` ``html_too_deep`` when even that finds no article in it.
    """
    parser = _FlatText()
    parser.feed(html)
    parser.close()
    if parser.max_depth <= _PARSER_DEPTH:
        return clean_text("", title=title)  # not too deep: nothing there to read
    text = "\n".join(line.strip() for line in "".join(parser.parts).split("\n"))
    article = clean_text(repair(text), title=title or repair(parser.title.strip()) or None)
    if not article.text:
        raise CleanError(
            "html_too_deep",
            f"the page nests elements {parser.max_depth} levels deep (an HTML parser"
            f" reads {_PARSER_DEPTH}) and no article text was found in it",
        )
    return article
