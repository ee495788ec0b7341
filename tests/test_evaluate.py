"""Scoring against gold, and the offline backend's targets on the five seeds."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from summarise.backends.offline.extractor import extract
from summarise.clean import clean
from summarise.evaluate import (
    FeedError,
    evaluate,
    format_table,
    load_gold,
    read_feed,
    token_overlap,
)
from summarise.ground import ground_summary
from summarise.schema import Article, Provenance, Record, Source, Usage
from tests.helpers import EXAMPLES, raw_seed

GOLD = Path(__file__).resolve().parent / "gold"


@cache
def offline_records() -> tuple[dict[str, Any], ...]:
    """What `summarise run examples/` writes with the offline backend, reduced to what
    evaluation reads (id, article text, summary)."""
    records = []
    for path in sorted(EXAMPLES.glob("*.txt")):
        article = clean(raw_seed(path))
        summary, _ = ground_summary(extract(article), article.text, published=article.published)
        records.append(
            {
                "id": path.stem,
                "article": {"text": article.text},
                "summary": summary.model_dump(mode="json"),
            }
        )
    return tuple(records)


def test_offline_backend_meets_the_targets_on_the_seeds() -> None:
    report = evaluate(offline_records(), load_gold(GOLD))
    scores = report.summary()
    assert report.missing == [] and len(report.articles) == 5
    assert scores["core_participant_recall"] == 1.0
    assert scores["quote_recall"] is not None and scores["quote_recall"] >= 0.9
    assert scores["speaker_accuracy"] is not None and scores["speaker_accuracy"] >= 0.9
    assert scores["quotes_verbatim"] == 1.0
    assert scores["quotes_grounded"] == 1.0


def test_gold_quotes_are_verbatim_in_their_seed_and_speakers_are_known() -> None:
    gold = load_gold(GOLD)
    assert sorted(gold) == sorted(p.stem for p in EXAMPLES.glob("*.txt"))
    for article_id, entry in gold.items():
        raw = (EXAMPLES / f"{article_id}.txt").read_text(encoding="utf-8")
        names = {p.name for p in entry.participants}
        assert any(p.core for p in entry.participants)
        for quote in entry.quotes:
            assert quote.text in raw, quote.text
            assert quote.speaker is None or quote.speaker in names or quote.speaker_aliases


def record(quotes: list[dict[str, Any]], participants: list[str] | None = None) -> dict[str, Any]:
    text = 'Lavrov said "we are ready to talk" and Blinken said "so are we."'
    return {
        "id": "a",
        "article": {"text": text},
        "summary": {
            "participants": [{"name": n} for n in participants or []],
            "quotes": quotes,
            "issues": [
                {"topic": "talks", "summary": "Both sides are ready for talks.", "positions": []}
            ],
            "outcomes": [],
        },
    }


def small_gold(tmp_path: Path) -> Path:
    entry = {
        "id": "a",
        "participants": [
            {"name": "Sergey Lavrov", "aliases": ["Lavrov"], "core": True},
            {"name": "Antony Blinken", "aliases": ["Blinken"], "core": True},
            {"name": "Paul Whelan", "aliases": ["Paul Whelan"]},
        ],
        "quotes": [
            {"speaker": "Sergey Lavrov", "text": "we are ready to talk"},
            {"speaker": "Antony Blinken", "text": "so are we."},
        ],
        "issues": [{"label": "talks", "keywords": [["talk"], ["ready"]]}],
        "outcomes": [{"label": "a deal", "keywords": [["deal"]]}],
    }
    (tmp_path / "a.json").write_text(json.dumps(entry), encoding="utf-8")
    return tmp_path


def test_scores_count_precision_recall_speakers_and_verbatim_quotes(tmp_path: Path) -> None:
    quotes: list[dict[str, Any]] = [
        {"speaker": "Lavrov", "text": "we are ready to talk", "span": [13, 33], "grounded": True},
        {"speaker": "Lavrov", "text": "so are we.", "span": None, "grounded": False},
    ]
    report = evaluate(
        [record(quotes, ["Sergey Lavrov", "Whelan", "Lavrov"])], load_gold(small_gold(tmp_path))
    )
    s = report.overall
    assert (s.participant_precision.hits, s.participant_precision.total) == (
        1,
        3,
    )  # a duplicate, a guess
    assert (s.core_participant_recall.hits, s.core_participant_recall.total) == (1, 2)
    assert (s.quote_recall.hits, s.quote_recall.total) == (2, 2)
    assert (s.speaker_accuracy.hits, s.speaker_accuracy.total) == (1, 2)
    assert (s.quotes_verbatim.hits, s.quotes_grounded.hits) == (2, 1)
    assert (s.issue_recall.value, s.outcome_recall.value) == (1.0, 0.0)
    assert report.articles[0].wrong_speakers and report.articles[0].missed_outcomes == ["a deal"]


def test_a_paraphrase_below_the_overlap_threshold_is_not_a_found_quote() -> None:
    assert token_overlap("we are ready to talk", "We are ready to talk.") == 1.0
    assert token_overlap("we are ready to talk now", "we are keen to meet now") < 0.8


def test_a_record_object_a_missing_article_and_an_unknown_id(tmp_path: Path) -> None:
    r = record([])
    rec = Record(
        id="b",
        source=Source(path=None, url=None, sha256="0" * 64),
        article=Article(
            title=None, published=None, text=r["article"]["text"], chars_raw=1, chars_clean=1
        ),
        summary={  # type: ignore[arg-type]
            "headline": "h",
            "event": {"kind": "other", "date": None, "location": None},
            **r["summary"],
            "issues": [],
        },
        provenance=Provenance(
            backend="offline",
            model=None,
            endpoint=None,
            prompt_version="x",
            attempts=0,
            usage=Usage(),
            latency_s=0.0,
            finish_reason=None,
            created_at="2024-01-01T00:00:00+00:00",
        ),
    )
    report = evaluate([rec], load_gold(small_gold(tmp_path)))
    assert report.missing == ["a"] and report.unscored == ["b"]
    assert report.overall.quote_recall.hits == 0 and report.overall.quote_recall.total == 2


def test_table_and_json_carry_the_same_numbers(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in offline_records()) + "\n\n", encoding="utf-8")
    report = evaluate(read_feed(feed), load_gold(GOLD))
    table = format_table(report)
    assert table.splitlines()[0].split()[:3] == ["article", "part", "P"]
    recall = report.overall.quote_recall
    assert "overall" in table and f"quote R={recall.hits}/{recall.total}" in table
    data = json.loads(report.model_dump_json())
    assert data["overall"]["quote_recall"]["value"] == report.overall.quote_recall.value
    assert [a["id"] for a in data["articles"]] == sorted(p.stem for p in EXAMPLES.glob("*.txt"))


def as_v1_line(record: dict[str, Any]) -> str:
    """A record as schema version 1 wrote it: string warnings, no match, no mentions."""
    summary = json.loads(json.dumps(record["summary"]))
    for quote in summary["quotes"]:
        quote.pop("match")
    for participant in summary["participants"]:
        participant.pop("mentions")
        participant.pop("attested")
    line = {
        "schema_version": "1",
        "id": record["id"],
        "source": {"path": None, "url": None, "sha256": "0" * 64},
        "article": {**record["article"], "title": None, "published": None},
        "summary": summary,
        "provenance": {"backend": "offline", "prompt_version": "offline-1"},
        "warnings": ["extractive: issues and outcomes are source sentences"],
    }
    return json.dumps(line)


def test_a_v1_feed_scores_the_same_as_the_v2_one(tmp_path: Path) -> None:
    v1 = tmp_path / "v1.jsonl"
    v1.write_text("\n".join(as_v1_line(r) for r in offline_records()) + "\n", encoding="utf-8")
    assert evaluate(read_feed(v1), load_gold(GOLD)) == evaluate(offline_records(), load_gold(GOLD))


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "feed.jsonl:2"),
        ('["a list"]', "not a feed record"),
        ('{"summary": {}}', "id"),
    ],
)
def test_an_unreadable_feed_line_is_a_feed_error_naming_the_line(
    tmp_path: Path, line: str, says: str
) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(json.dumps(record([])) + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(FeedError) as caught:
        list(read_feed(feed))
    assert says in caught.value.message and caught.value.code == "feed_unreadable"
