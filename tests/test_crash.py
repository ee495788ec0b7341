"""Crash safety (issue 5): a run killed with SIGKILL and restarted loses and repeats nothing.

1,000 small distinct articles go through ``python -m summarise run`` against the mock
server (a separate process, loopback only). The run is killed at several seeded random
moments, a torn half line is appended to the feed by hand once (a kill in the middle of a
write), and the run is restarted with the same output each time until it completes. At the
end the feed and the errors file hold exactly one parseable line per input id.

Marked ``slow`` (about 20 s): the crash-and-resume soak (tests/test_soak_slow.py) runs
beside it in the slow part of CI.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from summarise.mock import serve_in_process
from tests.helpers import schema_validator

ARTICLES = 1000
CONCURRENCY = 16
KILLS = 4
EMPTY_EVERY = 50  # every 50th article is empty: an error record, so both files take part
SEED = 20240409


def write_input(path: Path) -> list[str]:
    """JSONL of distinct articles (distinct text, so de-duplication merges none)."""
    ids = []
    with path.open("w", encoding="utf-8") as fh:
        for i in range(ARTICLES):
            article_id = f"a-{i:04d}"
            ids.append(article_id)
            text = (
                ""
                if i % EMPTY_EVERY == 7
                else f"Foreign Minister Aldor met envoy number {i} in Geneva on Tuesday to "
                "discuss trade and security.\n\n"
                f"The talks, round {i} this year, covered tariffs and border crossings, "
                "officials said.\n\n"
                f'"We agreed to keep talking about item {i} on the agenda," Aldor told '
                "reporters after the meeting."
            )
            fh.write(json.dumps({"id": article_id, "text": text}) + "\n")
    return ids


@pytest.fixture
def mock_process() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The mock server as its own process; yields (base URL, process)."""
    with serve_in_process("--latency", "0.005", "--stats") as running:
        yield running


class LineCounter:
    """Complete (newline-terminated) lines in some files, reading only what was appended."""

    def __init__(self, *paths: Path) -> None:
        self.paths = paths
        self.read_to = dict.fromkeys(paths, 0)
        self.lines = 0

    def __call__(self) -> int:
        for path in self.paths:
            if not path.exists():
                continue
            if path.stat().st_size < self.read_to[path]:  # cut by a torn-line repair
                self.read_to = dict.fromkeys(self.paths, 0)
                self.lines = 0
                return self()
            with path.open("rb") as fh:
                fh.seek(self.read_to[path])
                chunk = fh.read()
            complete = chunk.rfind(b"\n") + 1
            self.lines += chunk.count(b"\n", 0, complete)
            self.read_to[path] += complete
        return self.lines


@pytest.mark.slow
def test_sigkill_at_random_moments_then_resume_loses_and_repeats_nothing(
    tmp_path: Path, mock_process: tuple[str, subprocess.Popen[str]]
) -> None:
    url, mock = mock_process
    source = tmp_path / "input.jsonl"
    ids = write_input(source)
    feed, errors = tmp_path / "feed.jsonl", tmp_path / "feed.errors.jsonl"
    argv = [sys.executable, "-m", "summarise", "run", str(source), "-o", str(feed)]
    argv += ["--base-url", url, "--model", "mock-model", "--no-progress"]
    argv += ["--concurrency", str(CONCURRENCY)]
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "SUMMARISE_MODEL")}
    env["OPENAI_API_KEY"] = "sk-test"

    def start(log: Path) -> subprocess.Popen[bytes]:
        # stderr to a file, not a pipe: nobody reads a killed run's pipe, and a full one blocks
        with log.open("wb") as fh:
            return subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=fh)

    rng = random.Random(SEED)
    finished_lines = LineCounter(feed, errors)
    torn_id = None
    for kill in range(KILLS):
        run = start(tmp_path / f"run-{kill}.log")
        target = finished_lines() + rng.randint(40, 160)
        deadline = time.monotonic() + 60
        while finished_lines() < target and run.poll() is None:
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.05))
        assert run.poll() is None, "the run ended before it could be killed"
        run.send_signal(signal.SIGKILL)
        run.wait()
        if kill == 1:
            # A kill in the middle of a write: the first half of a line, no newline.
            written = feed.read_bytes()
            last = written[: written.rfind(b"\n")].rsplit(b"\n", 1)[-1]  # last complete line
            torn_id = json.loads(last)["id"]
            with feed.open("ab") as fh:
                fh.write(last[: len(last) // 2])

    log = tmp_path / "run-final.log"
    final = start(log)
    final.wait(timeout=120)
    assert final.returncode in (0, 1), log.read_text()  # 1 if this run wrote an error record
    assert "already done" in log.read_text()

    # Every line is complete JSON; every input id is in exactly one of the two files.
    feed_raw, errors_raw = feed.read_bytes(), errors.read_bytes()
    assert feed_raw.endswith(b"\n") and errors_raw.endswith(b"\n")
    records = [json.loads(line) for line in feed_raw.splitlines()]
    failures = [json.loads(line) for line in errors_raw.splitlines()]
    counts = Counter(line["id"] for line in [*records, *failures])
    assert [article_id for article_id, n in counts.items() if n > 1] == []
    assert sorted(counts) == ids
    assert len(records) + len(failures) == ARTICLES
    assert torn_id in counts  # the torn copy was cut; the complete line before it stays
    assert {f["error"] for f in failures} == {"empty"}
    assert len(failures) == ARTICLES // EMPTY_EVERY

    # The feed is what `summarise schema` promises; the errors file likewise.
    feed_validator, errors_validator = schema_validator("feed"), schema_validator("errors")
    for record in records:
        feed_validator.validate(record)
    for failure in failures:
        errors_validator.validate(failure)

    # Resuming redid only what was in flight at each kill, not the whole input.
    mock.terminate()
    _, mock_stderr = mock.communicate(timeout=10)
    served = json.loads(mock_stderr.strip().splitlines()[-1])["chat_requests"]
    probes = KILLS + 1  # one response_format probe per start (the mock enforces json_schema)
    assert served <= len(records) + KILLS * CONCURRENCY + probes
