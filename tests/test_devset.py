"""The hand-annotated development set (tests/devset/) holds together.

Real articles from public sources (see tests/devset/README.md), each with a manifest line
(outlet, date, language, source, licence, split) and gold in the shape of tests/gold/. The
figures on it come from ``bench/bench_devset.py``; here only its consistency is checked:
every gold quote is verbatim in the cleaned text, splits are set, the counts hold.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from summarise.clean import clean
from summarise.evaluate import load_gold
from summarise.ingest import RawArticle, kind_for

DEVSET = Path(__file__).resolve().parent / "devset"


def manifest() -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for path in sorted(DEVSET.glob("manifest*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def article_files() -> dict[str, Path]:
    return {p.stem: p for p in (DEVSET / "articles").iterdir() if p.is_file()}


def cleaned_text(path: Path) -> str:
    data = path.read_bytes()
    raw = RawArticle(id=path.stem, path=str(path), data=data, kind=kind_for(str(path), data))
    return clean(raw).text


def test_every_article_has_a_manifest_line_gold_and_a_split() -> None:
    entries = manifest()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "an article listed twice"
    assert set(ids) == set(article_files()) == set(load_gold(DEVSET / "gold"))
    for entry in entries:
        assert entry["split"] in ("dev", "test"), entry["id"]
        assert entry["language"] in ("en", "fr"), entry["id"]
        assert entry["outlet"] and entry["date"], entry["id"]


def test_the_set_is_as_large_and_varied_as_promised() -> None:
    entries = manifest()
    languages = Counter(e["language"] for e in entries)
    assert len(entries) >= 30 and languages["fr"] >= 6
    assert len({e["outlet"] for e in entries}) >= 8
    assert len({str(e["date"])[:3] for e in entries}) >= 3, "several decades"
    for language in languages:
        splits = Counter(e["split"] for e in entries if e["language"] == language)
        assert splits["dev"] and splits["test"], f"{language}: both halves"


@pytest.mark.parametrize("article_id", sorted(article_files()))
def test_gold_quotes_are_verbatim_in_the_cleaned_text(article_id: str) -> None:
    gold = load_gold(DEVSET / "gold")[article_id]
    text = cleaned_text(article_files()[article_id])
    folded = " ".join(text.split())
    missing = [q.text for q in gold.quotes if " ".join(q.text.split()) not in folded]
    assert not missing, f"not in the cleaned text: {missing}"
