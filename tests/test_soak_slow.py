"""Crash-and-resume soak (marked ``slow``): 2,000 articles against the mock with 30 % of
requests faulty, the run killed with SIGKILL or SIGTERM at 8 random moments (2 of them
during ``--retry-errors``) and resumed each time. At the end the feed and the errors file
hold exactly one line per article, every line validates against its schema, and the tokens
in ``run-stats.json`` are what the mock says it served."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from summarise.mock import MockConfig, MockServer
from summarise.schema import errors_schema, feed_schema
from tests.helpers import EXAMPLES, MOCK_ENV, MOCK_MODEL, ROOT, read_jsonl

pytestmark = pytest.mark.slow

ARTICLES = 2_000


def write_articles(path: Path) -> list[str]:
    texts = [p.read_text(encoding="utf-8") for p in sorted(EXAMPLES.glob("*.txt"))]
    ids = [f"a{n:05d}" for n in range(ARTICLES)]
    with path.open("w", encoding="utf-8") as fh:
        for n, article_id in enumerate(ids):  # distinct titles: nothing is deduplicated
            line = {"id": article_id, "title": f"Report {n}", "text": texts[n % len(texts)]}
            fh.write(json.dumps(line) + "\n")
    return ids


def start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, **MOCK_ENV}
    argv = [sys.executable, "-m", "summarise", "run", *args, "--no-progress"]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)


def lines_in(path: Path) -> int:
    return len(path.read_bytes().splitlines()) if path.exists() else 0


def kill_once_writing(
    run: subprocess.Popen[bytes], watched: Path, how: signal.Signals, after_s: float
) -> int:
    """Send ``how`` ``after_s`` seconds after ``watched`` first grows (the run is working)."""
    before = lines_in(watched)
    deadline = time.monotonic() + 60
    while lines_in(watched) == before and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(after_s)
    if run.poll() is None:
        run.send_signal(how)
    code = run.wait(timeout=60)
    assert code in (-signal.SIGKILL, 143, 0, 1), code
    return code


def test_crash_and_resume_soak_keeps_exactly_one_line_per_article(tmp_path: Path) -> None:
    rng = random.Random(20261203)
    inputs = tmp_path / "in.jsonl"
    ids = write_articles(inputs)
    feed, errors = tmp_path / "feed.jsonl", tmp_path / "feed.errors.jsonl"
    faulty = MockConfig(fault_rate=0.3, fault_marker="<article>", keep_requests=False)
    with MockServer(faulty) as server:
        run = ["-o", str(feed), "--base-url", server.base_url, "--model", MOCK_MODEL]
        run += [str(inputs), "--max-retries", "2", "--concurrency", "16"]
        codes = []
        for how in (signal.SIGKILL, signal.SIGTERM) * 3:  # six kills in the first pass
            codes.append(kill_once_writing(start(*run), feed, how, rng.uniform(0.0, 3.0)))
        assert start(*run).wait(timeout=600) in (0, 1)  # the first pass completes
        assert lines_in(errors) > 0  # 30 % faults leave some errors to retry
        for how in (signal.SIGKILL, signal.SIGTERM):  # two kills during --retry-errors
            retrying = start(*run, "--retry-errors", "--concurrency", "1")
            codes.append(kill_once_writing(retrying, feed, how, rng.uniform(0.0, 0.5)))
        assert codes == [-signal.SIGKILL, 143] * 4  # every kill found the run at work
        served = server.stats
        # The last run: no probe completions (a forced format), so every token the mock
        # serves from here on belongs to an article of this run.
        last = start(*run, "--retry-errors", "--response-format", "json_schema")
        assert last.wait(timeout=600) in (0, 1)
        after = server.stats
    done, failed = read_jsonl(feed), read_jsonl(errors)
    assert sorted([line["id"] for line in done] + [line["id"] for line in failed]) == ids
    feed_validator = jsonschema.Draft202012Validator(feed_schema())
    errors_validator = jsonschema.Draft202012Validator(errors_schema())
    for line in done:
        feed_validator.validate(line)
    for line in failed:
        errors_validator.validate(line)
    stats = json.loads((tmp_path / "run-stats.json").read_text())
    assert stats["prompt_tokens"] == after.prompt_tokens - served.prompt_tokens
    assert stats["completion_tokens"] == after.completion_tokens - served.completion_tokens
