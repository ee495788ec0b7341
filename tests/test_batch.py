"""Batch options end to end: --shard, --max-tokens-per-run, --retry-errors, resuming.

The mock server's answers are synthetic (generated from each request); the offline runs
need no server at all.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from summarise.mock import MockConfig, MockServer
from tests.helpers import EXAMPLES, SEED_IDS, read_jsonl, run_against, run_cli


def ids(path: Path) -> list[str]:
    return [line["id"] for line in read_jsonl(path)]


def run_mock(server: MockServer, feed: Path, *args: str) -> Any:
    return run_against(server, str(EXAMPLES), "-o", str(feed), *args)


@pytest.mark.usefixtures("no_endpoint_env")
def test_shards_split_the_input_without_overlap_and_deterministically(tmp_path: Path) -> None:
    shards = {}
    for k in (1, 2, 3):
        feed = tmp_path / f"shard{k}.jsonl"
        argv = ["run", str(EXAMPLES), "-o", str(feed), "--shard", f"{k}/3", "--no-progress"]
        assert run_cli(*argv).exit_code == 0
        shards[k] = ids(feed)
    every = [article for shard in shards.values() for article in shard]
    assert sorted(every) == SEED_IDS  # each article in exactly one shard
    again = tmp_path / "again.jsonl"
    argv = ["run", str(EXAMPLES), "-o", str(again), "--shard", "2/3", "--no-progress"]
    run_cli(*argv)
    assert ids(again) == shards[2]


def many_articles(path: Path, copies: int) -> Path:
    """The seeds ``copies`` times over as one JSONL file, each copy distinct by its title
    (so that none is deduplicated)."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    lines = [
        json.dumps({"id": f"a{n}", "title": f"Copy {n}", "text": texts[n % len(texts)]})
        for n in range(copies)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("concurrency", ["8", "32"])
def test_the_token_budget_is_never_overspent_and_a_rerun_finishes(
    tmp_path: Path, concurrency: str
) -> None:
    articles = many_articles(tmp_path / "in.jsonl", 30)
    feed = tmp_path / "feed.jsonl"
    budget = ["--max-tokens-per-run", "20000", "--concurrency", concurrency]
    with MockServer(MockConfig()) as server:
        stopped = run_against(server, str(articles), "-o", str(feed), *budget)
        spent = json.loads((tmp_path / "run-stats.json").read_text())
        served = server.stats
        resumed = run_against(server, str(articles), "-o", str(feed))
    assert stopped.exit_code == 3, stopped.stderr
    assert "token budget of 20000 reached" in stopped.stderr and "run again" in stopped.stderr
    assert 0 < spent["ok"] < 30
    assert spent["prompt_tokens"] + spent["completion_tokens"] <= 20000
    assert served.chat_requests >= spent["ok"]
    assert resumed.exit_code == 0
    assert sorted(ids(feed)) == sorted(f"a{n}" for n in range(30))  # each once


def test_errors_are_retried_only_when_asked_and_then_leave_the_errors_file(
    tmp_path: Path,
) -> None:
    feed, errors = tmp_path / "feed.jsonl", tmp_path / "feed.errors.jsonl"
    failing = MockConfig(faults={"Shoigu": ["500"] * 5})  # only seed 004 mentions Shoigu
    with MockServer(failing) as server:
        first = run_mock(server, feed, "--max-retries", "0")
    [failed] = ids(errors)
    with MockServer(MockConfig()) as server:
        skipped = run_mock(server, feed)
        assert server.stats.chat_requests == 1  # the probe only: the failure is not retried
        retried = run_mock(server, feed, "--retry-errors")
    assert first.exit_code == 1 and failed.startswith("004")
    assert skipped.exit_code == 0 and "5 already done" in skipped.stderr
    assert retried.exit_code == 0
    assert sorted(ids(feed)) == SEED_IDS and ids(errors) == []
