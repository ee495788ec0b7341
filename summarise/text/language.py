"""Language: which language an article is written in, cheaply, from its commonest words.

The offline extractor reads English and French; for anything else it should say so
rather than return an empty summary that looks like a reading. Counting a handful of
stopwords per language (and the script, for languages not written in Latin letters) is
enough to tell news articles apart; no model, no dependency.

>>> detect("Le ministre a déclaré que les pourparlers avaient été utiles.")
'fr'
"""

from __future__ import annotations

import re
from collections import Counter

from summarise.text.vocabulary import STOPWORDS

SUPPORTED = frozenset({"en", "fr"})
"""Languages the offline extractor reads."""
NAMES = {
    "en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian",
    "pt": "Portuguese", "nl": "Dutch", "ru": "Russian", "uk": "Ukrainian", "ar": "Arabic",
    "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
}  # fmt: skip

# Scripts that name a language on their own (a few letters tell Ukrainian from Russian).
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("uk", re.compile(r"[іїєґІЇЄҐ]")),
    ("ru", re.compile(r"[а-яА-ЯёЁ]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af]")),
    ("zh", re.compile(r"[\u4e00-\u9fff]")),
)
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SAMPLE = 4000  # characters: the opening of an article says what language it is in
_MIN_HITS = 3  # fewer stopwords than this: too little text to tell


def detect(text: str) -> str | None:
    """The article's language as an ISO 639-1 code, or None when there is too little
    text to tell."""
    sample = text[:_SAMPLE]
    letters = sum(c.isalpha() for c in sample)
    for code, script in _SCRIPTS:
        if letters and len(script.findall(sample)) > letters / 3:
            return code
    counts: Counter[str] = Counter()
    for word in _WORD.findall(sample.lower()):
        for code in STOPWORDS.get(word, ()):
            counts[code] += 1
    if not counts:
        return None
    ranked = counts.most_common(2)
    best, hits = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0
    return best if hits >= _MIN_HITS and hits > runner_up else None


def name(code: str) -> str:
    """A language's English name ("fr" -> "French"), or the code when unknown."""
    return NAMES.get(code, code)
