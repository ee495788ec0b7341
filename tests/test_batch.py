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


def test_token_budget_stops_the_run_cleanly_and_a_rerun_finishes(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    with MockServer(MockConfig()) as server:
        stopped = run_mock(server, feed, "--concurrency", "1", "--max-tokens-per-run", "1")
        first = ids(feed)
        resumed = run_mock(server, feed, "--concurrency", "1")
    assert stopped.exit_code == 3, stopped.stderr
    assert "token budget of 1 reached" in stopped.stderr and "run again" in stopped.stderr
    assert len(first) == 1  # the budget is checked before each new article is sent
    stats = json.loads((tmp_path / "run-stats.json").read_text())
    assert resumed.exit_code == 0 and stats["skipped"] == 1 and stats["ok"] == 4
    assert sorted(ids(feed)) == SEED_IDS


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
