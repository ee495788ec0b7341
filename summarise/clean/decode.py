"""Decode: bytes -> text, and repair of mojibake, control characters and line breaks.

Unusable input (empty, binary, undecodable) raises ``CleanError`` with a stable code, so
that the pipeline writes an error record instead of a bad summary.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import is_bad

from summarise.clean.models import CleanError

_BINARY_MAGIC = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"BZh",
    b"\xfd7zXZ",
    b"7z\xbc\xaf",
    b"\x7fELF",
    b"\xd0\xcf\x11\xe0",
)
_CONTROL = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
# ftfy only needs to see a line that could hold mojibake, a control character, an HTML
# entity or an odd line break; skipping the rest keeps cleaning well under a millisecond.
_NEEDS_REPAIR = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00c2-\u00f4&\u2028\u2029\ufffd\ud800-\udfff]"
)
_FTFY = ftfy.TextFixerConfig(
    uncurl_quotes=False,  # quotes are matched verbatim later: keep ’ “ ” as they are
    fix_latin_ligatures=False,
    fix_character_width=False,
    explain=False,
)


def decode(data: bytes) -> str:
    """Bytes -> text: UTF-8 (with or without BOM), UTF-16 (BOM or not), else cp1252/latin-1.

    Raises ``CleanError`` with code ``empty``, ``binary`` or ``undecodable``.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16"))
        except UnicodeDecodeError as exc:
            raise CleanError(
                "undecodable", f"invalid UTF-16 after a byte-order mark: {exc}"
            ) from exc
    if not data or data.isspace():
        raise CleanError("empty", "the input is empty (nothing but whitespace)")
    if b"\x00" in data[:8192] and not data.startswith(_BINARY_MAGIC):
        utf16 = _utf16_without_bom(data)
        if utf16 is not None:
            return _check_text(utf16)
    if data.startswith(_BINARY_MAGIC) or b"\x00" in data[:8192]:
        raise CleanError(
            "binary", "the input is a binary file (PDF, image, archive, ...), not text or HTML"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    return _check_text(text)


_PRINTABLE = frozenset(b"\t\n\r" + bytes(range(0x20, 0x7F)))


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 text without a byte-order mark, told by its ASCII characters: in a sample
    of byte pairs, many are (ASCII, NUL) one way round and few are (ASCII, ASCII), which
    in UTF-16 would be CJK ideographs. ``None`` when it does not look like UTF-16."""
    sample = data[: 8192 - 8192 % 2]
    pairs = list(zip(sample[::2], sample[1::2], strict=False))
    for encoding, low in (("utf-16-le", 0), ("utf-16-be", 1)):
        ascii_nul = sum(1 for p in pairs if p[1 - low] == 0 and p[low] in _PRINTABLE)
        ascii_ascii = sum(1 for p in pairs if p[0] in _PRINTABLE and p[1] in _PRINTABLE)
        if ascii_nul >= max(2, len(pairs) // 10) and ascii_nul >= 4 * ascii_ascii:
            try:
                return data[: len(data) - len(data) % 2].decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _check_text(text: str) -> str:
    if not text or text.isspace():
        raise CleanError("empty", "the input is empty (nothing but whitespace)")
    sample = text[:8192]
    if _control_count(sample) > max(8, len(sample) // 50):
        raise CleanError(
            "undecodable", "the input is mostly control characters: not text in any encoding"
        )
    return text


def _control_count(text: str) -> int:
    """Control characters (not tab or line breaks) in ``text``, counted in C: they are
    ASCII, and no other character's UTF-8 holds an ASCII byte."""
    data = text.encode("utf-8", "surrogatepass")
    return len(data) - len(data.translate(None, _CONTROL))


# Not U+0085: in text that went through latin-1 it is half of a mojibake pair ftfy fixes.
_LINE_BREAKS = re.compile("\r\n?|[\x0b\x0c\u2028\u2029]")


def repair(text: str) -> str:
    """Fix mojibake and stray control characters with ftfy; quotes stay as they are.

    Every kind of line break becomes ``\\n`` first, so line numbers in ``removed`` are
    those of the input split at its line breaks, and ftfy never adds a line.
    """
    if "\r" in text or "\x0b" in text or "\x0c" in text or "\u2028" in text or "\u2029" in text:
        text = _LINE_BREAKS.sub("\n", text)
    text = _fix_lines(text)
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


def _may_need_repair(line: str) -> bool:
    if line.isascii():  # then only an entity's "&" or a control character, found in C
        return "&" in line or _control_count(line) > 0
    return _NEEDS_REPAIR.search(line) is not None


def _fix_lines(text: str) -> str:
    """ftfy on each line that could need it."""
    parts: list[str] = []
    done = 0  # the text before this is copied or fixed
    for start in _suspect_lines(text):
        end = text.find("\n", start)
        end = len(text) if end < 0 else end
        parts += (text[done:start], ftfy.fix_text(text[start:end], _FTFY))
        done = end
    return "".join([*parts, text[done:]]) if parts else text


# ASCII that is never a reason for ftfy: deleted from UTF-8, it leaves the control
# characters, any "&" and every non-ASCII character (no byte of one is ASCII).
_PLAIN_ASCII = bytes(set(range(0x80)) - set(_CONTROL + b"&"))


def _suspect_lines(text: str) -> list[int]:
    """Where the lines start that hold a character ftfy might fix (``_NEEDS_REPAIR``).

    Found with ``str.find``, many times faster than a regex scanning for the class, for
    each of the few such characters the text holds: the regex reads only what is left of
    the text's UTF-8 once the ASCII that never needs ftfy is deleted.
    """
    data = text.encode("utf-8", "surrogatepass").translate(None, _PLAIN_ASCII)
    starts = set()
    for char in set(_NEEDS_REPAIR.findall(data.decode("utf-8", "surrogatepass"))):
        at = text.find(char)
        while at >= 0:
            starts.add(text.rfind("\n", 0, at) + 1)
            end = text.find("\n", at)
            at = text.find(char, end) if end >= 0 else -1
    return sorted(starts)


def is_mojibake(line: str) -> bool:
    """A line ftfy could not repair that carries no readable words (``Â鶹´«Ã½``)."""
    if not _may_need_repair(line) or not is_bad(line):
        return False
    return sum(1 for w in line.split() if sum(c.isalpha() for c in w) >= 2) <= 3
