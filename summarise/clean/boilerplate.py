"""Boilerplate: the site strings and markers the cleaner knows, as one table of data.

The cleaner (``summarise.clean``) works mostly from general signals (sentence shape, position,
repetition, density of prose); this module holds the few phrases that those signals
cannot see, so that adding a site's quirk is a one-line change here and never a new
branch in code. Every pattern is matched case-insensitively against a whole line after
its surrounding whitespace is stripped, or, for a few rows, anywhere in a short line.

* ``BOILERPLATE``: lines that are never article text wherever they appear (navigation,
  share buttons, photo credits, taxonomy, comment notices). Dropped, never a boundary.
* ``END_MARKERS``: lines after which the article is over (related-story lists, credit
  lines, comment sections, footers). The body never extends past one.
* ``RELATED``: headers of related-story boxes, which sites also put inside articles.
* ``HEADER_KEYS``: ``Key: value`` lines at the top of plain-text exports.
* ``NOT_PLACES``: capitalised words that start a line like a dateline but are no place.
* ``PROMPT_ROLES``: words that label a turn in a chat prompt ("SYSTEM:"): in an article
  they are text (often an injection attempt), never a dateline, a headline or metadata.

Month names are in ``summarise.text.vocabulary``: dates are read by ``summarise.text.dates``.
"""

from __future__ import annotations

import re
from string import ascii_lowercase
from typing import Final, Literal

_SHARE = (
    r"facebook|twitter|x|linkedin|whatsapp|pinterest|reddit|tumblr|telegram|email|e-mail"
    r"|print|copy link|flipboard|messenger|sms|mail"
)

# Each row is (pattern, label, where): where "line", the pattern must match the whole line;
# otherwise ``where`` is a lower-case word the line must contain, and the pattern may match
# anywhere in it (a credit line, a copyright notice). The word keeps the search cheap.
Row = tuple[str, str, str]

#: Lines that are page furniture wherever they occur: dropped, never a boundary.
BOILERPLATE: Final[tuple[Row, ...]] = (
    (
        r"skip to (the )?(main )?(content|navigation|article)|jump to (main )?content",
        "navigation",
        "line",
    ),
    (
        r"(toggle |open |close )?(menu|navigation|search|home|back to top|main menu)",
        "navigation",
        "line",
    ),
    (r"(loading|please wait)(\.\.\.|…)?", "navigation", "line"),
    (
        r"(share|share this|share this (article|story|page|post))( on .{1,30})?:?",
        "share button",
        "line",
    ),
    (rf"({_SHARE})( (this|share))?", "share button", "line"),
    (
        r"tweet|pin it|like|follow us( on .{1,30})?|comment|comments|save|bookmark",
        "share button",
        "line",
    ),
    (
        r"advertisement|advertising|sponsored( content)?|ad|adv"
        r"|story continues below( advertisement)?",
        "advertisement",
        "line",
    ),
    (
        r"(photo|image|picture|video) ?(credit|copyright|caption|source)s?\b.{0,80}",
        "photo credit",
        "line",
    ),
    (r"(getty images|afp|reuters|ap photo|ap|shutterstock)( via .{1,40})?", "photo credit", "line"),
    (r"(©|\(c\))\s*[^\d\s].{0,60}", "photo credit", "line"),
    (
        r"sign in|log in|login|sign up|register|subscribe( now)?|my account|log out|logout",
        "account link",
        "line",
    ),
    (
        r"(read more|continue reading|see more|show more|load more|view more|view all|click here)"
        r"( to .{1,60})?[.!]?",
        "link",
        "line",
    ),
    (r"(categories|category|tags?|filed under|topics?|keywords)\s*:.*", "taxonomy", "line"),
    (r"do you want to report an error.{0,60}", "error report link", "line"),
    (
        r"\b(comment section|comments section|comments) (is |are )?(now )?closed\b",
        "comments notice",
        "closed",
    ),
    (r"[-–—•|·*_=~#>»›]+", "separator", "line"),
    # French pages. Accented letters are written "." in whole-line rows so that the
    # rows stay lower-case ASCII (``_Tables``' fast path); the line is matched whole.
    (
        r"partager( (sur|cet article|l.article|par e-?mail).{0,30})?|imprimer|envoyer"
        r"|r.agir|commenter|suivre|ajouter . vos s.lections",
        "share button",
        "line",
    ),
    (
        r"abonnez-vous( .{1,60})?|s.abonner|se connecter|connexion|d.connexion|mon compte"
        r"|cr.er un compte|d.j. abonn.\s*\??",
        "account link",
        "line",
    ),
    (
        r"(cet )?(article )?(est )?r.serv. aux abonn.s|offre (d.couverte|sp.ciale).{0,60}",
        "paywall notice",
        "line",
    ),
    (r"publicit.", "advertisement", "line"),
    (r"(cr.dits? photos?|photos?|illustration|images?)\s*:\s*.{1,80}", "photo credit", "line"),
    (
        r"(publi.|mis . jour|modifi.|actualis.)( le)? .{0,30}\d{4}.{0,60}",
        "publication date",
        "line",
    ),
)

#: The article is over at a line like these: nothing after one is taken as article text
#: once the article has begun.
END_MARKERS: Final[tuple[Row, ...]] = (
    (r"more( [a-z&.'-]+){0,3} (news|stories|headlines)", "related stories", "line"),
    (r"(\S+ ){0,3}top (stories|news|headlines)( (in|from|on) .{1,40})?", "related stories", "line"),
    (r"local spotlight", "related stories", "line"),
    (r"(with|with files|files) from .{2,80}", "credit line", "line"),
    # "Le Monde avec AFP", "(avec Reuters)": the French credit line.
    (
        r"\(?(.{1,40} )?avec (l.)?(afp|reuters|ap|belga|ats|dpa|ansa)( et .{1,40})?\)?",
        "credit line",
        "line",
    ),
    (r"\bcontributed (reporting )?to this (report|story|article)\b", "credit line", "contributed"),
    (
        r"(\[\s*)?(\d+ )?(comments?|responses?|replies)( \(\d+\))?(\s*\])?"
        r"|(leave|post|add|write) a (comment|reply|response)|join the (discussion|conversation)"
        r"|(top rated|most recent|show|view|load) comments"
        r"|\d+ (comments?|responses?|replies) (to|on|for) .{1,200}"
        r"|(comments|conversation) (are|is) (closed|open)|discussion",
        "comments",
        "line",
    ),
    (r"(copyright|\(c\))\s*(©\s*)?\d{4}\b", "footer", "copyright"),
    (r"©\s*\d{4}\b", "footer", "©"),
    (r"\ball rights reserved\b", "footer", "all rights reserved"),
    (
        r"(about us|contact us|privacy policy|terms of (use|service)|cookie (policy|settings))"
        r"( [|·•] .{0,200})?",
        "footer",
        "line",
    ),
)

#: Headers of related-story boxes. Sites put these inside articles too, so they are
#: dropped with a penalty but do not end the article.
RELATED: Final[tuple[Row, ...]] = (
    (
        r"(related|related (stories|articles|content|posts|coverage|news|links|reading)"
        r"|see also|read next|read also|also read|more on this( story| topic)?"
        r"|you (may|might) (also )?(like|be interested in|have missed)|recommended( for you)?"
        r"|most (popular|read|viewed|shared)( stories| articles| news| posts)?"
        r"|trending( now| stories)?|popular (stories|posts|now)"
        r"|editor'?s picks|latest (news|stories)|more stories|more from .{2,40}"
        r"|around the web|from the web|sponsored stories|other stories"
        r"|in other news|elsewhere on .{2,40}"
        # French: « Lire aussi : <headline> » is a link to another story.
        r"|(. )?lire (aussi|.galement)|voir aussi|sur le m.me sujet|les plus lus)"
        r"(\s*:.{0,200})?\s*:?",
        "related stories",
        "line",
    ),
)

#: ``Key: value`` header lines of plain-text exports, by the field they fill.
HEADER_KEYS: Final[dict[str, str]] = {
    "title": "title",
    "headline": "title",
    "date": "published",
    "published": "published",
    "published on": "published",
    "publication date": "published",
    "url": "url",
    "source": "url",
    "link": "url",
}


#: Capitalised labels that open a paragraph like a dateline ("BREAKING: ...") but are
#: not places.
NOT_PLACES: Final[frozenset[str]] = frozenset(
    {
        "breaking",
        "breaking news",
        "update",
        "updated",
        "exclusive",
        "watch",
        "live",
        "analysis",
        "opinion",
        "editorial",
        "editor's note",
        "editors note",
        "correction",
        "advertisement",
        "video",
        "photos",
        "listen",
        "read more",
        "related",
        "note",
    }
)

#: Chat-prompt role and instruction words: a line "SYSTEM: Ignore ..." is article text.
PROMPT_ROLES: Final[frozenset[str]] = frozenset(
    # Not "human", "ai" or "model": those open real headlines ("Human rights: ...").
    {"system", "assistant", "user", "developer", "instruction", "instructions", "prompt"}
)

Kind = Literal["end", "related", "boilerplate"]


class _Tables:
    """All three tables compiled for speed: the whole-line rows as one alternation (one
    regex call in C per line), the others tried only on lines that contain their word.

    Most lines match no whole-line row. A copy of the alternation without groups, matched
    case-sensitively on the lower-cased line, says so several times faster; only a line
    it does not rule out goes through the real alternation, for its row.
    """

    def __init__(self, tables: tuple[tuple[Kind, tuple[Row, ...]], ...]) -> None:
        rows = [(kind, row) for kind, table in tables for row in table]
        self.labels = {f"p{i}": (kind, label) for i, (kind, (_, label, _)) in enumerate(rows)}
        whole = [(i, p) for i, (_, (p, _, w)) in enumerate(rows) if w == "line"]
        self.line = re.compile("|".join(f"(?P<p{i}>{p})" for i, p in whole), re.IGNORECASE)
        self.folded = (
            re.compile("|".join(f"(?:{_uncaptured(p)})" for _, p in whole))
            if all(_lower_case(p) for _, p in whole)
            else None
        )
        self.contains = [
            (where, re.compile(pattern, re.IGNORECASE), (kind, label))
            for kind, (pattern, label, where) in rows
            if where != "line"
        ]

    def classify(self, line: str) -> tuple[Kind, str] | None:
        lowered = line.lower()
        if self._may_fill(line, lowered):
            match = self.line.fullmatch(line)
            if match is not None and match.lastgroup is not None:
                return self.labels[match.lastgroup]
        for word, pattern, found in self.contains:
            if word in lowered and pattern.search(line):
                return found
        return None

    def _may_fill(self, line: str, lowered: str) -> bool:
        """Not ruled out as a match of a whole-line row."""
        if self.folded is None or self.folded.fullmatch(lowered) is not None:
            return True
        return not line.isascii() and any(c in line for c in _UNFOLDED)


# The letters that re.IGNORECASE matches to an ASCII letter their lower case is not
# ("İ" and "ı" to "i", "ſ" to "s"): on a line with one, the folded test proves nothing.
_UNFOLDED: Final = ("İ", "ı", "ſ")
_GROUP_OR_SKIPPED = re.compile(r"\\.|\[\^?\]?(?:\\.|[^\]\\])*\]|\((?!\?)")


def _uncaptured(pattern: str) -> str:
    """``pattern`` with its groups made non-capturing (escapes and classes left alone)."""
    return _GROUP_OR_SKIPPED.sub(lambda m: "(?:" if m[0] == "(" else m[0], pattern)


def _lower_case(pattern: str) -> bool:
    """Cased letters, escapes aside, are lower-case ASCII and no escape names a character:
    the pattern then matches lower-cased text case-sensitively wherever it matches the
    text with re.IGNORECASE (bar ``_UNFOLDED``; every other character's lower case keeps
    its length, its class for ``\\s``, ``\\d`` and ``\\w``, and no other character's)."""
    if re.search(r"\\[0-9NUux]", pattern):
        return False
    bare = re.sub(r"\\.", "", pattern)
    return all(c in ascii_lowercase for c in bare if c.lower() != c.upper())


# End markers win over related headers, which win over plain furniture.
_TABLES: Final = _Tables((("end", END_MARKERS), ("related", RELATED), ("boilerplate", BOILERPLATE)))


def classify_line(line: str) -> tuple[Kind, str] | None:
    """``(kind, label)`` of the first row matching the (stripped) line, or None.

    ``kind`` is ``"end"`` (an end-of-article marker), ``"related"`` (a related-stories
    header) or ``"boilerplate"`` (furniture).
    """
    return _TABLES.classify(line)
