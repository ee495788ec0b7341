"""Corrections from the review page applied back to a feed (``summarise apply``), and a
reviewed feed taken as gold (``summarise eval --reviewed``), on records of the real seeds."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from summarise import summarise_article
from summarise.backends.offline import OfflineBackend
from summarise.corrections import Correction, apply_corrections, read_corrections
from summarise.errors import CorrectionsError
from summarise.evaluate import gold_from_reviewed
from summarise.feed import encode_line
from summarise.schema import Record
from tests.helpers import EXAMPLES, run_cli, schema_validator

WHEN = "2026-12-03T14:00:00.000Z"
NON_ASCII = """Spain and China agree to deepen trade ties

MADRID, March 3 — Spanish Foreign Minister José Manuel Albares Bueno met Chinese Foreign \
Minister Wang Yi in Madrid on Monday.

"我们愿意同西班牙加强合作," Wang said after the talks.

"Queremos una relación estable y predecible con China," Albares said, adding that the two \
sides discussed trade and climate.
"""


@cache
def seed_records() -> tuple[Record, ...]:
    """The offline extractor's records of the five seeds, as `summarise run` makes them."""
    backend = OfflineBackend()
    paths = sorted(EXAMPLES.glob("*.txt"))
    return tuple(summarise_article(p.read_bytes(), id=p.stem, backend=backend) for p in paths)


def busiest() -> Record:
    """The seed record with the most quotes and participants."""
    return max(seed_records(), key=lambda r: len(r.summary.quotes) + len(r.summary.participants))


def write_feed(path: Path, records: tuple[Record, ...] | list[Record]) -> Path:
    path.write_bytes(b"".join(encode_line(record) for record in records))
    return path


def verdict(
    record: Record, item: str, index: int, verdict: str, speaker: str | None = None
) -> dict[str, Any]:
    """A correction as the review page exports it, for the item at ``index`` of ``record``."""
    summary = record.summary
    text = summary.quotes[index].text if item == "quote" else summary.participants[index].name
    return {
        "id": record.id,
        "sha256": record.source.sha256,
        "item": item,
        "index": index,
        "text": text,
        "verdict": verdict,
        "speaker": speaker,
        "reviewed_at": WHEN,
    }


def accept_all(record: Record) -> list[dict[str, Any]]:
    return [verdict(record, "quote", i, "accept") for i in range(len(record.summary.quotes))] + [
        verdict(record, "participant", i, "accept") for i in range(len(record.summary.participants))
    ]


def write_corrections(path: Path, corrections: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in corrections), encoding="utf-8"
    )
    return path


def apply(tmp_path: Path, feed: Path, corrections: list[dict[str, Any]], *flags: str) -> Any:
    """``summarise apply FEED CORRECTIONS -o TMP/feed2.jsonl FLAGS``."""
    path = write_corrections(tmp_path / "corrections.jsonl", corrections)
    return run_cli("apply", str(feed), str(path), "-o", str(tmp_path / "feed2.jsonl"), *flags)


def records_of(path: Path) -> list[Record]:
    return [Record.model_validate_json(line) for line in path.read_bytes().splitlines()]


def test_verdicts_are_applied_and_every_line_validates(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    quotes, participants = record.summary.quotes, record.summary.participants
    result = apply(
        tmp_path,
        feed,
        [
            verdict(record, "quote", 0, "reject"),
            verdict(record, "quote", 1, "fix", speaker="  Wang Yi "),
            verdict(record, "quote", 3, "accept"),
            verdict(record, "participant", 0, "reject"),
            verdict(record, "participant", 1, "accept"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = tmp_path / "feed2.jsonl"
    validator = schema_validator("feed")
    for line in out.read_bytes().splitlines():
        Record.model_validate_json(line)
        validator.validate(json.loads(line))
    corrected = next(r for r in records_of(out) if r.id == record.id)
    review = corrected.provenance.review
    assert review is not None and not review.complete
    assert corrected.summary.quotes[0].text == quotes[1].text
    assert corrected.summary.quotes[0].speaker == "Wang Yi"
    assert [q.text for q in corrected.summary.quotes] == [q.text for q in quotes[1:]]
    assert corrected.summary.participants == participants[1:]
    assert review.rejected_quotes == [quotes[0]]
    assert review.rejected_participants == [participants[0]]
    assert [(i.item, i.index, i.verdict) for i in review.items] == [
        ("quote", 0, "reject"),
        ("quote", 1, "fix"),
        ("quote", 3, "accept"),
        ("participant", 0, "reject"),
        ("participant", 1, "accept"),
    ]
    assert review.items[1].speaker_was == quotes[1].speaker != "Wang Yi"
    assert review.items[0].speaker_was is None
    sha = hashlib.sha256((tmp_path / "corrections.jsonl").read_bytes()).hexdigest()
    assert review.corrections_sha256 == sha
    assert "1 records corrected (0 complete)" in result.stderr
    assert "2 accepted, 2 rejected, 1 fixed" in result.stderr


def test_records_without_corrections_are_copied_byte_for_byte(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    result = apply(tmp_path, feed, [verdict(record, "quote", 0, "accept")])
    assert result.exit_code == 0, result.output
    before = feed.read_bytes().splitlines()
    after = (tmp_path / "feed2.jsonl").read_bytes().splitlines()
    assert len(after) == len(before) == 5
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    assert changed == [seed_records().index(record)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "corrections.jsonl",
        "feed.jsonl",
        "feed2.jsonl",
    ]  # no temporary file left beside the output


def test_complete_only_when_every_item_left_has_a_verdict(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    every = accept_all(record)
    every[2] = verdict(record, "quote", 2, "reject")  # a rejected item needs no more verdicts
    assert apply(tmp_path, feed, every).exit_code == 0
    reviewed = next(r for r in records_of(tmp_path / "feed2.jsonl") if r.id == record.id)
    assert reviewed.provenance.review is not None and reviewed.provenance.review.complete
    assert apply(tmp_path, feed, every[1:]).exit_code == 0  # quote 0 has no verdict
    reviewed = next(r for r in records_of(tmp_path / "feed2.jsonl") if r.id == record.id)
    assert reviewed.provenance.review is not None and not reviewed.provenance.review.complete


def test_several_rejections_in_one_record_use_the_indexes_before_removal(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    quotes, participants = record.summary.quotes, record.summary.participants
    dropped_q, dropped_p = {1, 3, 4, len(quotes) - 1}, {0, 5, len(participants) - 1}
    corrections = [verdict(record, "quote", i, "reject") for i in sorted(dropped_q, reverse=True)]
    corrections += [verdict(record, "participant", i, "reject") for i in sorted(dropped_p)]
    corrections.append(verdict(record, "quote", 5, "fix", speaker="Somebody Else"))
    assert apply(tmp_path, feed, corrections).exit_code == 0
    corrected = next(r for r in records_of(tmp_path / "feed2.jsonl") if r.id == record.id)
    kept = [q.text for i, q in enumerate(quotes) if i not in dropped_q]
    assert [q.text for q in corrected.summary.quotes] == kept
    assert corrected.summary.quotes[kept.index(quotes[5].text)].speaker == "Somebody Else"
    assert corrected.summary.participants == [
        p for i, p in enumerate(participants) if i not in dropped_p
    ]
    review = corrected.provenance.review
    assert review is not None
    assert review.rejected_quotes == [quotes[i] for i in sorted(dropped_q)]
    assert review.rejected_participants == [participants[i] for i in sorted(dropped_p)]


def stale_by(kind: str, correction: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, dict[str, Any]] = {
        "sha256": {"sha256": "0" * 64},
        "text": {"text": "words this record never quoted"},
        "index": {"index": 99},
        "id": {"id": "not-in-the-feed"},
    }
    return {**correction, **changes[kind]}


STALE_WHY = {
    "sha256": "the article changed",
    "text": "the quote there is another one",
    "index": "out of range: the record has",
    "id": "no record with this id in the feed",
}


@pytest.mark.parametrize("kind", sorted(STALE_WHY))
def test_a_stale_correction_stops_with_nothing_written(tmp_path: Path, kind: str) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    good = verdict(record, "quote", 0, "reject")
    stale = stale_by(kind, verdict(record, "quote", 1, "accept"))
    result = apply(tmp_path, feed, [good, stale])
    assert result.exit_code == 2
    assert not (tmp_path / "feed2.jsonl").exists()
    assert "1 of the corrections do not match the feed" in result.stderr
    assert f"{stale['item']} {stale['index']}: {STALE_WHY[kind]}" in result.stderr
    assert repr(stale["id"]) in result.stderr


def test_skip_stale_applies_the_others_and_lists_what_it_skipped(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    stale = stale_by("text", verdict(record, "quote", 1, "reject"))
    result = apply(tmp_path, feed, [verdict(record, "quote", 0, "reject"), stale], "--skip-stale")
    assert result.exit_code == 0, result.output
    assert "skipped 1 stale corrections" in result.stderr
    assert "quote 1: the quote there is another one" in result.stderr
    corrected = next(r for r in records_of(tmp_path / "feed2.jsonl") if r.id == record.id)
    assert [q.text for q in corrected.summary.quotes] == [q.text for q in record.summary.quotes[1:]]


def test_many_stale_corrections_are_listed_twenty_then_counted() -> None:
    record = busiest()
    corrections = [
        Correction.model_validate({**verdict(record, "quote", 0, "accept"), "id": f"gone-{n}"})
        for n in range(25)
    ]
    with pytest.raises(CorrectionsError) as caught:
        apply_corrections([record], corrections, corrections_sha256="0" * 64)
    assert caught.value.code == "corrections_stale" and caught.value.stage == "review"
    assert "'gone-19'" in caught.value.message and "'gone-20'" not in caught.value.message
    assert "... and 5 more" in caught.value.message


BAD_LINES = {
    "not JSON": ('{"id": "x",', "not JSON"),
    "unknown verdict": ({"verdict": "maybe"}, "verdict: Input should be 'accept', 'reject'"),
    "fix without speaker": ({"verdict": "fix"}, "speaker: 'fix' needs the new speaker"),
    "blank speaker": ({"verdict": "fix", "speaker": "  "}, "speaker: 'fix' needs the new"),
    "extra key": ({"comment": "looks fine"}, "unknown field 'comment'"),
    "fix of a participant": (
        {"item": "participant", "text": "x", "verdict": "fix", "speaker": "y"},
        "speaker: 'fix' corrects a quote's speaker",
    ),
    "speaker on accept": ({"speaker": "Wang Yi"}, "speaker: only a 'fix' has a speaker"),
    "missing field": ({"text": None}, "text: Field required"),
    "negative index": ({"index": -1}, "index: Input should be greater than or equal to 0"),
    "index as text": ({"index": "0"}, "index: Input should be a valid integer"),
    "local time": ({"reviewed_at": "2026-12-03T15:00:00+01:00"}, "reviewed_at: not a UTC"),
    "not a list item": ([1, 2], "not a correction: Input should be an object"),
}


def _changed(correction: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
    """``correction`` with the keys of ``change`` set, or dropped where they are None."""
    changed = {**correction, **change}
    return {key: value for key, value in changed.items() if value is not None or key == "speaker"}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_an_invalid_corrections_line_is_named_with_its_field(tmp_path: Path, case: str) -> None:
    change, expected = BAD_LINES[case]
    good = verdict(busiest(), "quote", 0, "accept")
    bad = change if isinstance(change, str | list) else _changed(good, change)
    path = tmp_path / "corrections.jsonl"
    path.write_text(
        json.dumps(good) + "\n\n" + (bad if isinstance(bad, str) else json.dumps(bad)) + "\n"
    )
    with pytest.raises(CorrectionsError) as caught:
        read_corrections(path)
    assert caught.value.code == "corrections_invalid"
    assert caught.value.message.startswith(f"{path}:3: ")
    assert expected in caught.value.message


def test_an_invalid_corrections_file_exits_2_through_the_cli(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    corrections = tmp_path / "corrections.jsonl"
    corrections.write_text("not json\n")
    result = run_cli("apply", str(feed), str(corrections), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 2
    assert f"{corrections}:1: not JSON" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_of_several_lines_for_one_item_the_last_wins(tmp_path: Path) -> None:
    record = busiest()
    first, last = verdict(record, "quote", 0, "accept"), verdict(record, "quote", 0, "reject")
    other = verdict(record, "quote", 1, "accept")
    path = write_corrections(tmp_path / "c.jsonl", [first, other, last])
    assert [(c.index, c.verdict) for c in read_corrections(path)] == [
        (1, "accept"),
        (0, "reject"),
    ]


@pytest.mark.parametrize("target", ["feed.jsonl", "corrections.jsonl", "./feed.jsonl"])
def test_the_output_may_not_be_an_input(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    before = feed.read_bytes()
    path = write_corrections(
        tmp_path / "corrections.jsonl", [verdict(busiest(), "quote", 0, "reject")]
    )
    result = run_cli("apply", str(feed), str(path), "-o", target)
    assert result.exit_code == 2
    assert "write the corrected feed elsewhere" in result.stderr
    assert feed.read_bytes() == before


def test_a_bad_feed_line_is_named(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    with open(feed, "ab") as fh:
        fh.write(b'{"id": "half a record"}\n')
    result = apply(tmp_path, feed, [verdict(busiest(), "quote", 0, "accept")])
    assert result.exit_code == 2
    assert f"{feed}:6: not a feed record: source: Field required" in result.stderr
    assert not (tmp_path / "feed2.jsonl").exists()


def test_the_last_line_of_an_id_is_the_one_corrected_and_kept(tmp_path: Path) -> None:
    records = list(seed_records())
    record = busiest()
    older = record.model_copy(update={"summary": record.summary.model_copy(update={"quotes": []})})
    feed = write_feed(tmp_path / "feed.jsonl", [older, *records])
    assert apply(tmp_path, feed, [verdict(record, "quote", 0, "reject")]).exit_code == 0
    out = records_of(tmp_path / "feed2.jsonl")
    assert [r.id for r in out] == [r.id for r in records]
    corrected = out[records.index(record)]
    assert len(corrected.summary.quotes) == len(record.summary.quotes) - 1


def test_a_reviewed_feed_reviewed_again_merges_the_reviews(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    quotes = record.summary.quotes
    first = [verdict(record, "quote", 0, "reject"), verdict(record, "quote", 1, "accept")]
    assert apply(tmp_path, feed, first).exit_code == 0
    once = tmp_path / "once.jsonl"
    (tmp_path / "feed2.jsonl").rename(once)
    reviewed = next(r for r in records_of(once) if r.id == record.id)
    # The second page was made from the reviewed feed: its indexes are after the removal.
    second = accept_all(reviewed)
    second[0] = verdict(reviewed, "quote", 0, "fix", speaker="Somebody Else")
    second[1] = verdict(reviewed, "quote", 1, "reject")
    result = apply(tmp_path, once, second)
    assert result.exit_code == 0, result.output
    twice = next(r for r in records_of(tmp_path / "feed2.jsonl") if r.id == record.id)
    review = twice.provenance.review
    assert review is not None and review.complete
    assert [(i.index, i.verdict) for i in review.items[:4]] == [
        (0, "reject"),
        (1, "accept"),
        (0, "fix"),
        (1, "reject"),
    ]
    assert review.items[0].text == quotes[0].text and review.items[2].text == quotes[1].text
    assert review.rejected_quotes == [quotes[0], quotes[2]]
    assert [q.text for q in twice.summary.quotes] == [q.text for q in quotes[1:2] + quotes[3:]]
    assert twice.summary.quotes[0].speaker == "Somebody Else"
    sha = hashlib.sha256((tmp_path / "corrections.jsonl").read_bytes()).hexdigest()
    assert review.corrections_sha256 == sha


def non_ascii_record() -> Record:
    return summarise_article(NON_ASCII, id="non-ascii", backend=OfflineBackend())


def test_non_ascii_names_and_quotes_round_trip(tmp_path: Path) -> None:
    record = non_ascii_record()
    names = [p.name for p in record.summary.participants]
    chinese = next(i for i, q in enumerate(record.summary.quotes) if "合作" in q.text)
    assert "José Manuel Albares Bueno" in names
    feed = write_feed(tmp_path / "feed.jsonl", [record])
    corrections = accept_all(record)
    corrections[chinese] = verdict(record, "quote", chinese, "fix", speaker="王毅")
    result = apply(tmp_path, feed, corrections)
    assert result.exit_code == 0, result.output
    text = (tmp_path / "feed2.jsonl").read_text(encoding="utf-8")
    assert "José Manuel Albares Bueno" in text and "王毅" in text  # UTF-8, not escapes
    (corrected,) = records_of(tmp_path / "feed2.jsonl")
    assert corrected.summary.quotes[chinese].speaker == "王毅"
    assert corrected.summary.quotes[chinese].text == record.summary.quotes[chinese].text
    gold, skipped = gold_from_reviewed(tmp_path / "feed2.jsonl")
    assert skipped == [] and gold["non-ascii"].participants[0].aliases == ["Bueno"]


def eval_scores(feed: Path, reviewed: Path) -> tuple[dict[str, Any], str]:
    result = run_cli("eval", str(feed), "--reviewed", str(reviewed), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["overall"], result.stderr


def value(scores: dict[str, Any], name: str) -> float | None:
    found: float | None = scores[name]["value"]
    return found


def test_a_fully_reviewed_feed_scores_one_against_itself(tmp_path: Path) -> None:
    records = [*seed_records(), non_ascii_record()]
    feed = write_feed(tmp_path / "feed.jsonl", records)
    corrections = [c for record in records for c in accept_all(record)]
    assert apply(tmp_path, feed, corrections).exit_code == 0
    reviewed = tmp_path / "feed2.jsonl"
    scores, stderr = eval_scores(reviewed, reviewed)
    for name in (
        "participant_precision",
        "participant_recall",
        "core_participant_recall",
        "quote_recall",
        "speaker_accuracy",
    ):
        assert value(scores, name) == 1.0, name
    assert value(scores, "issue_recall") is None and value(scores, "outcome_recall") is None
    assert "gold: 6 reviewed records; 0 skipped" in stderr


def test_a_fixed_speaker_lowers_the_original_feeds_speaker_accuracy(tmp_path: Path) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    record = busiest()
    corrections = accept_all(record)
    corrections[1] = verdict(record, "quote", 1, "fix", speaker="Somebody Else")
    assert apply(tmp_path, feed, corrections).exit_code == 0
    scores, stderr = eval_scores(feed, tmp_path / "feed2.jsonl")
    speaker = value(scores, "speaker_accuracy")
    assert speaker is not None and speaker < 1.0
    assert value(scores, "quote_recall") == 1.0
    assert "gold: 1 reviewed records; 4 skipped" in stderr


def test_records_whose_review_is_not_complete_are_skipped_and_counted(tmp_path: Path) -> None:
    records = seed_records()
    feed = write_feed(tmp_path / "feed.jsonl", records)
    full, partial = records[0], records[1]
    corrections = accept_all(full) + accept_all(partial)[1:]
    assert apply(tmp_path, feed, corrections).exit_code == 0
    gold, skipped = gold_from_reviewed(tmp_path / "feed2.jsonl")
    assert list(gold) == [full.id]
    assert sorted(skipped) == sorted(r.id for r in records[1:])
    _, stderr = eval_scores(feed, tmp_path / "feed2.jsonl")
    assert "gold: 1 reviewed records; 4 skipped (review not complete, or none)" in stderr


@pytest.mark.parametrize("flags", [[], ["--gold", "tests/gold", "--reviewed", "x.jsonl"]])
def test_eval_takes_exactly_one_source_of_gold(tmp_path: Path, flags: list[str]) -> None:
    feed = write_feed(tmp_path / "feed.jsonl", seed_records())
    result = run_cli("eval", str(feed), *flags)
    assert result.exit_code == 2
    assert "pass exactly one of --gold DIR and --reviewed FEED" in result.stderr
